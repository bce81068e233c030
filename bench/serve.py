"""Serving and driving over HTTP on 127.0.0.1: gunicorn as a child process, and a bounded
client of our own (threads, one keep-alive `http.client` connection each) that stops by itself.

Shared by `bench.run` (throughput against the ceiling) and `bench.loadtest` (users and faults).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from . import ROOT

CSRF_RE = re.compile(
    rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn APP` on a free 127.0.0.1 port, for a `with` block; stopped on exit."""

    def __init__(self, app_spec: str, env: dict, workers: int, worker_class: str = "sync"):
        self.app_spec, self.env, self.workers, self.worker_class = (
            app_spec,
            env,
            workers,
            worker_class,
        )
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-gunicorn-{self.port}.log"

    def __enter__(self) -> Gunicorn:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            self.app_spec,
        ]
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **self.env}, stdout=self.log, stderr=self.log
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_path}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    conn.request("GET", "/login")
                    conn.getresponse().read()
                    conn.close()
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not start in {timeout} s; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The arbiter's children, read from /proc (no psutil needed)."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def __exit__(self, *_exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Reply:
    status: int  # 0 when the connection failed
    body: bytes
    headers: dict
    ms: float
    at: float  # monotonic time the request started


class Client:
    """One simulated user: a keep-alive connection, cookies, and the session's CSRF token."""

    def __init__(self, port: int, timeout: float = 30):  # beyond SQLite's 10 s busy timeout
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None
        self.history: list[Reply] = []  # every reply, so sign-ins count in the totals too

    def request(self, method: str, path: str, data: dict | None = None, headers=None) -> Reply:
        body = None
        sent = {"Accept-Encoding": "identity", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if data is not None:
            if self.csrf and "csrf_token" not in data:
                data = {**data, "csrf_token": self.csrf}
            body = urlencode(data, doseq=True)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # reconnects on the next request
            reply = Reply(0, b"", {}, (time.monotonic() - started) * 1000, started)
            self.history.append(reply)
            return reply
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if match := CSRF_RE.search(payload):
            self.csrf = (match.group(1) or match.group(2)).decode()
        reply = Reply(
            response.status,
            payload,
            dict(response.getheaders()),
            (time.monotonic() - started) * 1000,
            started,
        )
        self.history.append(reply)
        return reply

    def sign_in(self, email: str, password: str, landing: str) -> bool:
        """Through the real form, CSRF token included, as a browser does; then open `landing`,
        a page with a form, for the new session's CSRF token (sign-in starts a new session)."""
        self.request("GET", "/login")
        reply = self.request("POST", "/login", {"email": email, "password": password})
        if reply.status != 303:
            return False
        self.csrf = None
        self.request("GET", landing)
        return self.csrf is not None

    def close(self) -> None:
        self.conn.close()


@dataclass
class DriveResult:
    replies: list[tuple[str, int, float, int, float]] = field(default_factory=list)
    seconds: float = 0.0
    started: float = 0.0
    failed_setups: int = 0  # users who could not sign in: each one makes the run fail

    def timed(self) -> list[tuple[str, int, float, int, float]]:
        """The replies to requests sent once the clock ran (not the sign-ins before it)."""
        return [r for r in self.replies if r[4] >= self.started]

    @property
    def count(self) -> int:
        return len(self.timed())

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def latencies(self) -> list[float]:
        return [ms for _name, _status, ms, _size, _at in self.timed()]

    def mean_size(self) -> int:
        sizes = [size for _n, status, _ms, size, _at in self.timed() if status]
        return int(sum(sizes) / len(sizes)) if sizes else 0


def drive(
    port: int,
    seconds: float,
    concurrency: int,
    step: Callable[[Client, int], tuple[str, Reply]],
    setup: Callable[[Client, int], None] | None = None,
    on_start: Callable[[float], None] | None = None,
    client_for: Callable[[int], Client] | None = None,
) -> DriveResult:
    """Run `concurrency` threads for `seconds`; each calls `step(client, n)` in a loop and
    records (name, status, ms, bytes, at). Bounded by the deadline; no request outlives it
    by more than the client's timeout. `on_start(t0)` runs once, when the clock starts.
    `client_for(index)` makes user `index`'s client (default: a `Client` of `port`)."""
    result = DriveResult()
    lock = threading.Lock()
    deadline = [0.0]
    started = [0.0]

    def start_clock() -> None:  # runs once, when every user has finished its setup
        started[0] = time.monotonic()
        deadline[0] = started[0] + seconds
        if on_start:
            on_start(started[0])

    ready = threading.Barrier(concurrency + 1, action=start_clock)

    def user(index: int) -> None:
        client = client_for(index) if client_for else Client(port)
        signed_in = True
        try:
            if setup:
                setup(client, index)
        except Exception as error:  # noqa: BLE001 - reported, and the run fails on it
            signed_in = False
            print(f"  user {index}: {error!r}", file=sys.stderr)
            with lock:
                result.failed_setups += 1
        finally:
            ready.wait()
        local = [("sign_in", r.status, r.ms, len(r.body), r.at) for r in client.history]
        if not signed_in:
            with lock:
                result.replies.extend(local)
            return
        n = 0
        while time.monotonic() < deadline[0]:
            name, reply = step(client, index * 1_000_000 + n)
            local.append((name, reply.status, reply.ms, len(reply.body), reply.at))
            n += 1
        client.close()
        with lock:
            result.replies.extend(local)

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    ready.wait()
    for t in threads:
        t.join(seconds + 60)
    result.seconds = time.monotonic() - started[0]
    result.started = started[0]
    return result


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
