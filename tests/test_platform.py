"""The platform under every page: configuration, database settings, migrations, errors, headers."""

import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from app import create_app
from app.extensions import db


def test_secret_key_is_generated_once_into_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from app import instance_secret_key

    first = instance_secret_key(tmp_path)
    assert len(first) == 64 and instance_secret_key(tmp_path) == first
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_database_url_from_environment_uses_psycopg3(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    monkeypatch.setenv("SECRET_KEY", "k")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1:5432/x"


def test_sqlite_connections_get_the_safe_pragmas(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        values = {
            p: conn.execute(text(f"PRAGMA {p}")).scalar()
            for p in (
                "journal_mode",
                "busy_timeout",
                "foreign_keys",
                "secure_delete",
                "synchronous",
            )
        }
    assert values == {
        "journal_mode": "wal",
        "busy_timeout": 10000,
        "foreign_keys": 1,
        "secure_delete": 1,
        "synchronous": 2,
    }


def test_a_write_after_a_read_waits_its_turn_instead_of_failing(app):
    """SQLite refuses to upgrade a read transaction whose snapshot another writer has made
    stale ("database is locked" at once); write_transaction() starts the write afresh."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy.exc import OperationalError

    from app.database import write_transaction
    from app.models import Organisation

    org = Organisation(name="Kommun", slug="kommun")
    db.session.add(org)
    db.session.commit()

    def read_then_someone_else_writes():
        db.session.get(Organisation, org.id).name  # our read transaction begins
        with db.engine.connect() as other:  # another worker commits meanwhile
            other.execute(
                text("UPDATE organisation SET slug = 'annan' WHERE id = :id"), {"id": org.id}
            )
            other.commit()

    read_then_someone_else_writes()
    db.session.get(Organisation, org.id).name = "Ändrad"
    with pytest.raises(OperationalError, match="database is locked"):
        db.session.flush()  # the plain way fails: the read snapshot cannot become a write
    db.session.rollback()

    read_then_someone_else_writes()
    with write_transaction():
        db.session.get(Organisation, org.id).name = "Ändrad"
    assert db.session.get(Organisation, org.id).name == "Ändrad"


def test_migrations_match_the_models(app):
    """Schema changes go through a migration: the migrated database equals the models."""
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


@pytest.mark.parametrize("locale,text_", [("sv", "Sidan finns inte"), ("ar", "الصفحة غير موجودة")])
def test_404_page_is_translated(client, locale, text_):
    client.post("/locale", data={"locale": locale, "next": "/"})
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert text_ in response.get_data(as_text=True)


def test_unexpected_error_is_a_calm_500_page_not_a_trace(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    boom.access = "public"
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Något gick fel hos oss" in body and "secret internals" not in body


def test_a_database_that_is_away_gives_a_calm_503_with_retry_after(app, client):
    from sqlalchemy.exc import OperationalError

    @app.get("/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("the database system is shutting down"))

    db_down.access = "public"
    response = client.get("/db-down")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    body = response.get_data(as_text=True)
    assert "Något gick fel hos oss" in body and "shutting down" not in body


def test_a_database_lost_mid_request_gives_a_signed_in_user_the_503_page(
    app, client, make, login, monkeypatch
):
    """A PostgreSQL restart: the query fails, and so does every new connection while the
    server starts. The page must not reach for the database again (the signed-in header
    would load the user's rows), or the calm 503 becomes a bare 500."""
    from sqlalchemy.exc import OperationalError

    def away(*_args, **_kwargs):
        raise OperationalError("connect", {}, Exception("the database system is starting up"))

    @app.get("/db-lost")
    def db_lost():
        monkeypatch.setattr(db.engine, "connect", away)
        monkeypatch.setattr(db.engine, "raw_connection", away)
        raise OperationalError("SELECT 1", {}, Exception("terminating connection"))

    db_lost.access = "public"
    login(make.user(make.org()))
    response = client.get("/db-lost")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "Något gick fel hos oss" in response.get_data(as_text=True)


def test_a_connection_lost_before_the_request_ends_does_not_fail_its_end(app, monkeypatch):
    """The server restarts between the page being made and the request's end: the rollback
    on the dead connection fails. Ending the request (its app context's teardown, where
    gunicorn would turn an exception into a bare 500) must drop the connection instead."""
    db.session.execute(text("SELECT 1"))  # the session holds a connection, as a request does
    driver_error = db.engine.dialect.loaded_dbapi.OperationalError  # sqlite3's or psycopg's

    def dead(_connection):
        raise driver_error("the connection is gone")

    monkeypatch.setattr(db.engine.dialect, "do_rollback", dead)
    app.do_teardown_appcontext()  # every teardown, in Flask's order
    monkeypatch.undo()
    assert db.session.execute(text("SELECT 2")).scalar() == 2  # a new connection works


def test_security_headers_on_every_response(client):
    for path in ("/login", "/no-such-page", "/static/css/app.css"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert (
        "max-age"
        in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]
    )


def test_signed_in_pages_are_not_cached(client, make, login):
    login(make.user())
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_static_files_are_versioned_and_cached_long(client):
    html = client.get("/login").get_data(as_text=True)
    assert "/static/css/app.css?v=" in html
    response = client.get("/static/css/app.css?v=1")
    assert "max-age=31536000" in response.headers["Cache-Control"]


def test_htmx_is_vendored_as_one_exact_2_0_release():
    root = Path(__file__).resolve().parent.parent / "static" / "vendor"
    files = [p.name for p in root.glob("htmx*.js")]
    assert files == ["htmx-2.0.11.min.js"]
    assert '"2.0.11"' in (root / files[0]).read_text()
