"""Running the app (issue 22, app/ops and app/metrics.py): /healthz and /readyz (also with the
database stopped, on SQLite and on a real PostgreSQL), /metrics (who may read it, what it
counts, and two gunicorn workers summed), one JSON log line per request without personal data,
the request id on error pages, and compressed answers."""

import gzip
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import brotli
import openpyxl
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError

from app import metrics
from app.choices import ConsentMethod, Role
from app.extensions import db
from app.models import Consent, Referral, utcnow
from app.ops import logs, scrape
from app.ops.health import migration_heads
from tests.conftest import make_app
from tests.factories import visit_form

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "s3cret-metrics-token"


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --------------------------------------------------------------------------- health


def sqlite_app(path: Path, tmp_path: Path, versions=None):
    """An app on a SQLite file whose alembic_version says `versions` (the head by default):
    readiness reads nothing else."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
        for version in migration_heads() if versions is None else versions:
            conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
    engine.dispose()
    return make_app(f"sqlite:///{path}", tmp_path)


def test_healthz_answers_without_touching_the_database(app, client):
    statements = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    response = client.get("/healthz")
    assert (response.status_code, response.data) == (200, b"ok\n")
    assert statements == []


def test_readyz_is_200_on_the_migrated_database(client):
    response = client.get("/readyz")
    assert (response.status_code, response.data) == (200, b"ok\n")
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_turns_503_when_the_sqlite_database_is_gone_and_back_to_200(tmp_path):
    path = tmp_path / "ready.db"
    app = sqlite_app(path, tmp_path)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.engine.dispose()
    # As root a file cannot be made unreadable: a directory where the file was cannot be opened.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.mkdir()
    stopped = client.get("/readyz")
    assert stopped.status_code == 503 and stopped.data == b"database unavailable\n"
    assert client.get("/healthz").status_code == 200  # the process still answers
    path.rmdir()
    with app.app_context():
        db.engine.dispose()
    sqlite_app(path, tmp_path)
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_the_schema_is_behind_the_migrations(tmp_path):
    client = sqlite_app(tmp_path / "old.db", tmp_path, versions=["0001_initial"]).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and b"schema" in response.data


def postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    return url.split("?")[0]


def test_readyz_against_postgresql_stopped_and_restored(tmp_path):
    admin = create_engine(
        postgres_admin_url(), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        admin.connect().close()
    except Exception as error:
        if os.environ.get("TEST_DATABASE_URL"):
            raise
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({type(error).__name__})")
    name = f"readyz_{uuid.uuid4().hex[:10]}"
    scratch_url = f"{postgres_admin_url().rsplit('/', 1)[0]}/{name}"

    def terminate(conn):
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"),
            {"d": name},
        )

    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        scratch = create_engine(scratch_url)
        with scratch.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            for version in migration_heads():
                conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": version})
        scratch.dispose()
        client = make_app(scratch_url, tmp_path).test_client()
        assert client.get("/readyz").status_code == 200
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            terminate(conn)
        started = time.monotonic()
        stopped = client.get("/readyz")
        assert stopped.status_code == 503 and stopped.data == b"database unavailable\n"
        assert time.monotonic() - started < 10  # timeouts: it answers, it never hangs
        assert client.get("/healthz").status_code == 200
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        assert client.get("/readyz").status_code == 200
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            terminate(conn)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --------------------------------------------------------------------------- metrics


@pytest.fixture
def app_config():
    return {"METRICS_TOKEN": TOKEN}


def scraped(client, **kw) -> dict[tuple, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, **kw)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_metrics_are_404_for_anyone_not_allowed(app, client):
    assert client.get("/metrics").status_code == 404
    for header in (f"Bearer {TOKEN}x", "Bearer ", TOKEN, f"Basic {TOKEN}", f"bearer {TOKEN[:-1]}"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 404
    app.config["METRICS_ALLOWED_IPS"] = "10.0.0.0/8, 192.0.2.7"
    assert client.get("/metrics").status_code == 404  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.3.4.5"}).status_code == 200
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def test_the_allow_list_takes_addresses_and_networks_and_ignores_junk():
    allowed = "127.0.0.1, 10.0.0.0/8, ::1, not-an-address, 2001:db8::/32"
    assert scrape.address_allowed("127.0.0.1", allowed)
    assert scrape.address_allowed("10.200.1.1", allowed)
    assert scrape.address_allowed("2001:db8::5", allowed)
    assert not scrape.address_allowed("11.0.0.1", allowed)
    assert not scrape.address_allowed("127.0.0.1", "")
    assert not scrape.address_allowed(None, allowed)
    assert not scrape.address_allowed("garbage", allowed)


def test_requests_are_counted_by_endpoint_never_by_url(client, make, login):
    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    coordinator = make.user(org, role=Role.COORDINATOR, services=[service])
    consent = make.referral_consent(site, [service], by=make.user(org, sites=[site]))
    referral_id = consent.referrals[0].id
    login(coordinator)
    before = sample(
        "bro_http_requests_total", endpoint="queue.referral", method="GET", status="200"
    )
    assert client.get(f"/queue/referrals/{referral_id}").status_code == 200
    client.get("/no/such/page?secret=1")
    counted = scraped(client)
    key = (
        "bro_http_requests_total",
        (("endpoint", "queue.referral"), ("method", "GET"), ("status", "200")),
    )
    assert counted[key] == before + 1
    label_values = {v for (_name, labels) in counted for _k, v in labels}
    assert "unmatched" in label_values  # a 404 for no route counts under one name
    assert not any(str(referral_id) in v and "/" in v for v in label_values)
    assert not any("secret" in v or "/no/such" in v for v in label_values)
    assert ("bro_http_request_duration_seconds_count", (("endpoint", "queue.referral"),)) in counted
    # The queue sizes, counted at scrape time: one new referral.
    assert counted[("bro_referrals", (("status", "new"),))] == 1


def test_database_errors_rate_limit_refusals_outbox_and_purge_are_counted(app, client, make):
    # OperationalError on SQLite, ProgrammingError on PostgreSQL: SQLAlchemy's class.
    kind = "OperationalError" if db.engine.dialect.name == "sqlite" else "ProgrammingError"
    errors = sample("bro_database_errors_total", error=kind)
    with pytest.raises(DBAPIError):
        db.session.execute(text("SELECT * FROM no_such_table"))
    db.session.rollback()
    assert sample("bro_database_errors_total", error=kind) == errors + 1

    refused = sample("bro_rate_limited_total", endpoint="auth.login")
    user = make.user()
    statuses = [
        client.post("/login", data={"email": user.email, "password": "wrong"}).status_code
        for _ in range(7)
    ]
    assert 429 in statuses
    assert sample("bro_rate_limited_total", endpoint="auth.login") == refused + statuses.count(429)

    sent, expired = (
        sample("bro_outbox_messages_total", status="sent"),
        sample("bro_purge_total", kind="expired"),
    )
    metrics.count_outbox("sent", 3)
    metrics.count_purge("expired", 2)
    metrics.count_purge("expired", 0)
    assert sample("bro_outbox_messages_total", status="sent") == sent + 3
    assert sample("bro_purge_total", kind="expired") == expired + 2


def test_the_purge_job_counts_what_it_removed(app, make):
    org = make.org()
    site = make.site(org)
    consent = make.referral_consent(site, [make.service(org)], by=make.user(org, sites=[site]))
    for referral in consent.referrals:  # open for longer than any retention
        referral.created_at = utcnow() - timedelta(days=400)
    db.session.commit()
    expired = sample("bro_purge_total", kind="expired")
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "closed: 1" in result.output
    assert sample("bro_purge_total", kind="expired") == expired + 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_sum_the_counters_of_two_gunicorn_workers(migrated, tmp_path):
    """Real gunicorn, two sync workers, multiprocess mode: every request either worker
    answered is in the one scrape."""
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated,
        "SECRET_KEY": "x" * 32,
        "CONTACT_KEY_FILE": str(tmp_path / "keys.json"),
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "METRICS_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "gunicorn", "-c", "python:app.gunicorn_config"]
    command += ["-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"]
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def get(path: str, headers=None) -> bytes:
        with urllib.request.urlopen(
            urllib.request.Request(base + path, headers=headers or {}), timeout=5
        ) as r:
            return r.read()

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                get("/healthz")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.1)

        def healthz_counted() -> float:
            body = get("/metrics", {"Authorization": f"Bearer {TOKEN}"}).decode()
            return sum(
                s.value
                for family in text_string_to_metric_families(body)
                for s in family.samples
                if s.name == "bro_http_requests_total" and s.labels["endpoint"] == "ops.healthz"
            )

        before, sent = healthz_counted(), 0
        with ThreadPoolExecutor(8) as pool:
            for _ in range(10):  # until both workers have answered some
                list(pool.map(lambda _i: get("/healthz"), range(40)))
                sent += 40
                pids = {p.stem.rsplit("_", 1)[1] for p in multiproc.glob("counter_*.db")}
                if len(pids) >= 2:
                    break
        assert len(pids) == 2, f"one worker served all {sent} requests"
        assert healthz_counted() - before == sent
    finally:
        server.send_signal(signal.SIGQUIT)  # gunicorn's quick shutdown
        server.wait(10)
        log.close()


# --------------------------------------------------------------------------- logs


def request_lines(records) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [json.loads(formatter.format(r)) for r in records if r.name == logs.REQUEST_LOGGER]


def test_one_json_line_per_request_with_its_id_on_the_answer(client, caplog):
    caplog.set_level(logging.INFO, logger=logs.REQUEST_LOGGER)
    response = client.get("/healthz?name=Fatima", headers={"X-Request-ID": "proxy-id-12345"})
    assert response.headers["X-Request-ID"] == "proxy-id-12345"
    (line,) = request_lines(caplog.records)
    assert line["request_id"] == "proxy-id-12345"
    assert (line["method"], line["endpoint"], line["status"]) == ("GET", "ops.healthz", 200)
    assert isinstance(line["duration_ms"], float) and line["time"].startswith("20")
    assert "Fatima" not in json.dumps(line) and "name=" not in json.dumps(line)
    # A header that is not an id (too long, or with other characters) is replaced.
    for insane in ("x" * 65, "short", 'evil" {"status": 200}'):
        answered = client.get("/healthz", headers={"X-Request-ID": insane})
        assert answered.headers["X-Request-ID"] != insane
        assert len(answered.headers["X-Request-ID"]) == 12


def test_the_line_has_user_and_site_and_the_error_page_shows_the_request_id(
    client, make, login, caplog
):
    caplog.set_level(logging.INFO, logger=logs.REQUEST_LOGGER)
    site = make.site()
    staff = make.user(sites=[site])
    login(staff)
    client.get(f"/sites/{site.id}/referrals/new")
    missing = client.get("/no/such/page", headers={"X-Request-ID": "support-ref-777"})
    assert missing.status_code == 404
    assert "Felkod: support-ref-777" in missing.get_data(as_text=True)
    lines = request_lines(caplog.records)
    page = next(line for line in lines if line["endpoint"] == "referrals.new")
    assert (page["user_id"], page["site_id"]) == (staff.id, site.id)
    assert lines[-1]["request_id"] == "support-ref-777" and lines[-1]["status"] == 404
    assert lines[-1]["endpoint"] == "unmatched"


def test_the_line_after_a_write_names_the_user_without_loading_them_again(
    app, client, make, login, caplog
):
    """A view's commit expires the signed-in user; the log line must not reload them (it did:
    one SELECT more on every write, visit_create's eleventh statement on the benchmark)."""
    caplog.set_level(logging.INFO, logger=logs.REQUEST_LOGGER)
    site = make.site()
    staff = make.user(sites=[site])
    login(staff)
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement.lstrip())

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = client.post(f"/sites/{site.id}/visits", data=visit_form())
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert answer.status_code == 303
    written = next(i for i, s in enumerate(statements) if s.startswith("INSERT INTO visit "))
    after = [s for s in statements[written:] if "FROM user " in s.replace('"', "")]
    assert after == []
    line = next(r for r in request_lines(caplog.records) if r["endpoint"] == "visits.create")
    assert line["user_id"] == staff.id


