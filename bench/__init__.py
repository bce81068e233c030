"""Benchmarks, load and fault tests (area: bench).

`bench.generate` builds a realistic data set, `bench.run` times the app on it in-process and
over HTTP, `bench.loadtest` drives a served app with concurrent users and faults. Nothing here
is imported by the app itself.
"""

import secrets
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"  # git-ignored
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_DB = DATA_DIR / "bench.db"
MIGRATIONS = ROOT / "migrations"

ORG_SLUG = "bench"
# Every generated user has this password; the data set is local test data, never deployed.
PASSWORD = "bench password 2026"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def bench_app(database_url: str, **overrides):
    """The real app on `database_url`, configured as the bench needs it.

    In-process only, CSRF is switched off so the test client can post forms without scraping
    tokens; the HTTP drives run the app with its production configuration (CSRF on).
    """
    from app import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secrets.token_hex(16),
        "PUBLIC_ORGANISATION": ORG_SLUG,
        "RATELIMIT_ENABLED": False,
    }
    config.update(overrides)
    return create_app(config)


def migrate(database_url: str) -> None:
    """Bring the schema at `database_url` to the head revision with Flask-Migrate."""
    from flask_migrate import upgrade

    from app.extensions import db

    app = bench_app(database_url)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.engine.dispose()


def head_revision() -> str:
    """The newest migration's revision id, so a generated data set knows its schema."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head() or ""
