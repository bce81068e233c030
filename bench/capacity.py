"""Capacity: `python -m bench.capacity [--database-url URL] [--quick] [--workers 2,4] [--sizes]`.

What one app server (gunicorn, sync workers) sustains with p95 under 100 ms, found with an
OPEN-LOOP step load: requests arrive at a fixed mean rate R (Poisson arrivals, a fixed seed),
whatever the server's speed, for STEP_SECONDS a step; R rises step by step until the p95 reaches
100 ms, an error appears, or the server falls behind the offered rate; one step half-way between
the last good and the first bad rate follows. The time of a request counts from the moment it
was due to be sent, so a request that waited for a free connection is late by that wait (a
closed loop, which sends only when the last answer came, hides exactly that).

The mix is the load test's (bench.loadtest.scenarios): bridge builders record visits, create
consented referrals, switch language, open Today, their sessions and the public pages;
coordinators open their queue and a referral from it; visitors read service and programme
pages; the share of each kind of user as in the load test (25 : 10 : 15). It has no
statistics pages: those are a few people's, a few times a day (docs/capacity.md).

The data set: without --database-url the benchmark's SQLite file (bench.generate, 1,000,000
visits; --quick a tenth), served by 3 workers; with a PostgreSQL URL an existing data set
there (for example `bench_1m`, made by `python -m bench.generate --database-url URL`), served by
2 and then 4 workers. The mix's writes go into that data set through the app, as `bench.run`'s do.

CPU: the client runs on the same machine. For every step the CPU time of the gunicorn
processes, of this process (the client), of the PostgreSQL backends serving the app, and of
the whole machine (/proc/stat) are read before and after, so the result says how much of the
machine the client took.

`--sizes` (PostgreSQL only): every table's size (`pg_total_relation_size`, `pg_relation_size`,
`pg_indexes_size`), and per million visits and per 100,000 referrals.

Results are merged into bench/results/capacity.json, one key per run.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from . import RESULTS_DIR, bench_app
from .endpoints import Fixture, landing
from .generate import ensure_dataset, plan_for
from .loadtest import CAST, Ledger, Scenario, scenarios
from .run import served_env
from .serve import Client, Gunicorn, percentile

TARGET_P95_MS = 100.0
STEP_SECONDS, QUICK_STEP_SECONDS = 10.0, 3.0
RATES = [5, 10, 20, 30, 45, 60, 80, 100, 120, 140, 160, 180, 200, 230, 260, 300, 350, 400, 460, 530]
# Signed-in connections a role has (each its own user: a sign-in ends the user's other
# sessions); a request of that role waits for a free one, and the wait counts in its time.
CLIENTS = {"staff": 16, "coordinator": 8, None: 12}
THREADS = 48
DROP_AFTER = 5.0  # seconds: a request still not sent this late is counted as an error
WRITES = {"visit_create", "referral_create", "locale_switch"}
TICK = os.sysconf("SC_CLK_TCK")
OUT = RESULTS_DIR / "capacity.json"


# -- CPU from /proc -------------------------------------------------------------------------


def process_cpu(pid: int | str) -> float:
    """Seconds of CPU (user + system) a process has used, 0.0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15)


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, every core summed."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    total = sum(values[:8])  # without guest time, which is counted in user already
    return (total - idle) / TICK, total / TICK


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class CpuMeter:
    """CPU seconds used between start() and stop() by the server, the client (this
    process), the database backends serving the app, and the machine."""

    def __init__(self, server: Gunicorn, db_pids: Callable[[], list[int]]):
        self.server, self.db_pids = server, db_pids

    def read(self) -> dict:
        server_pids = [self.server.process.pid, *self.server.worker_pids()]
        busy, total = machine_cpu()
        return {
            "server": sum(process_cpu(p) for p in server_pids),
            "client": process_cpu("self"),
            "database": sum(process_cpu(p) for p in self.db_pids()),
            "machine_busy": busy,
            "machine_total": total,
        }

    def start(self) -> None:
        self.before = self.read()

    def stop(self) -> dict:
        after = self.read()
        return {k: after[k] - self.before[k] for k in after}


# -- the open loop --------------------------------------------------------------------------