def test_an_unexpected_error_page_and_fragment_show_the_id_the_log_has(app, caplog):
    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    caplog.set_level(logging.INFO, logger=logs.REQUEST_LOGGER)
    client = app.test_client()
    for headers in ({}, {"HX-Request": "true"}):
        page = client.get("/boom", headers=headers)
        assert page.status_code == 500
        request_id = page.headers["X-Request-ID"]
        assert f"Felkod: {request_id}" in page.get_data(as_text=True)
        assert request_lines(caplog.records)[-1]["request_id"] == request_id


def test_the_json_format_is_what_the_handler_writes(app, capsys):
    assert app.config["LOG_FORMAT"] == "json"
    app.test_client().get("/healthz", headers={"X-Request-ID": "written-line-1"})
    written = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert any(line.get("request_id") == "written-line-1" for line in written)


def test_log_format_text_writes_plain_lines_with_the_request_id(migrated, tmp_path, capsys):
    app = make_app(migrated, tmp_path, LOG_FORMAT="text")
    try:
        app.test_client().get("/healthz", headers={"X-Request-ID": "plain-line-42"})
        err = capsys.readouterr().err
        assert "INFO bro.requests [plain-line-42] GET ops.healthz 200" in err
        assert '"request_id"' not in err
    finally:
        make_app(migrated, tmp_path)  # the handler is the process's: back to JSON


