"""The findings of the outside attack (issue 16), one test or more each, written to fail on the
code the attack found them in. The byte search after erasure, the audit chain and the fuzzer
have files of their own (test_encryption_at_rest, test_audit_chain, test_fuzz)."""

from urllib.parse import unquote

import pyotp
import pytest
from sqlalchemy import select

from app.choices import Role
from app.extensions import db
from app.models import AuditEvent, Consent
from tests.security_world import ACTORS, build_world, sign_in_as


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


# ------------------------------------------------- 1. a coordinator of another service


def test_a_coordinator_of_another_service_cannot_see_withdraw_or_extract(client, make):
    world = build_world(make)
    consent = world.consent_a1  # a referral to service X (SFI) only
    sign_in_as(client, world.users["coordinator_y"])
    assert client.get(f"/referrals/receipt/{consent.id}").status_code == 404
    assert client.get(f"/consents/{consent.id}/withdraw").status_code == 404
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 404
    response = client.post(
        "/referrals/extract", data={"code": consent.reference_code, "phone": "070-123 45 67"}
    )
    assert response.status_code == 404
    assert "Fatima" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).withdrawn_at is None
    assert events("contact_read") == [] and events("register_extract") == []


EXTRACT_ALLOWED = {"staff_a1", "coordinator_x", "admin_a"}


@pytest.mark.parametrize("actor", [a for a in ACTORS if a != "anonymous"])
def test_the_register_extract_follows_the_consent_scope(client, make, actor):
    """The extract with the right code and phone: a name only for actors inside the scope."""
    world = build_world(make)
    sign_in_as(client, world.users[actor])
    response = client.post(
        "/referrals/extract",
        data={"code": world.consent_a1.reference_code, "phone": "+46701234567"},
    )
    if actor in EXTRACT_ALLOWED:
        assert response.status_code == 200 and "Fatima" in response.get_data(as_text=True)
    else:
        # A receiving service never reaches the staff's extract at all (its role); everyone
        # else outside the scope finds nothing.
        refused = 403 if world.users[actor].role == Role.PARTNER else 404
        assert response.status_code == refused, actor
        assert "Fatima" not in response.get_data(as_text=True)


def test_the_coordinator_of_the_service_may_still_withdraw(client, make):
    world = build_world(make)
    sign_in_as(client, world.users["coordinator_x"])
    response = client.post(f"/consents/{world.consent_a1.id}/withdraw")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Consent, world.consent_a1.id).withdrawn_at is not None


# ------------------------------------------------- 2. leaving kiosk mode is a sign-in


def test_leaving_kiosk_asks_for_the_second_factor(client, make):
    secret = pyotp.random_base32()
    site = make.site()
    user = make.user(role=Role.STAFF, sites=[site], totp_secret=secret)
    client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    code = pyotp.TOTP(secret).now()
    assert client.post("/login/code", data={"code": code}).status_code == 303
    assert client.post("/kiosk/start").status_code == 303
    response = client.post("/kiosk/exit", data={"password": make.PASSWORD})
    assert response.status_code == 303 and response.location == "/login/code"
    response = client.get("/referrals/mine")  # not signed in until the code is given
    assert response.status_code in (302, 303) and "/login" in response.location
    assert client.post("/login/code", data={"code": "000000"}).status_code == 401


def test_a_kiosk_of_a_user_who_must_enrol_goes_to_enrolment(client, make):
    org = make.org(require_2fa=True)
    user = make.user(org, role=Role.COORDINATOR)
    # Signed in before the organisation required two-factor, as an existing session would be.
    sign_in_as(client, user)
    assert client.post("/kiosk/start").status_code == 303
    response = client.post("/kiosk/exit", data={"password": make.PASSWORD})
    assert response.status_code == 303 and response.location == "/account/two-factor"


def test_a_copied_kiosk_cookie_still_needs_the_second_factor(app, client, make):
    secret = pyotp.random_base32()
    user = make.user(role=Role.STAFF, totp_secret=secret)
    sign_in_as(client, user)
    assert client.post("/kiosk/start").status_code == 303
    stolen = client.get_cookie("session").value
    other = app.test_client()
    other.set_cookie("session", stolen, domain="localhost")
    response = other.post("/kiosk/exit", data={"password": make.PASSWORD})
    assert response.status_code == 303 and response.location == "/login/code"


