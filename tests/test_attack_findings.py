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
        assert response.status_code == 404, actor
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
    import app.auth as auth

    calls = []
    monkeypatch.setattr(auth, "verify_password", lambda *a: calls.append(a) or False)
    assert c.post("/login", data={"email": user.email, "password": "x"}).status_code == 429
    assert calls == []
