"""Readiness: the database answers, and its schema is at the newest migration.

The newest migration (alembic's head) is read once per process from the migrations folder;
the database's version is read on every check, with a short statement timeout on PostgreSQL
(the connection itself has a connect timeout, app/database.py), so a check never hangs.
"""

from functools import cache
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"
STATEMENT_TIMEOUT_MS = 2000


@cache
def migration_heads(directory: str = str(MIGRATIONS)) -> frozenset[str]:
    return frozenset(ScriptDirectory(directory).get_heads())


def database_versions() -> frozenset[str]:
    """The versions alembic recorded in the database; raises if the database does not answer."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return frozenset(rows)


def readiness() -> tuple[bool, str]:
    """(ready, a short reason): no data, only what an operator needs to act on."""
    try:
        versions = database_versions()
    except SQLAlchemyError as error:
        current_app.logger.warning(
            "Readiness: the database does not answer (%s)", type(error).__name__
        )
        return False, "database unavailable"
    heads = migration_heads()
    if versions != heads:
        return False, "schema not at the latest migration (run: flask db upgrade)"
    return True, "ok"