def test_kiosk_exit_guesses_count_per_account_despite_a_forged_address(app, client, make):
    app.config["TRUST_PROXY"] = True
    from werkzeug.middleware.proxy_fix import ProxyFix

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    user = make.user(role=Role.STAFF)
    sign_in_as(client, user)
    assert client.post("/kiosk/start").status_code == 303
    codes = []
    for i in range(14):
        headers = {"X-Forwarded-For": f"203.0.113.{i + 1}"}
        response = client.post("/kiosk/exit", data={"password": f"wrong {i}"}, headers=headers)
        codes.append(response.status_code)
    # Ten failures from ten addresses start the back-off: one try per interval from anyone.
    assert codes[:10] == [401] * 10
    assert 429 in codes[10:]
    failed = events("login_failed")
    assert len(failed) >= 10 and all(e.object_id == user.id for e in failed)
    assert events("login_throttled"), "a refusal is audited"


# ------------------------------------------------- 4. open redirect through a tab or newline


@pytest.mark.parametrize(
    "target", ["/%09/evil.example", "/%0A/evil.example", "/%0D%0A/x", "/\\evil"]
)
def test_next_with_a_tab_or_newline_stays_on_the_site(client, make, target):
    user = make.user()
    response = client.post(
        f"/login?next={target}", data={"email": user.email, "password": make.PASSWORD}
    )
    assert response.status_code == 303
    assert response.location == "/", response.location
    response = client.post("/locale", data={"locale": "en", "next": unquote(target)})
    assert response.status_code == 303 and response.location == "/"


def test_a_local_next_is_kept(client, make):
    user = make.user()
    response = client.post(
        "/login?next=/referrals/mine?page=2", data={"email": user.email, "password": make.PASSWORD}
    )
    assert response.location == "/referrals/mine?page=2"


# ------------------------------------------------- 7. throttling without a lock-out


def test_failures_from_one_address_do_not_lock_out_the_owner_elsewhere(app, make):
    user = make.user()
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    codes = [
        attacker.post("/login", data={"email": user.email, "password": f"guess {i}"}).status_code
        for i in range(6)
    ]
    assert codes == [401] * 5 + [429]
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "192.0.2.20"
    response = owner.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 303
    assert [e.detail["limit"] for e in events("login_throttled")] == ["account"]


def test_many_addresses_slow_an_account_down_but_never_lock_it(app, make):
    user = make.user()
    for i in range(10):
        c = app.test_client()
        c.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        assert c.post("/login", data={"email": user.email, "password": "guess"}).status_code == 401
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "192.0.2.20"
    # The first attempt in the back-off interval goes through: the right password signs in.
    response = owner.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 303
    # A guess right after it, from yet another address, has to wait for the next interval.
    late = app.test_client()
    late.environ_base["REMOTE_ADDR"] = "198.51.100.99"
    response = late.post("/login", data={"email": user.email, "password": "guess"})
    assert response.status_code == 429
    assert "För många försök" in response.get_data(as_text=True)
    assert int(response.headers.get("Retry-After", "0")) >= 1


def test_several_workers_with_the_memory_store_get_a_warning(caplog):
    import logging

    from app.gunicorn_config import check_limiter_storage

    log = logging.getLogger("test.gunicorn")
    with caplog.at_level(logging.WARNING, logger="test.gunicorn"):
        assert check_limiter_storage(3, "memory://", log) is False
    assert "memory://" in caplog.text and "3 workers" in caplog.text
    assert check_limiter_storage(1, "memory://", log) is True
    assert check_limiter_storage(4, "redis://127.0.0.1:6379/0", log) is True


