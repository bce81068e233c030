"""Load and faults: `python -m bench.loadtest [--quick]` (what `make loadtest [QUICK=1]` calls).

Serves the app with gunicorn (several sync workers) on 127.0.0.1 against a FRESH database
(SQLite in a temporary directory, or with --database-url a new schema on that PostgreSQL server,
dropped afterwards), seeds users, sites, services and consent texts, and runs 50 simulated users
for a bounded time (60 s; --quick 10 s): bridge builders writing, coordinators working queues,
visitors reading public pages. Every write answered with success is remembered and looked up at
the end; `lost` counts acknowledged writes that are not in the database. A write whose answer
was cut off is retried with the SAME form data (and so the same idempotency form key): a retry
must never store a second row.

Faults, each at its moment of the run: `kill -9` of one gunicorn worker (the arbiter starts a
new one); on PostgreSQL a restart of the database server (on SQLite skipped, with a note).

`--servers 2` starts two gunicorn instances (two ports, the same database, the same SECRET_KEY
and contact key file, rate limits in Redis) as two app servers behind a load balancer would
be. The users round-robin over them: two of every three keep one keep-alive connection to one
server; every third alternates servers request by request (signing in included: the form from
one server, the POST to the other), which works because a session is a signed cookie and no
server keeps state of its own. The worker killed is one of server 1's.

Writes bench/results/load.json (with --servers 2: load-two-servers.json, plus "servers" and
"requests_by_server") with exactly these keys:
    {"requests", "errors_5xx", "acked_writes", "stored_rows", "lost",
     "faults": {NAME: {"acked", "stored", "lost", "errors_after_recovery"}}}
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select, text

from app.choices import Role
from app.models import IdempotencyKey, User

from . import RESULTS_DIR, bench_app, migrate
from .endpoints import (
    Endpoint,
    Fixture,
    Who,
    available,
    landing,
    ordinals,
    referral_form,
    visit_form,
)
from .generate import insert_fixed_rows
from .run import served_env
from .serve import Client, Gunicorn, Reply, drive

USERS = 50
SECONDS, QUICK_SECONDS = 60, 10
WORKERS = 4  # several: a killed worker leaves others serving while the arbiter replaces it
RETRIES = 3
RAMP_UP = 5.0  # seconds over which the users sign in, before the clock starts
RECOVERY_GRACE = 1.0  # seconds after recovery before errors count against it
PG_RESTART = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main restart"
# The share of each kind of simulated user among the 50.
CAST = [(Role.STAFF, 25), (Role.COORDINATOR, 10), (None, 15)]
# With several servers, every ALTERNATE-th user moves between servers on every request.
ALTERNATE = 3
# With several servers the sign-in limits must count in one place for all of them (as in
# production: docs/production.md); a Redis database number of its own for the run.
SHARED_LIMITS = "redis://127.0.0.1:6379/7"


# -- writes and their ledger ----------------------------------------------------------------


@dataclass
class Ledger:
    """What the server acknowledged, by kind, with the moment each write was sent."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: list[tuple[str, object, float]] = field(default_factory=list)  # (kind, key, at)
    locale_history: dict[str, list[tuple[str, bool, float]]] = field(default_factory=dict)
    form_keys: dict[str, set[str]] = field(default_factory=dict)

    def ack(self, kind: str, key, at: float) -> None:
        with self.lock:
            self.acked.append((kind, key, at))


