"""Engine settings. On SQLite every connection gets WAL, a busy timeout, foreign keys and
secure_delete; a request that may write starts its transaction with BEGIN IMMEDIATE so
concurrent writers queue on the busy timeout instead of failing with "database is locked".
The database file and its -wal and -shm files are readable by their owner only."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .extensions import db

BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 5
write_intent: ContextVar[bool] = ContextVar("write_intent", default=False)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def configure_engine_options(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if is_sqlite(url):
        options.setdefault("connect_args", {})["timeout"] = BUSY_TIMEOUT_MS / 1000
    else:
        options.setdefault("pool_pre_ping", True)
        # A server that does not answer fails a connection in seconds, never hangs a request
        # (or /readyz, app/ops/health.py).
        options.setdefault("connect_args", {}).setdefault("connect_timeout", CONNECT_TIMEOUT_S)


def release_session(_error: BaseException | None = None) -> None:
    """End the request's session. When the database server went away after the answer was
    made (a restart), the rollback on its dead connection fails: drop that connection instead
    of turning an answer that is ready into a 500."""
    try:
        db.session.remove()
    except DBAPIError:
        current_app.logger.warning("The database connection was lost; it is discarded")
        db.session().invalidate()
        db.session.remove()


def wants_write() -> bool:
    if write_intent.get():
        return True
    return has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")


def protect_sqlite_files(engine: Engine) -> None:
    """The database file holds personal data: owner-only (0600), made so before SQLite first
    opens it. SQLite gives the -wal and -shm files the mode of the database file; files left
    from before are narrowed too."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return
    path = Path(database)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        sibling = path.with_name(path.name + suffix)
        if sibling.exists() and sibling.stat().st_mode & 0o077:
            sibling.chmod(0o600)


def install_sqlite_pragmas(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    protect_sqlite_files(engine)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
            "secure_delete=ON",
            "synchronous=FULL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if wants_write() else "BEGIN")


# Every PostgreSQL connection of the app plans with these (docs/production.md). JIT compilation
# is for long analytical queries: on the year's dashboard over the national data set it spent
# 0.7 s of a 1.1 s statement compiling. random_page_cost 1.1 is the cost of a random read on
# SSD storage (the default 4 is for spinning disks); with 4 the planner read all 1.5 million
# attendance rows to join one organisation's 22,000 sessions instead of their index.
# Configurable (POSTGRES_SETTINGS), e.g. to leave them to the server: {}.
POSTGRES_SETTINGS = {"jit": "off", "random_page_cost": "1.1"}


def install_postgres_settings(engine: Engine, settings: dict[str, str]) -> None:
    if engine.dialect.name != "postgresql" or not settings:
        return

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            for name, value in settings.items():
                cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
        dbapi_connection.commit()


@contextmanager
def write_transaction() -> Iterator[None]:
    """A write of its own, for a GET view or a command that writes.

    SQLite cannot turn a read transaction into a write one once another connection has
    committed since the read began: it answers "database is locked" at once, without waiting
    on the busy timeout. So the current transaction is ended first, and the write gets a new
    one that starts with BEGIN IMMEDIATE and queues like any other write.
    """
    db.session.commit()
    token = write_intent.set(True)
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        write_intent.reset(token)
