"""Browser tests: the system Chromium, driven by Playwright, against the app served by a real
HTTP server on a free port, on a fresh SQLite file migrated and seeded with the demo data.

Fixtures:
- `live_server` (session): url, app, logins {role: Login(role, email, password)}, gettext().
- `logins` (session): the demo logins by role ("staff", "coordinator", "admin", "partner").
- `sms_provider` (session): a local HTTP server standing in for the SMS provider (46elks) the
  live server sends through; `.received` lists every request it answered.
- `new_page(viewport="desktop", locale="sv", javascript_enabled=True)`: a page in a fresh
  browser context (own cookies), its base URL set to the served app. At the end of the test it
  fails on CSP violations, script errors, broken static files and server errors (5xx).
- `page`: `new_page()` at the desktop viewport in Swedish.

Chromium missing: every test here is skipped with a clear message, unless REQUIRE_E2E=1 (CI),
where they fail, and where a run that skipped any of them fails too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app import create_app
from app.admin.commands import DEMO_ORG_SLUG, create_demo
from app.extensions import db
from tests.e2e.helpers import ROOT, VIEWPORTS, LiveServer, Login, watch
from tests.factories import CHEAP_ARGON2

# CHROMIUM_PATH lets a developer point at another Chromium (macOS, a snap); CI uses the default.
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SKIP_MESSAGE = f"Chromium not found at {CHROMIUM}: browser tests skipped; apt-get install chromium"
E2E_DIR = Path(__file__).resolve().parent
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A step slower than this on localhost is a failure; generous, as CI machines are shared.
TIMEOUT_MS = 15_000
expect.set_options(timeout=TIMEOUT_MS)


def e2e_required() -> bool:
    return os.environ.get("REQUIRE_E2E") == "1"


def chromium_present() -> bool:
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


# --- Marking, skipping, and refusing to skip in CI ---------------------------------------

_skipped_e2e: list[str] = []


@pytest.hookimpl(tryfirst=True)  # before -m selects on the marker
def pytest_collection_modifyitems(config, items):
    skip = None if chromium_present() or e2e_required() else pytest.mark.skip(reason=SKIP_MESSAGE)
    for item in items:
        if E2E_DIR in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            if skip:
                item.add_marker(skip)


def pytest_runtest_logreport(report):
    # An expected failure (xfail) also reports as skipped; it ran, so it does not count.
    if report.skipped and "e2e" in report.keywords and not hasattr(report, "wasxfail"):
        _skipped_e2e.append(report.nodeid)


def pytest_terminal_summary(terminalreporter):
    if not _skipped_e2e:
        return
    terminalreporter.section("browser tests", sep="=")
    terminalreporter.write_line(f"{len(_skipped_e2e)} browser test(s) skipped.", yellow=True)
    if not chromium_present():
        terminalreporter.write_line(SKIP_MESSAGE, yellow=True)
    if e2e_required():
        terminalreporter.write_line(
            "REQUIRE_E2E=1: skipped browser tests fail this run.", red=True, bold=True
        )


def pytest_sessionfinish(session, exitstatus):
    if e2e_required() and _skipped_e2e and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --- The browser (pytest-playwright's fixtures, pointed at the system Chromium) ----------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch /usr/bin/chromium once per session; never a downloaded browser build."""
    if not chromium_present():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}, and REQUIRE_E2E=1 forbids skipping the browser"
            " tests: apt-get install chromium",
            pytrace=False,
        )
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": browser_type_launch_args.get("headless", True),
        "args": LAUNCH_ARGS,
    }


@pytest.fixture(scope="session")
def base_url(live_server):
    """pytest-playwright gives every context this base URL, so tests write page.goto("/login")."""
    return live_server.url


# --- The served app ----------------------------------------------------------------------


