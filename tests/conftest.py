"""Fixtures: a fresh app per test on a database migrated once per session.

SQLite by default (a file, so WAL and secure_delete are real); PostgreSQL when
TEST_DATABASE_URL is set, in a schema of its own that is dropped at the end, so parallel
runs on one server never meet.
"""

import gc
import os
import secrets
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g
from flask_migrate import upgrade
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, text

from app import create_app
from app.audit import protect_audit_table, unprotect_audit_table
from app.extensions import db
from tests.factories import CHEAP_ARGON2, Factory

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config):
    """Collect garbage less often than Python's default (700, 10, 10): a test run holds a large
    heap (an app per test, SQLAlchemy's and Jinja's caches), and the default collections
    rescanned it often enough to cost 15 to 20 % of the CPU time of the app-heavy test files.
    Garbage is still collected, a little later: the run's peak RSS grows from about 0.4 GB to
    0.6 GB."""
    gc.set_threshold(50_000, 20, 10)


@contextmanager
def empty_database(sqlite_dir: Path):
    """A database nothing has touched: a schema of its own on PostgreSQL (dropped afterwards),
    else a new SQLite file in `sqlite_dir`."""
    pg_url = os.environ.get("TEST_DATABASE_URL")
    if not pg_url:
        yield f"sqlite:///{sqlite_dir / 'test.db'}"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def empty_database_url(tmp_path):
    """For a test that runs the migrations itself (up, down, from nothing)."""
    with empty_database(tmp_path) as url:
        yield url


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept in memory for every test app of the run. Each test makes a new
    app, whose Jinja environment would compile every template it renders again: a large part
    of the suite's time. Jinja checks each entry against the template's source, and every test
    app has the same Jinja settings, so a template renders as it would compiled afresh."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


def make_app(database_url: str, instance: Path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": secrets.token_hex(16),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
        "PREFERRED_URL_SCHEME": "http",
        # The contact details' keys in the test's own folder, never in the repo's instance/.
        "CONTACT_KEY_FILE": str(instance / "keys" / "contact-keys.json"),
        "ARGON2_PARAMETERS": CHEAP_ARGON2,
    }
    config.update(overrides)
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    # Tests keep one app context open, and Flask then reuses it (and its `g`) for every
    # request; production never does. Start each request with an empty `g`, so cached users
    # and locales (Flask-Login, Flask-Babel) behave as they do in production.
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: g.__dict__.clear())
    return app


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory):
    """Run the real migrations once; every test then starts from empty tables."""
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        db.engine.dispose()
    return database_url


def empty_tables() -> None:
    """Empty every table past the audit log's triggers, without weakening them: on PostgreSQL
    replica mode skips triggers for this transaction only (a superuser's right, the tests'
    database owner); on SQLite the triggers are dropped and re-created by the app's own DDL.

    On PostgreSQL a DELETE of every table, and the used sequences set back to their start,
    in one statement: a TRUNCATE of them all gives each table new files, 0.3 to 0.5 s before
    every test, where a DELETE of the few rows a test made takes milliseconds. Ids start
    again from 1 as they did after TRUNCATE ... RESTART IDENTITY."""
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        deletes = " ".join(f'DELETE FROM "{t.name}";' for t in tables)
        restart = (
            "PERFORM setval(format('%I.%I', schemaname, sequencename), start_value, false) "
            "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL;"
        )
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text(f"DO $$ BEGIN {deletes} {restart} END $$"))
    else:
        connection = db.session.connection()
        unprotect_audit_table(connection)
        for table in tables:
            db.session.execute(table.delete())
        protect_audit_table(connection)
    db.session.commit()


@pytest.fixture
def app_config():
    """Override in a test module (or parametrize) to change the app's configuration."""
    return {}


@pytest.fixture
def app(migrated, tmp_path, app_config):
    app = make_app(migrated, tmp_path, **app_config)
    with app.app_context():
        empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    return Factory(db.session)


@pytest.fixture
def login(client):
    """login(user) signs the test client in as `user` through the real form."""

    def sign_in(user, password=Factory.PASSWORD, c=None):
        response = (c or client).post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 303, response.data[:500]
        return response

    return sign_in
