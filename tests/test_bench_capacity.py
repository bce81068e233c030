"""bench.capacity's open loop and bench.loadtest's two-server client, in a second or two: no
app, no data set (the real runs are `python -m bench.capacity` and `bench.loadtest --servers 2`)."""

import queue
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.capacity import mix, passed, process_cpu, step, summarise_step
from bench.loadtest import CAST, Scenario, ServersClient, by_server
from bench.serve import Reply


class FakePools:
    def __init__(self, roles: dict):
        self.queues = {}
        for role, count in roles.items():
            self.queues[role] = queue.Queue()
            for k in range(count):
                self.queues[role].put((object(), k))


def sleeper(seconds: float):
    def act(_client, _who, _n, _ledger):
        threading.Event().wait(seconds)
        return "slow", Reply(200, b"", {}, seconds * 1000, 0.0)

    return act


def test_the_mix_gives_each_role_its_share_of_users():
    acts = [
        Scenario("a", "staff", 6, sleeper(0)),
        Scenario("b", "staff", 2, sleeper(0)),
        Scenario("q", "coordinator", 1, sleeper(0)),
        Scenario("p", None, 1, sleeper(0)),
    ]
    shares = {s.name: p for s, p in mix(acts)}
    assert sum(shares.values()) == pytest.approx(1.0)
    total = sum(share for _role, share in CAST)
    assert shares["a"] + shares["b"] == pytest.approx(dict(CAST)["staff"] / total)
    assert shares["a"] == pytest.approx(3 * shares["b"])


def test_a_request_waiting_for_a_connection_is_late_by_that_wait():
    """Open loop: 40 requests a second against one connection that takes 50 ms each. A
    closed loop would report 50 ms; counted from when each was due, the queue shows."""
    pools = FakePools({"staff": 1})
    chosen = [(Scenario("slow", "staff", 1, sleeper(0.05)), 1.0)]
    records, sent, elapsed, _late = step(pools, chosen, 40, 1.0, seed=1)
    row = summarise_step(records, 40, sent, 1.0, elapsed, _late)
    assert len(records) == sent > 20
    assert row["p95_ms"] > 200 > 50
    assert not passed(row)


def test_an_unloaded_step_passes():
    pools = FakePools({"staff": 4})
    chosen = [(Scenario("quick", "staff", 1, sleeper(0.001)), 1.0)]
    records, sent, elapsed, late = step(pools, chosen, 20, 0.5, seed=2)
    row = summarise_step(records, 20, sent, 0.5, elapsed, late)
    assert row["errors"] == 0 and row["p95_ms"] < 100 and passed(row)


def test_cpu_is_read_from_proc():
    assert process_cpu("self") > 0
    assert process_cpu(2**22 + 12345) == 0.0  # no such process


class Named(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the standard library's name
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/sign-in":
            self.send_header("Set-Cookie", f"session=signed-by-{self.server.name}; HttpOnly")
        self.send_header("X-Cookie", self.headers.get("Cookie", ""))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture
def two_servers():
    servers = []
    for name in ("one", "two"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Named)
        server.name = name
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield [s.server_address[1] for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_an_alternating_user_carries_one_cookie_across_servers(two_servers):
    tally, lock = Counter(), threading.Lock()
    user = ServersClient(two_servers, 0, True, tally, lock)
    first = user.request("GET", "/sign-in")
    replies = [user.request("GET", "/page") for _ in range(4)]
    user.close()
    assert first.body == b"one"
    assert [r.body for r in replies] == [b"two", b"one", b"two", b"one"]
    assert all(r.headers["X-Cookie"] == "session=signed-by-one" for r in replies)
    counts = by_server(tally)
    assert counts["1"]["alternating_answered"] == 3 and counts["2"]["alternating_answered"] == 2


def test_a_sticky_user_stays_on_its_server(two_servers):
    tally, lock = Counter(), threading.Lock()
    user = ServersClient(two_servers, 1, False, tally, lock)
    assert {user.request("GET", "/").body for _ in range(3)} == {b"two"}
    user.close()
    assert by_server(tally)["2"]["sticky_answered"] == 3