def test_gunicorn_warns_at_start_with_several_workers_and_the_memory_store(tmp_path):
    """The real gunicorn, two workers, the README's config module: the warning is logged."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, RATELIMIT_STORAGE_URI="memory://", SECRET_KEY="x" * 32)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'g.db'}"
    log = tmp_path / "gunicorn.log"
    process = subprocess.Popen(  # noqa: S603 - our interpreter, our app
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:app.gunicorn_config",
            "-w",
            "2",
            "-b",
            "127.0.0.1:0",
            "--error-logfile",
            str(log),
            "app:create_app()",
        ],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log.exists() and log.read_text().count("2 workers count apart") >= 2:
                break
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert log.read_text().count("2 workers count apart") >= 2, log.read_text()[-2000:]


def test_a_throttled_sign_in_never_reaches_the_password_check(app, make, monkeypatch):
    user = make.user()
    c = app.test_client()
    for i in range(5):
        c.post("/login", data={"email": user.email, "password": f"guess {i}"})
    import app.auth.signin as auth

    calls = []
    monkeypatch.setattr(auth, "verify_password", lambda *a: calls.append(a) or False)
    assert c.post("/login", data={"email": user.email, "password": "x"}).status_code == 429
    assert calls == []


# ------------------------------------------------- 8. the live SQLite files are owner-only


def test_the_sqlite_database_and_its_wal_are_owner_only(tmp_path):
    import os
    import stat

    from app import create_app

    path = tmp_path / "live.db"
    old_umask = os.umask(0o022)  # a usual umask: files would be 0644
    try:
        app = create_app(
            {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"}
        )
        with app.app_context():
            db.session.execute(db.text("CREATE TABLE t (x)"))
            db.session.execute(db.text("INSERT INTO t VALUES (1)"))
            db.session.commit()
            files = [path, path.with_name("live.db-wal"), path.with_name("live.db-shm")]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files if f.exists()}
            db.engine.dispose()
    finally:
        os.umask(old_umask)
    assert modes.get("live.db-wal") is not None, "WAL mode makes a -wal file"
    assert set(modes.values()) == {0o600}, modes
    assert stat.S_IMODE(os.stat(app.instance_path).st_mode) == 0o700


def test_an_existing_world_readable_database_is_narrowed(tmp_path):
    import stat

    from app import create_app

    path = tmp_path / "old.db"
    path.write_bytes(b"")
    path.chmod(0o644)
    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ------------------------------------------------- 9. the README's production steps


def test_the_readme_production_steps_work_on_an_empty_database(empty_database_url, tmp_path):
    """db upgrade, create-organisation, create-user --role admin, then the admin signs in."""
    from tests.conftest import make_app

    app = make_app(empty_database_url, tmp_path)
    runner = app.test_cli_runner()
    with app.app_context():
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(
            args=[
                "create-organisation",
                "--name",
                "Örebro kommun",
                "--slug",
                "orebro",
                "--site",
                "Familjecentralen Vivalla",
            ]
        )
        assert result.exit_code == 0, result.output
        again = runner.invoke(args=["create-organisation", "--name", "X", "--slug", "orebro"])
        assert again.exit_code != 0 and "exists already" in again.output
        password = "en lång och bra fras 2026"
        result = runner.invoke(
            args=[
                "create-user",
                "--email",
                "admin@orebro.test",
                "--name",
                "Admin",
                "--role",
                "admin",
                "--org",
                "orebro",
                "--site",
                "Familjecentralen Vivalla",
            ],
            input=f"{password}\n{password}\n",
        )
        assert result.exit_code == 0, result.output
        client = app.test_client()
        response = client.post("/login", data={"email": "admin@orebro.test", "password": password})
        assert response.status_code == 303, response.data[:300]
        assert client.get("/admin/services/").status_code == 200
        from app.models import ConsentText, Service

        assert db.session.scalar(select(db.func.count(Service.id))) >= 4
        assert db.session.scalar(select(db.func.count(ConsentText.id))) >= 8
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_another_apps_database_with_an_alembic_table(app, tmp_path):
    import sqlite3

    if db.engine.dialect.name != "sqlite":
        pytest.skip("flask restore is for SQLite; PostgreSQL uses pg_restore")
    other = tmp_path / "other-app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        conn.execute("INSERT INTO alembic_version VALUES ('ae1027a6acf')")
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
    conn.close()
    result = app.test_cli_runner().invoke(args=["restore", str(other), "--yes"])
    assert result.exit_code != 0 and "not a backup of this app" in result.output


def test_id3_followed_by_a_web_page_is_not_audio():
    from app.audio import sniff_audio

    page = b"ID3\x04\x00\x00\x00\x00\x00\x00<html><script>alert(1)</script></html>" + b" " * 64
    assert sniff_audio(page) is None
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x04TAG!"
    assert sniff_audio(tag + b"\xff\xfb\x90\x64" + b"\x00" * 64) == "mp3"
    assert sniff_audio(tag + b"<!doctype html>") is None
    assert sniff_audio(b"ID3\x04\x00\x00\x00\x00\x80\x00") is None  # not a syncsafe size


# ------------------------------------------------- 10. dependency floors

# The last release with a published security fix after it, for each direct dependency that
# had one: the floor in pyproject.toml must exclude it.
VULNERABLE = {
    "flask": "3.1.0",  # CVE-2025-47278: fallback session signing key used wrongly
    "gunicorn": "22.0.0",  # CVE-2024-6827: request smuggling through Transfer-Encoding
    "werkzeug": "3.1.3",  # CVE-2025-66221: safe_join and Windows device names
    "jinja2": "3.1.5",  # CVE-2025-27516: sandbox escape through the |attr filter
}


def test_dependency_floors_are_above_known_security_fixes():
    import tomllib
    from pathlib import Path

    from packaging.requirements import Requirement

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    requirements = {
        (req := Requirement(line)).name.lower(): req
        for line in tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    }
    problems = [
        f"{name} allows {version}"
        for name, version in VULNERABLE.items()
        if name not in requirements or requirements[name].specifier.contains(version)
    ]
    assert problems == []
