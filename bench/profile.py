"""Where an endpoint's time goes: `python -m bench.profile NAME [NAME…] [--quick]`.

For each endpoint of bench/endpoints.py, on the benchmark's data set and in-process like
`bench.run`: the CPU time per request (the fastest of five rounds, since a shared machine is
noisy), Python function calls per request (cProfile; they barely vary from run to run, so they
show small changes that timings hide), the functions with the most cumulative and own time,
and each distinct SQL statement with its time per request.

    python -m bench.profile queue today --requests 50
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from collections import defaultdict

from sqlalchemy import event

from app.extensions import db

from . import ROOT, bench_app
from .endpoints import Fixture, available
from .generate import ensure_dataset, plan_for

WARM_UP = 20
ROUNDS = 5


def profile(app, fx: Fixture, endpoint, requests: int, top: int) -> None:
    client = app.test_client()
    who = fx.who(endpoint.role)
    if endpoint.role:
        client.post("/login", data={"email": who.email, "password": fx.password})

    def call(n: int) -> None:
        if endpoint.prepare:
            endpoint.prepare(app)
        data = endpoint.data(who, n) if endpoint.data else None
        client.open(endpoint.url(who, n), method=endpoint.method, data=data)

    for n in range(WARM_UP):
        call(n)
    rounds = []
    for _round in range(ROUNDS):
        started = time.process_time()
        for n in range(requests):
            call(n)
        rounds.append((time.process_time() - started) / requests * 1000)

    profiler = cProfile.Profile()
    with app.app_context():
        engine = db.engine
    sql: dict[str, float] = defaultdict(float)
    started_at: list[float] = [0.0]

    def before(*_args):
        started_at[0] = time.perf_counter()

    def after(_conn, _cursor, statement, *_args):
        sql[" ".join(statement.split())] += time.perf_counter() - started_at[0]

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profiler.enable()
    try:
        for n in range(requests):
            call(n)
    finally:
        profiler.disable()
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)

    stats = pstats.Stats(profiler, stream=(out := io.StringIO()))
    print(f"== {endpoint.name}: {min(rounds):.2f} ms CPU a request (fastest of {ROUNDS} rounds)")
    print(f"   {stats.total_calls / requests:,.0f} function calls a request")
    # Cumulative: our own code and templates (the framework's frames all sit on top);
    # own time: anything, since that is where the interpreter actually spends it.
    for order, scope, what in (
        ("cumulative", (f"{ROOT.name}/(app|templates)/", top), "our code and templates"),
        ("tottime", (top,), "every function"),
    ):
        stats.sort_stats(order).print_stats(*scope)
        lines = out.getvalue().splitlines()
        table = lines[next(i for i, line in enumerate(lines) if "ncalls" in line) :]
        print(f"-- {what} by {order} (seconds over {requests} requests, profiler included)")
        print("\n".join(line for line in table if line.strip()))
        out.seek(0)
        out.truncate()
    print(f"-- SQL: {sum(sql.values()) / requests * 1000:.2f} ms a request")
    for statement, seconds in sorted(sql.items(), key=lambda item: -item[1])[:top]:
        print(f"   {seconds / requests * 1000:6.2f} ms  {statement[:140]}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Profile endpoints of the benchmark.")
    parser.add_argument("names", nargs="+", help="endpoint names, as in bench/endpoints.py")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)

    url, _counts = ensure_dataset(None, plan_for(args.quick, 1))
    app = bench_app(url, WTF_CSRF_ENABLED=False)
    fx = Fixture.load(app)
    endpoints = {e.name: e for e in available(app, fx)[0]}
    unknown = [name for name in args.names if name not in endpoints]
    if unknown:
        print(f"unknown endpoints: {', '.join(unknown)}; known: {', '.join(endpoints)}")
        return 2
    for name in args.names:
        profile(app, fx, endpoints[name], args.requests, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
