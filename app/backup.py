"""`flask backup FILE` and `flask restore FILE --yes`: consistent copies of the SQLite database.

Both use SQLite's online backup API, so a backup is taken while the app keeps serving and a
restore replaces the pages of the live database in one step, under SQLite's own locking,
instead of copying files under a running server. PostgreSQL has its own tools (pg_dump and
pg_restore); the commands say so and exit non-zero there.
"""

import os
import sqlite3
from pathlib import Path

import click
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy.engine import make_url

from .extensions import db

PG_HINT = (
    "This database is PostgreSQL: back up with `pg_dump --format=custom --file=FILE DATABASE_URL` "
    "and restore with `pg_restore --clean --if-exists --dbname=DATABASE_URL FILE`."
)


def sqlite_path() -> Path | None:
    """The database file, or None when the app does not run on a SQLite file."""
    url = make_url(db.engine.url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def backup_to(target: Path) -> None:
    """Copy the live database into `target` (created 0600: it holds personal data)."""
    source = sqlite_path()
    if target.exists():
        target.unlink()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    os.chmod(target, 0o600)


def restore_from(backup: Path) -> None:
    """Replace the live database with a backup, page by page, in one locked step."""
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException("The backup file is damaged.")
        tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as error:
        raise click.ClickException("The file is not a database backup.") from error
    finally:
        check.close()
    if not is_backup_of_this_app(backup, tables):
        raise click.ClickException("The file is not a backup of this app.")
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps the old pages
    with sqlite3.connect(backup) as src, sqlite3.connect(sqlite_path(), timeout=30) as dst:
        src.backup(dst)
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    src.close()
    dst.close()


# Tables every version of the schema has had since the first migration.
CORE_TABLES = frozenset(
    {"organisation", "site", "user", "visit", "service", "consent", "referral", "audit_event"}
)


def is_backup_of_this_app(backup: Path, tables: set[str]) -> bool:
    """The file's schema is one of this app's migrations, with this app's core tables: another
    app's database (which may well have an alembic_version table) is refused."""
    if not CORE_TABLES <= tables or "alembic_version" not in tables:
        return False
    check = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        versions = {row[0] for row in check.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.DatabaseError:
        return False
    finally:
        check.close()
    script = ScriptDirectory(str(Path(current_app.root_path).parent / "migrations"))
    ours = {revision.revision for revision in script.walk_revisions()}
    return len(versions) == 1 and versions <= ours


def register(app: Flask) -> None:
    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(file: Path):
        """Write a consistent copy of the SQLite database to FILE (mode 0600)."""
        if sqlite_path() is None:
            raise click.ClickException(PG_HINT)
        backup_to(file)
        click.echo(f"Backup written to {file}")

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Confirm that the current data is replaced.")
    def restore_command(file: Path, yes: bool):
        """Replace the SQLite database with the backup in FILE (needs --yes)."""
        if sqlite_path() is None:
            raise click.ClickException(PG_HINT)
        if not yes:
            raise click.ClickException(
                "Restoring replaces every record with the backup's. Run again with --yes."
            )
        restore_from(file)
        click.echo(f"Database restored from {file}")