def test_no_personal_data_in_any_log_line_of_a_referral_revealed_and_withdrawn(
    app, client, make, login, caplog, capsys
):
    """The whole life of a consented referral, with everything logged at DEBUG: the name,
    the phone (as typed and as stored) and the e-mail are never written."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    # The statements and their parameters too: contact details are sealed before they are sent.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    first_name, typed_phone, e164, email = (
        "Fatimazahra",
        "070-123 45 67",
        "+46701234567",
        ("fatimazahra.testperson@example.org"),
    )
    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    text_sv = make.consent_text(org, "sv", body="Svensk samtyckestext.")
    login(make.user(org, sites=[site]))
    created = client.post(
        f"/sites/{site.id}/referrals",
        data={
            "service_id": [service.id],
            "visitor_lang": "sv",
            "text_id": text_sv.id,
            "form_key": "key-1",
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": ConsentMethod.INTERPRETER.value,
            "first_name": first_name,
            "phone": typed_phone,
            "email": email,
            "contact_language": "sv",
            "best_time": "morning",
        },
        query_string={"name": first_name},
    )
    assert created.status_code == 303, created.get_data(as_text=True)[:500]
    consent = db.session.scalar(select(Consent))
    referral = db.session.scalar(select(Referral))
    coordinator = app.test_client()
    login(make.user(org, role=Role.COORDINATOR, services=[service]), c=coordinator)
    shown = coordinator.post(f"/queue/referrals/{referral.id}/contact")
    assert first_name in shown.get_data(as_text=True)  # revealed, so it was there to leak
    assert coordinator.post(f"/consents/{consent.id}/withdraw").status_code == 303

    everything = "\n".join(
        [
            caplog.text,
            *(json.dumps(line, ensure_ascii=False) for line in request_lines(caplog.records)),
            capsys.readouterr().err,
        ]
    )
    endpoints = [line["endpoint"] for line in request_lines(caplog.records)]
    assert {"referrals.create", "queue.contact", "referrals.withdraw"} <= set(endpoints)
    assert "referrals.withdraw" in everything and "INSERT INTO" in everything  # not vacuous
    for personal in (first_name, typed_phone, e164, e164[1:], "701234567", email):
        assert personal not in everything, personal


# --------------------------------------------------------------------------- compression


@pytest.fixture
def public_page(make):
    org = make.org()
    for n in range(6):
        make.service(org, slug=f"tjanst-{n}")
    return "/sv/"


def test_a_public_page_is_compressed_on_the_wire(client, public_page):
    """Measured (this fixture, November 2026): /sv/ 3,585 bytes, gzip 1,120, brotli 909; its
    stylesheet 38,426, gzip 8,188, brotli 7,876: a first view of about 42 KB becomes 9 KB."""
    plain = client.get(public_page)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    html = plain.get_data()
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        packed = client.get(public_page, headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding
        body = packed.get_data()
        assert len(body) < len(html) / 3, (encoding, len(body), len(html))
        assert decompress(body) == html
    browser = client.get(public_page, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert browser.headers["Content-Encoding"] == "br"
    # The stylesheet the page links (a streamed file) is compressed too, and stays conditional.
    css = client.get("/static/css/app.css").get_data()
    for encoding, decompress in (("br", brotli.decompress), ("gzip", gzip.decompress)):
        packed = client.get("/static/css/app.css", headers={"Accept-Encoding": encoding})
        assert packed.headers["Content-Encoding"] == encoding
        assert decompress(packed.get_data()) == css and len(packed.get_data()) < len(css) / 3
        again = client.get(
            "/static/css/app.css",
            headers={"Accept-Encoding": encoding, "If-None-Match": packed.headers["ETag"]},
        )
        assert again.status_code == 304


def test_small_answers_and_spreadsheets_are_not_compressed(client):
    tiny = client.get("/healthz", headers={"Accept-Encoding": "br"})
    assert "Content-Encoding" not in tiny.headers and tiny.data == b"ok\n"


def test_csv_downloads_decompress_and_xlsx_is_sent_as_it_is(app, make, login):
    app.config["COMPRESS_MIN_SIZE"] = 0  # the export of an empty year is small
    org = make.org()
    client = app.test_client()
    login(make.user(org, role=Role.ADMIN, sites=[make.site(org)]), c=client)
    form = {"period": "year", "on": "2026-03-10"}
    plain_csv = client.post("/stats/export.csv", data=form)
    assert plain_csv.status_code == 200
    csv = client.post("/stats/export.csv", data=form, headers={"Accept-Encoding": "br"})
    assert csv.headers["Content-Encoding"] == "br"
    assert brotli.decompress(csv.get_data()) == plain_csv.get_data()
    xlsx = client.post("/stats/export.xlsx", data=form, headers={"Accept-Encoding": "br, gzip"})
    assert xlsx.status_code == 200 and "Content-Encoding" not in xlsx.headers
    openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))


def test_htmx_partials_still_work_compressed(client, make, login):
    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    consent = make.referral_consent(site, [service], by=make.user(org, sites=[site]))
    login(make.user(org, role=Role.COORDINATOR, services=[service]))
    url = f"/queue/referrals/{consent.referrals[0].id}/contact"
    fragment = client.post(url, headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
    plain = client.post(url, headers={"HX-Request": "true"})
    assert fragment.status_code == plain.status_code == 200
    body = fragment.get_data()
    if fragment.headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert body == plain.get_data() and body.lstrip().startswith(b"<section")