class RowWrites:
    """Writes that create a row whose id comes back in the redirect's Location (the last
    number in it) or in an `X-Record-Id` header; found when the id is in `table`. Each create
    carries a form key; rows with no stored key would be duplicates of a retried submit."""

    def __init__(self, kind: str, table: str):
        self.kind, self.table = kind, table

    @staticmethod
    def id_from(reply: Reply) -> int | None:
        if reply.headers.get("X-Record-Id", "").isdigit():
            return int(reply.headers["X-Record-Id"])
        numbers = re.findall(r"/(\d+)", reply.headers.get("Location", ""))
        return int(numbers[-1]) if numbers else None

    def found(self, conn, keys: list) -> set:
        ids = [k for k in keys if k is not None]
        found = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found |= set(
                conn.scalars(
                    text(f"SELECT id FROM {self.table} WHERE id IN ({','.join(map(str, chunk))})")
                )
            )  # noqa: E501
        return found

    def duplicates(self, conn, ledger: Ledger) -> int:
        rows = conn.scalar(text(f"SELECT COUNT(*) FROM {self.table}"))
        keys = list(ledger.form_keys.get(self.kind, ()))
        stored_keys = 0
        for start in range(0, len(keys), 500):
            stored_keys += conn.scalar(
                select(text("COUNT(*)"))
                .select_from(IdempotencyKey)
                .where(IdempotencyKey.key.in_(keys[start : start + 500]))
            )
        return max(0, rows - stored_keys)


class LocaleWrites:
    """The language switcher's write (User.locale), which exists in every tree. A user's acked
    writes are all kept if the stored locale is the last acknowledged one, or one sent after it
    whose answer was cut off (stored, not acknowledged: not a loss)."""

    kind = "locale"

    def verify(self, conn, ledger: Ledger) -> tuple[int, set]:
        """The number of acked writes kept, and the lost ones as (email, sent at)."""
        stored, lost = 0, set()
        locales = dict(conn.execute(select(User.email, User.locale)).all())
        for email, history in ledger.locale_history.items():
            acked = [(value, at) for value, ok, at in history if ok]
            if not acked:
                continue
            last = max(i for i, (_v, ok, _at) in enumerate(history) if ok)
            allowed = {history[last][0]} | {v for v, _ok, _at in history[last + 1 :]}
            if locales.get(email) in allowed:
                stored += len(acked)
            else:
                lost.add((email, history[last][2]))
                stored += len(acked) - 1
        return stored, lost


# -- what each simulated user does ----------------------------------------------------------


@dataclass
class Scenario:
    """One action of a simulated user: `act(client, who, n, ledger)` returns (name, reply)."""

    name: str
    role: str | None
    weight: int
    act: Callable[[Client, Who, int, Ledger], tuple[str, Reply]]
    requires: Endpoint | None = None  # left out when this endpoint is not in the app


def with_retries(client: Client, method: str, path: str, data: dict) -> Reply:
    """Send, and after a cut connection send the very same form again (same form key)."""
    reply = client.request(method, path, data)
    for _ in range(RETRIES):
        if reply.status != 0:
            break
        time.sleep(0.2)
        reply = client.request(method, path, data)
    return reply


def switch_locale(client: Client, who: Who, n: int, ledger: Ledger):
    value = random.Random(n).choice(["sv", "en", "ar", "so", "uk"])
    reply = with_retries(client, "POST", "/locale", {"locale": value, "next": "/login"})
    ok = reply.status == 303
    with ledger.lock:
        ledger.locale_history.setdefault(who.email, []).append((value, ok, reply.at))
    if ok:
        ledger.ack("locale", who.email, reply.at)
    return "locale_switch", reply


VISITS = RowWrites("visit", "visit")
CONSENTS = RowWrites("referral", "consent")  # a consent with its referrals, in one transaction
ROW_WRITES = [VISITS, CONSENTS]


def create_row(writes: RowWrites, name: str, path: str, form: dict, client, ledger: Ledger):
    with ledger.lock:
        ledger.form_keys.setdefault(writes.kind, set()).add(form["form_key"])
    reply = with_retries(client, "POST", path, form)
    if reply.status == 303:
        ledger.ack(writes.kind, writes.id_from(reply), reply.at)
    return name, reply


def record_visit(client: Client, who: Who, n: int, ledger: Ledger):
    path = f"/sites/{who.site_id}/visits"
    return create_row(VISITS, "visit_create", path, visit_form(who, n), client, ledger)


