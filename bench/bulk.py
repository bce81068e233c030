"""Writing generated rows in bulk: one function for every table the generators fill.

On PostgreSQL the rows go through `COPY … FROM STDIN` (psycopg's `Cursor.copy`), the fastest
path the driver offers: a million visits in a fraction of the time SQLAlchemy's executemany
takes (see bench/README.md). Elsewhere (SQLite) they go through SQLAlchemy Core `insert()`
executemany, as before. Either way the rows join the connection's open transaction.
"""

from __future__ import annotations

from enum import Enum

from psycopg import sql
from psycopg.types.json import Json
from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Connection


def write_rows(conn: Connection, table: Table, rows: list[dict]) -> None:
    """Insert `rows` (dicts with the same keys) into `table` in the connection's transaction."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    # COPY applies only the server's defaults: fill the Python-side ones SQLAlchemy would.
    defaults = {}
    for column in table.columns:
        if column.name in rows[0] or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: give it in the rows (not a constant)")
        defaults[column.name] = column.default.arg
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = columns + list(defaults)
    json_at = [i for i, name in enumerate(columns) if name in json_columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    tail = tuple(_plain(v) for v in defaults.values())
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(statement) as copy:
        for row in rows:
            values = [_plain(row[name]) for name in columns]
            for i in json_at:
                if values[i] is not None:
                    values[i] = Json(values[i])
            copy.write_row((*values, *tail))


def _plain(value):
    """Enum members as their values (an IntFlag's int, a StrEnum's text), as SQLAlchemy stores them."""
    return value.value if isinstance(value, Enum) else value
