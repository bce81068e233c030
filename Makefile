# The two commands: `make run` and `make test`. Everything else is a step they use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
LOCALES := sv en ar fa so ti uk ckb
export FLASK_APP := app:create_app

.PHONY: run test test-unit test-e2e lint translations extract compile bench loadtest client clean

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/flask

compile: venv
	$(BIN)/pybabel -q compile -d translations

run: venv compile
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@cat instance/demo-logins.txt 2>/dev/null || true
	@echo "Sign in at http://127.0.0.1:$(PORT)/login"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: venv compile lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-e2e: venv compile
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check app tests $(wildcard bench)

# Translation workflow: extract new strings, merge them into every catalogue, then translate.
extract: venv
	$(BIN)/pybabel -q extract -F translations/babel.cfg -k _l -o translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m app.i18n_tools fill-source translations/sv/LC_MESSAGES/messages.po

# make bench [QUICK=1] [NATIONAL=1] [DATABASE_URL=postgresql+psycopg://…]: see bench/README.md
# (only a DATABASE_URL given on the command line: never the app's own from the environment)
bench: venv compile
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,) $(if $(NATIONAL),--national,) $(if $(filter command line,$(origin DATABASE_URL)),--database-url '$(DATABASE_URL)',)

loadtest: venv compile
	$(BIN)/python -m bench.loadtest $(if $(QUICK),--quick,)

client: venv compile
	$(BIN)/python -m bench.client $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) instance/app.db* test-artifacts