def refer_visitor(client: Client, who: Who, n: int, ledger: Ledger):
    path = f"/sites/{who.site_id}/referrals"
    return create_row(CONSENTS, "referral_create", path, referral_form(who, n), client, ledger)


def work_queue(client: Client, who: Who, n: int, _ledger: Ledger):
    """A coordinator opens their queue, then one referral in it (the newest ones first), in
    turn: two steps, so that both requests are counted and checked."""
    found = getattr(client, "queue_referral_ids", None)
    if found:
        client.queue_referral_ids = None
        return "referral_detail", client.request("GET", f"/queue/referrals/{found[n % len(found)]}")
    reply = client.request("GET", f"/queue/services/{who.service_id}?status=new")
    if reply.status == 200:
        client.queue_referral_ids = [
            int(i) for i in re.findall(rb'href="/queue/referrals/(\d+)"', reply.body)
        ]
    return "queue", reply


def reader(endpoint: Endpoint) -> Callable:
    def read(client: Client, who: Who, n: int, _ledger: Ledger):
        return endpoint.name, client.request("GET", endpoint.url(who, n))

    return read


def session_check(client: Client, who: Who, n: int, _ledger: Ledger):
    """A signed-in user's cheapest request (the sign-in page sends them on): used for a role
    whose own pages are not in this tree yet."""
    return "session_check", client.request("GET", "/login")


def scenarios(app, fx: Fixture) -> list[Scenario]:
    endpoints = {e.name: e for e in available(app, fx)[0]}
    chosen = [Scenario("locale_switch", Role.STAFF, 1, switch_locale)]
    if "visit_create" in endpoints:
        chosen.append(Scenario("visit_create", Role.STAFF, 6, record_visit))
        chosen.append(Scenario("referral_create", Role.STAFF, 2, refer_visitor))
    if "queue" in endpoints:
        chosen.append(Scenario("queue", Role.COORDINATOR, 4, work_queue))
    for e in endpoints.values():
        # Referral pages are opened from the queue (a fresh database has no ids to start from).
        if e.method == "GET" and e.role in (Role.STAFF, None):
            chosen.append(Scenario(e.name, e.role, e.weight, reader(e)))
    if not any(s.role == Role.COORDINATOR for s in chosen):
        chosen.append(Scenario("session_check", Role.COORDINATOR, 1, session_check))
    return chosen


EXPECTED = {
    "locale_switch": (303,),
    "visit_create": (303,),
    "referral_create": (303,),
    "session_check": (302,),
    # Signing in: the form, the redirect, and the landing page (405 while a role's own page is
    # not in this tree: see endpoints.landing).
    "sign_in": (200, 303, 405),
}


# -- faults ---------------------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    started: float = 0.0
    recovered: float = 0.0
    note: str = ""


def kill_worker(servers: list[Gunicorn], fault: Fault) -> None:
    """`kill -9` of one worker of the first server (with one server, of the server)."""
    server = servers[0]
    pids = server.worker_pids()
    victim = random.choice(pids)
    os.kill(victim, signal.SIGKILL)
    fault.note = f"killed worker {victim}" + (" of server 1" if len(servers) > 1 else "")
    wait_recovered(server, lambda: victim not in server.worker_pids())


def restart_database(command: str) -> Callable[[list[Gunicorn], Fault], None]:
    def restart(servers: list[Gunicorn], fault: Fault) -> None:
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
        fault.note = f"`{command}` exited {done.returncode} {done.stderr.strip()[:200]}"
        for server in servers:  # recovered when every server answers again
            wait_recovered(server, lambda: True)

    return restart


def wait_recovered(server: Gunicorn, gone: Callable[[], bool], timeout: float = 60) -> None:
    """Until every worker is back and a request is answered without a server error."""
    deadline = time.monotonic() + timeout
    probe = Client(server.port, timeout=5)
    while time.monotonic() < deadline:
        if gone() and len(server.worker_pids()) >= server.workers:
            if 0 < probe.request("GET", "/login").status < 500:
                break
        time.sleep(0.1)
    probe.close()


