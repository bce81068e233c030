"""The national data set (issue 23): 25 organisations of 20 sites on one PostgreSQL database,
10,000,000 visits and 1,000,000 referrals with their consents and histories, three years of
the programme and the follow-ups.

    python -m bench.run --national --database-url postgresql+psycopg://…/bench_national

How, and why this way: `bench.generate` fills ONE organisation (a 25th of the visits and
referrals, the programme over the full three years), writing its big tables with COPY. The
server then copies that organisation 24 times, one `INSERT … SELECT … CROSS JOIN
generate_series(1, 24)` per table, in one transaction: every id moves up by the table's
largest id times the copy's number, and every foreign key by its table's; names that must be
unique get the copy's number (organisation slug, e-mail, consent reference code), a service
a new UUID. Building the rows in Python for 25 organisations would take 25 times the one
organisation's time; the server copies them in a fraction of it. Foreign-key triggers are off
while copying (`session_replication_role = replica`): the ids are right by construction, and
checking ten million references one by one is most of an INSERT's time. The organisations
therefore hold the same shape of data under other ids, which is what the benchmark and the
query planner see of a national host: its size and the spread over organisations and sites.

Contact details are encrypted with the consent's id in the associated data
(app.privacy.sealed_columns), so a copy's are sealed again for its own consent ids, like the
first organisation's (obviously fake, from PTS's range for fiction).

Only PostgreSQL: a national host runs on it (docs/capacity.md), and SQLite has neither COPY
nor a parallel server to copy with.
"""

from __future__ import annotations

import random
import time

from sqlalchemy import Integer, func, select, text
from sqlalchemy.engine import Engine

from app.extensions import db
from app.models import ContactDetails

from .bulk import write_rows

ORGANISATIONS = 25
TOTAL = {"visits": 10_000_000, "referrals": 1_000_000}

# Empty in generated data, and tied to one organisation's chain or keys: never copied.
NOT_COPIED = {"audit_chain", "audit_event", "idempotency_key", "outbox_message"}
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as app.privacy and bench.generate


def _id_offsets(conn, tables) -> dict[str, int]:
    """The largest id of every table with an integer `id`: a copy k's ids are id + k * that."""
    offsets = {}
    for table in tables:
        column = table.c.get("id")
        if column is not None and column.primary_key and isinstance(column.type, Integer):
            offsets[table.name] = conn.scalar(select(func.max(column))) or 0
    return offsets


def _reference_code_sql(number: str) -> str:
    """bench.generate._reference_code in SQL: the consent's unique code from its id."""
    value = f"(({number})::bigint * 1000003 + 7777777) % {31**8}"
    chars = [
        f"substr('{CODE_ALPHABET}', (({value}) / {31**i} % 31)::int + 1, 1)" for i in range(8)
    ]
    return " || ".join(chars[:4] + ["'-'"] + chars[4:])


def _offset_of(column, offsets: dict[str, int]) -> int:
    """The offset of the id a foreign key points at, through keys that are themselves foreign
    keys (attendance_language → session_attendance.session_id → activity_session.id)."""
    if column.name == "id" and column.table.name in offsets:
        return offsets[column.table.name]
    if column.foreign_keys:
        return _offset_of(next(iter(column.foreign_keys)).column, offsets)
    return 0


def _column_sql(table, column, offsets: dict[str, int]) -> str:
    """The expression that copies `column` of row t into copy g.k."""
    name = f't."{column.name}"'
    if column.name == "id" and table.name in offsets:
        return f"{name} + g.k * {offsets[table.name]}"
    if column.foreign_keys:
        offset = _offset_of(next(iter(column.foreign_keys)).column, offsets)
        return f"{name} + g.k * {offset}" if offset else name
    special = {
        ("organisation", "slug"): f"{name} || '-' || lpad((g.k + 1)::text, 2, '0')",
        ("organisation", "name"): f"{name} || ' ' || (g.k + 1)",
        ("user", "email"): f"replace({name}, '@', '+o' || (g.k + 1) || '@')",
        ("service", "uuid"): "gen_random_uuid()::text",
        ("consent", "reference_code"): _reference_code_sql(
            f"t.id + g.k * {offsets.get('consent', 0)}"
        ),
    }
    return special.get((table.name, column.name), name)


def replicate(engine: Engine, copies: int, key, seed: int = 1, log=print) -> float:
    """Copy the one generated organisation `copies` times; returns the seconds it took."""
    started = time.perf_counter()
    tables = [t for t in db.metadata.sorted_tables if t.name not in NOT_COPIED]
    with engine.begin() as conn:
        offsets = _id_offsets(conn, tables)
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        for table in tables:
            if table.name == "contact_details":
                continue
            t = time.perf_counter()
            columns = ", ".join(f'"{c.name}"' for c in table.columns)
            values = ", ".join(_column_sql(table, c, offsets) for c in table.columns)
            result = conn.execute(
                text(
                    f'INSERT INTO "{table.name}" ({columns}) SELECT {values} '
                    f'FROM "{table.name}" AS t CROSS JOIN generate_series(1, {copies}) AS g(k)'
                )
            )
            if result.rowcount > 100_000:
                log(f"    {table.name}: {result.rowcount:,} rows in {time.perf_counter() - t:.1f} s")
        _seal_copies(conn, copies, offsets["consent"], key, seed)
    return time.perf_counter() - started


def _seal_copies(conn, copies: int, consent_offset: int, key, seed: int) -> None:
    """Contact details for every copy's consents that have them in the first organisation."""
    from .generate import _fake_contact

    rng = random.Random(seed)
    kept = list(conn.scalars(select(ContactDetails.consent_id).order_by(ContactDetails.consent_id)))
    rows = [
        _fake_contact(consent_id + k * consent_offset, rng, key)
        for k in range(1, copies + 1)
        for consent_id in kept
    ]
    write_rows(conn, ContactDetails.__table__, rows)