class Pools:
    """Signed-in clients by role, each a user of its own, handed out one request at a time."""

    def __init__(self, app, fx: Fixture, port: int, sizes: dict):
        self.queues: dict = {}
        for role, count in sizes.items():
            self.queues[role] = queue.Queue()
            for k in range(count):
                who = fx.who(role, k)
                client = Client(port)
                if role and not client.sign_in(who.email, fx.password, landing(app, who, role)):
                    raise SystemExit(f"signing in as {role} {who.email} failed")
                self.queues[role].put((client, who))

    def close(self) -> None:
        for q in self.queues.values():
            while not q.empty():
                q.get()[0].close()


def mix(acts: list[Scenario]) -> list[tuple[Scenario, float]]:
    """Each scenario with its share of requests: the role's share of the users (CAST), times
    the scenario's weight among its role's."""
    users = {role: share for role, share in CAST}
    total_users = sum(users.values())
    out = []
    for role, share in users.items():
        mine = [s for s in acts if s.role == role]
        weights = sum(s.weight for s in mine)
        out += [(s, share / total_users * s.weight / weights) for s in mine]
    return out


def step(pools: Pools, chosen: list[tuple[Scenario, float]], rate: float, seconds: float, seed):
    """Offer `rate` requests a second for `seconds`; every request's time from when it was due."""
    rng = random.Random(seed)
    jobs: queue.Queue = queue.Queue()
    records: list = []
    lock = threading.Lock()
    ledger = Ledger()
    scenarios_, weights = zip(*chosen, strict=True)

    def work() -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            due, n, scenario = job
            if time.monotonic() - due > DROP_AFTER:  # hopelessly behind: an error, not a wait
                with lock:
                    records.append((scenario.name, -1, (time.monotonic() - due) * 1000, due, 0.0))
                continue
            pool = pools.queues[scenario.role]
            client, who = pool.get()
            try:
                name, reply = scenario.act(client, who, n, ledger)
            finally:
                pool.put((client, who))
            done = time.monotonic()
            with lock:
                records.append((name, reply.status, (done - due) * 1000, due, reply.ms))

    threads = [threading.Thread(target=work, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    start = time.monotonic() + 0.05
    due, n, late = start, 0, 0.0
    end = start + seconds
    while True:
        due += rng.expovariate(rate)
        if due >= end:
            break
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            late = max(late, -pause)
        scenario = rng.choices(scenarios_, weights)[0]
        jobs.put((due, seed * 1_000_000 + n, scenario))
        n += 1
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join(60)
    finished = max((r[3] + r[2] / 1000 for r in records), default=end)
    return records, n, max(seconds, finished - start), late


def summarise_step(
    records, offered: float, sent: int, seconds: float, elapsed: float, late: float
) -> dict:
    """`served_rps` and `writes_per_s` are answers (below 500) a second of the step's own
    length; `elapsed` runs on until the last answer came."""
    latencies = [ms for _n, _s, ms, _due, _ms in records]
    errors = Counter(
        name for name, status, *_ in records if status <= 0 or status >= 500 or status == 429
    )
    unexpected = Counter(
        (name, status)
        for name, status, *_ in records
        if 0 < status < 500 and status != 429 and status not in (200, 302, 303)
    )
    writes = sum(1 for name, status, *_ in records if name in WRITES and status == 303)
    answered = sum(1 for _name, status, *_ in records if 0 < status < 500)
    by_name: dict = {}
    for name, _status, ms, *_ in records:
        by_name.setdefault(name, []).append(ms)
    return {
        "offered_rps": offered,
        "sent": sent,
        "sent_rps": round(sent / seconds, 1),
        "served_rps": round(answered / seconds, 1),
        "writes_per_s": round(writes / seconds, 1),
        "drained_after_s": round(elapsed - seconds, 2),
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "errors": sum(errors.values()),
        "unexpected": {f"{n} {s}": c for (n, s), c in unexpected.items()},
        "dispatch_late_ms": round(late * 1000, 1),
        "p95_by_request": {k: round(percentile(v, 95), 1) for k, v in sorted(by_name.items())},
        "count_by_request": {k: len(v) for k, v in sorted(by_name.items())},
    }


def passed(row: dict) -> bool:
    # A server that falls behind the offered rate shows it here too: every request waits.
    return row["p95_ms"] < TARGET_P95_MS and row["errors"] == 0 and not row["unexpected"]


def cpu_fields(cpu: dict, served: int, seconds: float) -> dict:
    cpu = {k: v for k, v in cpu.items() if k != "requests"}
    busy = cpu["machine_busy"] or 1.0
    per = 1000 / served if served else 0.0
    return {
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cores_busy": round(cpu["machine_busy"] / seconds, 2),
        "share_of_busy_cpu": {k: round(cpu[k] / busy, 3) for k in ("server", "client", "database")},
        "cpu_ms_per_request": {k: round(cpu[k] * per, 2) for k in ("server", "client", "database")},
    }


def postgres_backends(url: str):
    """The PIDs of the PostgreSQL backends connected to the data set's database, except ours."""
    if not url.startswith("postgresql"):
        return lambda: []
    engine = create_engine(url, pool_size=1)

    def pids() -> list[int]:
        with engine.connect() as conn:
            return list(
                conn.scalars(
                    text(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                        " AND pid <> pg_backend_pid()"
                    )
                )
            )

    return pids


def find_capacity(app, fx, url: str, workers: int, seconds: float, log=print) -> dict:
    """Step the offered rate up on one gunicorn of `workers` sync workers; the highest rate
    that kept p95 under the target, with every step's figures."""
    acts = [s for s in scenarios(app, fx) if s.role in CLIENTS]
    chosen = mix(acts)
    shares = [f"{s.name} ({s.role or 'visitor'}) {p:.1%}" for s, p in chosen]
    log(f"  mix: {', '.join(shares)}")
    steps, best = [], None
    db_pids = postgres_backends(url)
    with Gunicorn("app:create_app()", served_env(url), workers) as server:
        pools = Pools(app, fx, server.port, CLIENTS)
        meter = CpuMeter(server, db_pids)
        # Warm-up: every worker imports, connects and fills its caches before the clock.
        step(pools, chosen, 10, min(seconds, 3.0), seed=0)
        rates = list(RATES)
        failed_at = None
        i = 0
        while i < len(rates):
            rate = rates[i]
            before = loadavg()
            meter.start()
            records, sent, elapsed, late = step(pools, chosen, rate, seconds, seed=i + 1)
            cpu = meter.stop()
            cpu["requests"] = len(records)
            row = summarise_step(records, rate, sent, seconds, elapsed, late)
            row.update(cpu_fields(cpu, len(records), elapsed))
            row["_requests"] = len(records)
            row["loadavg_before"], row["loadavg_after"] = before, loadavg()
            row["passed"] = passed(row)
            steps.append(row)
            log(
                f"  {rate:>4} req/s offered: served {row['served_rps']:>6}, writes "
                f"{row['writes_per_s']:>5}/s, p50 {row['p50_ms']:>6} p95 {row['p95_ms']:>7} ms, "
                f"errors {row['errors']}, server {row['cpu_ms_per_request']['server']} ms CPU/req, "
                f"client share {row['share_of_busy_cpu']['client']:.0%}, load {row['loadavg_after']}"
                f"{'' if row['passed'] else '  <- over'}"
            )
            if row["passed"]:
                if best is None or rate > best["offered_rps"]:
                    best = row
            elif failed_at is None:
                failed_at = rate
                last_good = best["offered_rps"] if best else 0
                middle = round((last_good + rate) / 2)
                if last_good < middle < rate:
                    rates = rates[: i + 1] + [middle]  # one step between good and bad, then stop
                else:
                    break
            else:
                break
            i += 1
            time.sleep(1.0)
        pools.close()
    # CPU a request over every step, and what two cores would serve if the app server (and
    # on PostgreSQL the database's backends) had them to themselves: COMPUTED from the measured
    # CPU, an upper bound (at full CPU the p95 is far past the target), not a measurement.
    requests = sum(r["_requests"] for r in steps) or 1
    per = {
        k: sum(r["cpu_seconds"][k] for r in steps) * 1000 / requests
        for k in ("server", "database", "client")
    }
    for r in steps:
        del r["_requests"]
    return {
        "workers": workers,
        "step_seconds": seconds,
        "cpu_ms_per_request_all_steps": {k: round(v, 2) for k, v in per.items()},
        "computed_cpu_bound_rps_on_2_dedicated_cores": round(
            2000 / (per["server"] + per["database"]), 1
        )
        if per["server"]
        else None,
        "target_p95_ms": TARGET_P95_MS,
        "sustained_rps": best["offered_rps"] if best else 0,
        "sustained_served_rps": best["served_rps"] if best else 0,
        "sustained_writes_per_s": best["writes_per_s"] if best else 0,
        "p95_ms_at_sustained": best["p95_ms"] if best else None,
        "first_failing_rps": failed_at,
        "mix": {f"{s.name} ({s.role or 'visitor'})": round(p, 4) for s, p in chosen},
        "steps": steps,
    }


# -- database size --------------------------------------------------------------------------

VISIT_SIDE = (
    "visit",
    "visit_language",
    "visit_day_summary",
    "visit_day_language",
    "visit_month_summary",
    "visit_month_language",
)
REFERRAL_SIDE = (
    "referral",
    "referral_event",
    "consent",
    "contact_details",
    "follow_up",
)
# Rows the generator does not make but the app writes with its requests: a form key for every
# visit and referral form (never purged), and the audit trail. Their bytes a row, measured
# once the capacity run has written some through the app.
APP_WRITTEN = ("idempotency_key", "audit_event")
PROGRAMME = (
    "activity_session",
    "session_attendance",
    "attendance_language",
    "information_contact",
)


def database_sizes(url: str) -> dict:
    """Every table's bytes on PostgreSQL (total, table, indexes, and TOAST: total less the
    other two), with the visit side per million visits and the referral side per 100,000
    referrals."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),"
                " pg_indexes_size(c.oid) FROM pg_class c JOIN pg_namespace n"
                " ON n.oid = c.relnamespace WHERE c.relkind = 'r'"
                " AND n.nspname = current_schema() ORDER BY 2 DESC"
            )
        ).all()
        counts = {
            name: conn.scalar(text(f'SELECT COUNT(*) FROM "{name}"'))
            for name in (*VISIT_SIDE, *REFERRAL_SIDE, *PROGRAMME, *APP_WRITTEN)
        }
        database_bytes = conn.scalar(text("SELECT pg_database_size(current_database())"))
        version = conn.scalar(text("SHOW server_version"))
    engine.dispose()
    tables = {
        name: {
            "rows": counts.get(name),
            "total_bytes": total,
            "table_bytes": table,
            "index_bytes": indexes,
            "toast_bytes": total - table - indexes,
        }
        for name, total, table, indexes in rows
    }

    def side(names: tuple, per: float) -> dict:
        out = {}
        for key in ("total_bytes", "table_bytes", "index_bytes"):
            out[key] = round(sum(tables[n][key] for n in names if n in tables) * per)
        out["tables"] = {n: round(tables[n]["total_bytes"] * per) for n in names if n in tables}
        return out

    visits, referrals = counts["visit"], counts["referral"]
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg": loadavg(),
        "postgresql": version,
        "visits": visits,
        "referrals": referrals,
        "sessions": counts["activity_session"],
        "database_bytes": database_bytes,
        "all_tables_bytes": sum(t["total_bytes"] for t in tables.values()),
        "tables": tables,
        "per_million_visits": side(VISIT_SIDE, 1_000_000 / visits) if visits else None,
        "per_100k_referrals": side(REFERRAL_SIDE, 100_000 / referrals) if referrals else None,
        "programme": side(PROGRAMME, 1.0),
        "app_written_bytes_a_row": {
            n: round(tables[n]["total_bytes"] / counts[n]) if counts.get(n) else None
            for n in APP_WRITTEN
            if n in tables
        },
        "groups": {
            "visit_side": list(VISIT_SIDE),
            "referral_side": list(REFERRAL_SIDE),
            "programme": list(PROGRAMME),
            "app_written": list(APP_WRITTEN),
        },
    }


# -- the statistics -------------------------------------------------------------------------

STATISTICS = (
    "login_page",
    "queue",
    "dashboard_year",
    "dashboard_year_first_view",
    "export_csv_year",
)


def statistics_times(url: str, requests: int = 30) -> dict:
    """The statistics pages in-process (bench.run.time_in_process, after its warm-up), with
    the sign-in page and the queue as yardsticks of the same moment: what a read replica would
    take off the primary."""
    from .endpoints import available
    from .run import time_in_process

    app = bench_app(url, WTF_CSRF_ENABLED=False)
    fx = Fixture.load(app)
    endpoints = {e.name: e for e in available(app, fx)[0]}
    out = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "requests": requests}
    out["loadavg_before"] = loadavg()
    for name in STATISTICS:
        if name in endpoints:
            out[name] = time_in_process(app, fx, endpoints[name], requests)
            print(f"  {name}: {out[name]}", flush=True)
    out["loadavg_after"] = loadavg()
    return out


# -- main -----------------------------------------------------------------------------------


SUMMARY = (
    "measured_at",
    "sustained_rps",
    "sustained_writes_per_s",
    "p95_ms_at_sustained",
    "first_failing_rps",
    "cpu_ms_per_request_all_steps",
    "computed_cpu_bound_rps_on_2_dedicated_cores",
)


def save(key: str, value: dict) -> None:
    """The run under `key`; an earlier run under the same key is kept in short in
    `earlier_runs` (on a shared machine one run is one sample of the neighbours' load)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    data = json.loads(OUT.read_text()) if OUT.exists() else {}
    old = data.get(key)
    if old and "steps" in old and "steps" in value:
        earlier = old.pop("earlier_runs", [])
        loads = [(s["loadavg_before"], s["loadavg_after"]) for s in old["steps"]]
        summary = {k: old.get(k) for k in SUMMARY}
        summary["loadavg_first_and_last_step"] = [loads[0][0], loads[-1][1]] if loads else []
        value["earlier_runs"] = [*earlier, summary]
    data[key] = value
    OUT.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Requests a second at p95 < 100 ms.")
    parser.add_argument("--database-url", help="a PostgreSQL database holding a data set")
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, short steps")
    parser.add_argument("--workers", help="gunicorn sync workers, comma separated")
    parser.add_argument("--seconds", type=float, help="seconds a step")
    parser.add_argument("--sizes", action="store_true", help="only the tables' sizes")
    parser.add_argument(
        "--statistics", action="store_true", help="only the statistics pages, in-process"
    )
    args = parser.parse_args(argv)
    on_postgres = bool(args.database_url and args.database_url.startswith("postgresql"))
    if args.sizes:
        if not on_postgres:
            raise SystemExit("--sizes needs a PostgreSQL --database-url")
        sizes = database_sizes(args.database_url)
        save("database_size", sizes)
        print(json.dumps({k: v for k, v in sizes.items() if k != "tables"}, indent=2))
        print(f"Written: {OUT}")
        return 0
    if args.statistics:
        url = args.database_url or ensure_dataset(None, plan_for(args.quick, 1))[0]
        key = "statistics_" + ("postgresql" if on_postgres else "sqlite")
        key += "_quick" if args.quick and not args.database_url else ""
        save(key, statistics_times(url))
        print(f"Written: {OUT}")
        return 0
    if args.database_url:
        url, backend = args.database_url, "postgresql" if on_postgres else "other"
    else:
        url, _counts = ensure_dataset(None, plan_for(args.quick, 1))
        backend = "sqlite"
    workers = [int(w) for w in (args.workers or ("2,4" if on_postgres else "3")).split(",")]
    seconds = args.seconds or (QUICK_STEP_SECONDS if args.quick else STEP_SECONDS)
    app = bench_app(url)
    fx = Fixture.load(app)
    engine = create_engine(url)
    with engine.connect() as conn:
        data = {
            "visits": conn.scalar(text("SELECT COUNT(*) FROM visit")),
            "referrals": conn.scalar(text("SELECT COUNT(*) FROM referral")),
        }
    engine.dispose()
    status = 0
    for count in workers:
        print(f"{backend}, {count} sync workers, {seconds:.0f} s a step, data {data}", flush=True)
        started = datetime.now(UTC).isoformat(timespec="seconds")
        found = find_capacity(app, fx, url, count, seconds)
        result = {
            "measured_at": started,
            "cpus": os.cpu_count(),
            "database": backend,
            "data": data,
            "quick": args.quick,
            **found,
        }
        key = f"{backend}{'_quick' if args.quick else ''}_{count}_workers"
        save(key, result)
        print(
            f"  => {result['sustained_rps']} req/s offered ({result['sustained_served_rps']} "
            f"served, {result['sustained_writes_per_s']} writes/s) at p95 "
            f"{result['p95_ms_at_sustained']} ms; first over: {result['first_failing_rps']}",
            flush=True,
        )
        status |= 0 if found["sustained_rps"] else 1
    print(f"Written: {OUT}")
    return status


if __name__ == "__main__":
    sys.exit(main())