# -- several servers ------------------------------------------------------------------------


class ServersClient(Client):
    """A user of several servers: one keep-alive connection to each, one cookie jar. With
    `alternate` every request goes to the next server in turn; else all go to `home`."""

    def __init__(self, ports: list[int], home: int, alternate: bool, tally: Counter, lock):
        super().__init__(ports[home])
        self.conns = [
            http.client.HTTPConnection("127.0.0.1", p, timeout=self.timeout) for p in ports
        ]
        self.home, self.alternate, self.turn = home, alternate, home
        self.tally, self.tally_lock = tally, lock

    def request(self, method: str, path: str, data: dict | None = None, headers=None) -> Reply:
        index = self.turn % len(self.conns) if self.alternate else self.home
        self.turn += 1
        self.conn = self.conns[index]
        reply = super().request(method, path, data, headers)
        kind = "alternating" if self.alternate else "sticky"
        answered = "answered" if 0 < reply.status < 500 else "failed"
        with self.tally_lock:
            self.tally[(index + 1, kind, answered)] += 1
        return reply

    def close(self) -> None:
        for conn in self.conns:
            conn.close()


def start_servers(url: str, workers: int, count: int) -> list[Gunicorn]:
    """`count` gunicorn instances on the same database with the same secret key (a session
    signed by one is valid on the other); with more than one, limits counted in Redis."""
    env = served_env(url)
    if count > 1:
        env["RATELIMIT_STORAGE_URI"] = SHARED_LIMITS
    return [Gunicorn("app:create_app()", env, workers) for _ in range(count)]


# -- the run --------------------------------------------------------------------------------