def _check_catalogues() -> None:
    missing = [
        p.parent.parent.name
        for p in (ROOT / "translations").glob("*/LC_MESSAGES/*.po")
        if not p.with_suffix(".mo").exists()
    ]
    if missing:
        pytest.fail(
            "Compiled catalogues missing for "
            + ", ".join(sorted(missing))
            + ": run `.venv/bin/pybabel -q compile -d translations` (make test does)",
            pytrace=False,
        )


@dataclass
class SmsRequest:
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class SmsProvider:
    """What the stand-in provider received, in order; `url` is the base the app is given."""

    url: str
    received: list[SmsRequest] = field(default_factory=list)

    def to(self, number: str) -> list[SmsRequest]:
        return [r for r in self.received if r.form.get("to") == number]


@pytest.fixture(scope="session")
def sms_provider():
    """A local HTTP server that answers as 46elks does (200, a JSON body with the message's id)
    and records each request: the browser tests assert a text's delivery from what arrived."""
    provider = SmsProvider("")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode("utf-8")))
            with lock:
                provider.received.append(SmsRequest(self.path, dict(self.headers), form))
                number = len(provider.received)
            body = json.dumps(
                {"id": f"s{number:032x}", "status": "created", "to": form.get("to")}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet: pytest shows what matters
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="e2e-sms", daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, sms_provider):
    """Serve the app over real HTTP in a thread, on a migrated and seeded SQLite file; its
    text messages go to the local `sms_provider`, e-mail nowhere (no SMTP host)."""
    _check_catalogues()
    root = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'e2e.db'}",
            "SECRET_KEY": secrets.token_hex(32),
            "RATELIMIT_STORAGE_URI": "memory://",
            "WTF_CSRF_ENABLED": True,  # the forms' tokens are part of what is tested
            "SESSION_COOKIE_SECURE": False,  # plain http on localhost
            "TRUST_PROXY": False,
            "PUBLIC_ORGANISATION": DEMO_ORG_SLUG,
            "SMTP_HOST": None,
            "SMS_PROVIDER": "46elks",
            "SMS_API_URL": sms_provider.url,
            "SMS_API_USER": "u-e2e-test",
            "SMS_API_PASSWORD": "e2e-test-secret",
            # The demo users' hashes and every sign-in through the browser are cheap.
            "ARGON2_PARAMETERS": CHEAP_ARGON2,
        }
    )
    # Nothing from the developer's instance/ folder: uploads and files land in the tmp dir.
    app.instance_path = str(root / "instance")
    Path(app.instance_path).mkdir()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        logins = {role: Login(role, email, password) for role, email, password in create_demo()}
        db.session.remove()

    server_errors: list[str] = []

    @app.after_request
    def note_server_errors(response):
        if response.status_code >= 500:
            from flask import request

            server_errors.append(f"{request.method} {request.full_path} -> {response.status}")
        return response

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, logins, server_errors)
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def logins(live_server) -> dict[str, Login]:
    return live_server.logins


# --- Pages -------------------------------------------------------------------------------


@pytest.fixture
def new_page(new_context, live_server):
    """new_page(viewport="desktop"|"tablet"|"phone", locale="sv", javascript_enabled=True).

    Each call opens a fresh browser context (its own cookies: one person, one device). The
    locale sets the browser's language (Accept-Language), as a visitor's phone would.
    """
    pages = []
    errors_before = len(live_server.server_errors)

    def open_page(viewport: str = "desktop", locale: str = "sv", javascript_enabled: bool = True):
        context = new_context(
            **VIEWPORTS[viewport],
            locale=locale,
            timezone_id="Europe/Stockholm",
            java_script_enabled=javascript_enabled,
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        watch(page)
        pages.append(page)
        return page

    yield open_page
    problems = [p for page in pages for p in watch(page).take()]
    problems += live_server.server_errors[errors_before:]
    if problems:
        pytest.fail("Problems seen during the test:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def page(new_page):
    """pytest-playwright's `page`, with the watch: desktop viewport, Swedish."""
    return new_page()
