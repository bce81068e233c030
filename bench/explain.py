"""Every statement of every benchmarked page on an index (issue 23), on PostgreSQL.

    python -m bench.explain [--national] [--quick] --database-url postgresql+psycopg://…

For each endpoint of bench.endpoints, a few requests run through the Flask test client (signed
in as `bench.run.time_in_process` signs in) and every SQL statement they send is recorded with
its parameters (a `before_cursor_execute` listener). Each distinct statement is then given to
`EXPLAIN (FORMAT JSON)` with the same parameters, and its plan searched for a sequential scan
(`Seq Scan`, parallel or not) of a LARGE table: one the planner's statistics put at
`LARGE_ROWS` rows or more. A plan is the planner's choice for those parameters on that data, so
this runs on the national data set (`--national`), where large tables are large; on a small
table a sequential scan is the right plan and is not reported. EXPLAIN without ANALYZE runs
nothing, so the pages' writes are planned, not repeated.

`tests/test_bench_explain.py` runs `check` on PostgreSQL and fails on any finding.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event, text

from app.extensions import db

from . import bench_app
from .endpoints import Endpoint, Fixture, available, signed_in_client

LARGE_ROWS = 50_000
REQUESTS = 3  # requests an endpoint: its URL and form vary with the request's number
SKIPPED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "SHOW ")


@dataclass(frozen=True)
class Finding:
    endpoint: str
    table: str
    statement: str

    def __str__(self) -> str:
        return f"{self.endpoint}: sequential scan of {self.table} in\n    {self.statement[:300]}"


def statements_of(app: Flask, fx: Fixture, endpoint: Endpoint) -> list[tuple[str, object]]:
    """The distinct statements (with the parameters of their first run) of a few requests."""
    client, who = signed_in_client(app, fx, endpoint)
    with app.app_context():
        engine = db.engine
    seen: dict[str, object] = {}

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if statement.lstrip().upper().startswith(SKIPPED) or statement in seen:
            return
        seen[statement] = parameters[0] if executemany else parameters

    event.listen(engine, "before_cursor_execute", record)
    try:
        for n in range(REQUESTS):
            data = endpoint.data(who, n) if endpoint.data else None
            if endpoint.prepare:
                endpoint.prepare(app)
            client.open(endpoint.url(who, n), method=endpoint.method, data=data)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return list(seen.items())


def large_tables(connection) -> dict[str, int]:
    rows = connection.execute(
        text(
            "SELECT c.relname, c.reltuples::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples >= :rows"
        ),
        {"rows": LARGE_ROWS},
    )
    return dict(rows.all())


def _scans(plan: dict):
    if plan.get("Node Type") in ("Seq Scan", "Parallel Seq Scan"):
        yield plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from _scans(child)


def seq_scans(app: Flask, statements: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """(table, statement) for each sequential scan of a large table in the statements' plans."""
    found = []
    with app.app_context():
        with db.engine.connect() as conn:
            large = large_tables(conn)
            cursor = conn.connection.driver_connection.cursor()
            for statement, parameters in statements:
                cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters or None)
                plan = cursor.fetchone()[0][0]["Plan"]
                found += [(table, statement) for table in _scans(plan) if table in large]
            conn.rollback()
    return found


def check(app: Flask, fx: Fixture | None = None) -> tuple[list[Finding], dict]:
    """Findings over every available endpoint, and how many statements each had planned."""
    fx = fx or Fixture.load(app)
    endpoints, _skipped = available(app, fx)
    findings, planned = [], {}
    for endpoint in endpoints:
        statements = statements_of(app, fx, endpoint)
        planned[endpoint.name] = len(statements)
        findings += [
            Finding(endpoint.name, table, statement)
            for table, statement in seq_scans(app, statements)
        ]
    return findings, planned


def main(argv: list[str] | None = None) -> int:
    from .generate import ensure_dataset, plan_for, plan_national

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database")
    parser.add_argument("--national", action="store_true", help="the national data set")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    plan = (plan_national if args.national else plan_for)(args.quick, args.seed)
    url, _counts = ensure_dataset(args.database_url, plan)
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    findings, planned = check(app)
    print(json.dumps({"statements_planned": planned, "seq_scans": len(findings)}, indent=2))
    for finding in findings:
        print(finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