class FreshDatabase:
    """A temporary SQLite file, or a new schema on the given PostgreSQL server."""

    def __init__(self, url: str | None):
        self.base, self.schema, self.tmp = url, None, None

    def __enter__(self) -> str:
        if not self.base:
            self.tmp = tempfile.TemporaryDirectory(prefix="bench-load-")
            return f"sqlite:///{self.tmp.name}/load.db"
        self.schema = f"load_{uuid.uuid4().hex[:12]}"
        engine = create_engine(self.base, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        engine.dispose()
        sep = "&" if "?" in self.base else "?"
        return f"{self.base}{sep}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc) -> None:
        if self.tmp:
            self.tmp.cleanup()
        if self.schema:
            engine = create_engine(self.base, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
            with engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


def seed(url: str) -> None:
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        insert_fixed_rows(conn, random.Random(1))
    engine.dispose()


def run(
    url: str,
    seconds: float,
    users: int,
    workers: int,
    db_restart: str | None,
    log=print,
    servers: int = 1,
):
    seed(url)
    app = bench_app(url)
    fx = Fixture.load(app)
    acts = scenarios(app, fx)
    by_role = {}
    for s in acts:
        by_role.setdefault(s.role, []).append(s)
    cast = [role for role, share in CAST for _ in range(round(users * share / 50))][:users]
    ledger = Ledger()
    on_postgres = url.startswith("postgresql")
    planned = [("kill_worker", kill_worker)]
    if on_postgres and db_restart:
        planned.append(("db_restart", restart_database(db_restart)))
    faults = [Fault(name) for name, _ in planned]
    log(
        f"  {users} users ({Counter(r or 'visitor' for r in cast)}), {servers} server(s) of "
        f"{workers} workers, {seconds:.0f} s"
    )
    names = [f"{s.name} ({s.role or 'visitor'})" for s in acts]
    log(f"  scenarios: {', '.join(names)}")

    injector: list[threading.Thread] = []
    tally: Counter = Counter()
    tally_lock = threading.Lock()
    with contextlib.ExitStack() as stack:
        running = [stack.enter_context(s) for s in start_servers(url, workers, servers)]
        ports = [s.port for s in running]
        if servers > 1:
            log(f"  servers on ports {ports}; every {ALTERNATE}rd user alternates between them")

        def inject(t0: float) -> None:
            def go() -> None:
                for i, ((_name, action), fault) in enumerate(zip(planned, faults, strict=True)):
                    time.sleep(
                        max(0.0, t0 + seconds * (i + 1) / (len(planned) + 1) - time.monotonic())
                    )
                    fault.started = time.monotonic()
                    action(running, fault)
                    fault.recovered = time.monotonic()

            injector.append(threading.Thread(target=go, daemon=True))
            injector[0].start()

        people = [fx.who(role, k) for role, k in zip(cast, ordinals(cast), strict=True)]

        def setup(client: Client, index: int) -> None:
            role, who = cast[index], people[index]
            # People arrive over a few seconds, not all in the same millisecond.
            time.sleep(index * RAMP_UP / len(cast))
            if role and not client.sign_in(who.email, fx.password, landing(app, who, role)):
                raise RuntimeError(f"sign-in as {role} failed")

        def step(client: Client, n: int):
            index = n // 1_000_000
            role = cast[index]
            choices = by_role[role]
            rng = random.Random(n)
            act = rng.choices(choices, [s.weight for s in choices])[0]
            result = act.act(client, people[index], n, ledger)
            time.sleep(rng.uniform(0.05, 0.3))  # people read and tap; they do not hammer
            return result

        def client_for(index: int) -> Client:
            if servers == 1:
                return Client(ports[0])
            alternate = index % ALTERNATE == ALTERNATE - 1
            return ServersClient(ports, index % servers, alternate, tally, tally_lock)

        result = drive(
            ports[0], seconds, len(cast), step, setup, on_start=inject, client_for=client_for
        )
        for thread in injector:
            thread.join(120)  # a fault still recovering is waited for, within bounds
        time.sleep(0.5)
        locked = sum(s.log_text().count("database is locked") for s in running)
    report, problems = summarise(url, result, ledger, faults, locked, on_postgres, log)
    if servers > 1:
        report["servers"] = servers
        report["requests_by_server"] = by_server(tally)
        log(f"  requests by server: {json.dumps(report['requests_by_server'])}")
        moved = report["requests_by_server"]
        if any(moved[str(i + 1)]["alternating_answered"] == 0 for i in range(servers)):
            log("  the alternating users were not answered by every server")
            problems += 1
    return report, problems


def by_server(tally: Counter) -> dict:
    """Per server: requests answered (status below 500) and failed (5xx or cut), by sticky
    users and by users who alternate between servers on every request."""
    servers = sorted({index for index, _kind, _answered in tally})
    return {
        str(i): {
            f"{kind}_{answered}": tally[(i, kind, answered)]
            for kind in ("sticky", "alternating")
            for answered in ("answered", "failed")
        }
        for i in servers
    }


def summarise(url, result, ledger: Ledger, faults: list[Fault], locked: int, on_postgres, log):
    engine = create_engine(url)
    with engine.connect() as conn:
        stored_locale, lost_locale = LocaleWrites().verify(conn, ledger)  # lost: (email, at)
        acked = {w.kind: [k for kind, k, _at in ledger.acked if kind == w.kind] for w in ROW_WRITES}
        found = {w.kind: w.found(conn, acked[w.kind]) for w in ROW_WRITES}
        duplicates = {
            w.kind: w.duplicates(conn, ledger) if acked[w.kind] else 0 for w in ROW_WRITES
        }
    engine.dispose()
    locale_acked = sum(1 for kind, *_ in ledger.acked if kind == "locale")
    missing = {kind: [k for k in keys if k not in found[kind]] for kind, keys in acked.items()}

    def window(i: int) -> tuple[float, float]:
        end = faults[i + 1].started if i + 1 < len(faults) else float("inf")
        return faults[i].started, end

    report_faults = {}
    for i, fault in enumerate(faults):
        start, end = window(i)
        in_window = [(kind, k, at) for kind, k, at in ledger.acked if start <= at < end]
        lost = sum(
            1
            for kind, k, at in in_window
            if (kind in found and k not in found[kind])
            or (kind == "locale" and (k, at) in lost_locale)
        )
        # An answer still in flight when the next fault began belongs to that fault.
        errors = sum(
            1
            for _name, status, ms, _size, at in result.replies
            if fault.recovered + RECOVERY_GRACE <= at
            and at + ms / 1000 < end
            and (status >= 500 or status == 0)
        )
        report_faults[fault.name] = {
            "acked": len(in_window),
            "stored": len(in_window) - lost,
            "lost": lost,
            "errors_after_recovery": errors,
        }
    statuses = Counter(status for _n, status, *_ in result.replies)
    unexpected = Counter(
        (name, status)
        for name, status, *_ in result.replies
        if status and status < 500 and status not in EXPECTED.get(name, (200,))
    )
    report = {
        "requests": len(result.replies),  # the sign-ins included
        "errors_5xx": sum(c for s, c in statuses.items() if s >= 500),
        "acked_writes": len(ledger.acked),
        "stored_rows": stored_locale
        + sum(len(keys) - len(missing[kind]) for kind, keys in acked.items()),
        "lost": len(lost_locale) + sum(len(m) for m in missing.values()),
        "faults": report_faults,
    }
    in_fault = [(f.started, f.recovered + RECOVERY_GRACE) for f in faults]
    # A request is caught by a fault when it was still in flight as the fault began.
    cut_outside_faults = sum(
        1
        for _name, status, ms, _size, at in result.replies
        if status == 0 and not any(at + ms / 1000 >= start and at < end for start, end in in_fault)
    )
    log(f"  requests: {dict(Counter(name for name, *_ in result.replies))}")
    log(f"  statuses: {dict(sorted(statuses.items()))} (0 = connection cut)")
    log(f"  connections cut outside a fault: {cut_outside_faults}")
    if unexpected:
        log(f"  unexpected answers: {dict(unexpected)}")
    counts = ", ".join(f"{len(keys)} {kind}" for kind, keys in acked.items())
    log(f"  writes: {locale_acked} locale, {counts}; duplicates after retries: {duplicates}")
    log(f'  "database is locked" in the server log: {locked}')
    for fault in faults:
        log(
            f"  fault {fault.name}: {fault.note}; recovered in {fault.recovered - fault.started:.1f} s"
        )
    if not on_postgres:
        log("  fault db_restart: skipped (SQLite is embedded: there is no server to restart)")
    elif not any(f.name == "db_restart" for f in faults):
        log("  fault db_restart: skipped (no --db-restart command)")
    if result.failed_setups:
        log(f"  users who could not sign in: {result.failed_setups}")
    problems = sum(duplicates.values()) + locked + sum(unexpected.values()) + cut_outside_faults
    problems += result.failed_setups
    return report, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load and fault test on a fresh database.")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_SECONDS} s instead of {SECONDS}"
    )
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--users", type=int, default=USERS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--database-url", help="a PostgreSQL server to use (a new schema on it)")
    parser.add_argument(
        "--db-restart", default=PG_RESTART, help="command restarting PostgreSQL ('' to skip)"
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="gunicorn instances on the same database (2: results/load-two-servers.json)",
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (QUICK_SECONDS if args.quick else SECONDS)
    with FreshDatabase(args.database_url) as url:
        print(f"Load test on {url.split('?')[0] if url.startswith('sqlite') else shlex.quote(url)}")
        report, problems = run(
            url,
            seconds,
            args.users,
            args.workers,
            args.db_restart or None,
            servers=args.servers,
        )
    RESULTS_DIR.mkdir(exist_ok=True)
    name = "load.json" if args.servers == 1 else "load-two-servers.json"
    if args.servers > 2:
        name = f"load-{args.servers}-servers.json"
    (RESULTS_DIR / name).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    print(f"Written: {RESULTS_DIR / name}")
    failed = (
        report["lost"]
        or problems
        or any(f["errors_after_recovery"] or f["lost"] for f in report["faults"].values())
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
