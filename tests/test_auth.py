"""Sign-in, sign-out, throttling, CSRF and session rules."""

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from app import create_app
from app.auth import passwords
from app.choices import Role
from tests.conftest import make_app
from tests.factories import CHEAP_ARGON2, Factory


def test_sign_in_with_right_password_lands_on_role_start(client, make, login):
    user = make.user(role=Role.COORDINATOR)
    response = login(user)
    assert response.location == "/"
    assert client.get("/").location == "/queue/"


def test_wrong_password_gets_one_generic_message(client, make):
    user = make.user()
    for email, password in ((user.email, "wrong password 123"), ("nobody@example.test", "x" * 12)):
        response = client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 401
        assert "Fel e-post eller lösenord" in response.get_data(as_text=True)


def test_disabled_user_cannot_sign_in(client, make):
    user = make.user(is_enabled=False)
    response = client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    assert response.status_code == 401


def test_signed_in_session_dies_when_user_is_disabled(client, make, login, app):
    user = make.user()
    login(user)
    user.is_enabled = False
    make.session.commit()
    assert client.get("/").status_code == 302  # back to the login page


def test_login_throttled_per_account_after_repeated_failures(client, make):
    user = make.user()
    codes = [
        client.post(
            "/login", data={"email": user.email, "password": f"wrong-{i}-xxxxxx"}
        ).status_code
        for i in range(6)
    ]
    assert codes[:5] == [401] * 5
    assert codes[5] == 429
    assert "För många försök" in client.post(
        "/login", data={"email": user.email, "password": make.PASSWORD}
    ).get_data(as_text=True)


def test_login_throttled_per_address_across_accounts(client, make, app):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    codes = [
        client.post(
            "/login", data={"email": f"u{i}@x.test", "password": "wrong password 1"}
        ).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_successful_sign_ins_are_not_throttled(client, make, login):
    user = make.user()
    for _ in range(7):
        login(user)
        client.post("/logout")


def test_post_without_csrf_token_is_refused(migrated, tmp_path, make):
    app = make_app(migrated, tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = app.test_client().post("/login", data={"email": "a@b.test", "password": "x"})
    assert response.status_code == 400
    assert "Något var fel i förfrågan" in response.get_data(as_text=True)


def test_sign_out_ends_the_session_on_the_server(client, make, login):
    user = make.user()
    login(user)
    stolen = client.get_cookie("session").value
    client.post("/logout")
    thief = client.application.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302


def test_session_id_is_renewed_at_sign_in(client, make, login):
    client.get("/login")
    client.post("/locale", data={"locale": "ar", "next": "/login"})
    before = client.get_cookie("session").value
    login(make.user())
    assert client.get_cookie("session").value != before


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_next_parameter_cannot_leave_the_site(client, make, target):
    user = make.user()
    response = client.post(
        f"/login?next={target}", data={"email": user.email, "password": make.PASSWORD}
    )
    assert response.location == "/"


def test_idle_session_is_signed_out(client, make, login, app):
    login(make.user())
    with client.session_transaction() as session:
        session["last_seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 + 5
    response = client.get("/")
    assert response.status_code == 303
    assert "/login" in response.location
    assert client.get("/").status_code == 302


def test_session_cookie_is_httponly_and_samesite_lax(make, login):
    response = login(make.user())
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_passwords_hash_with_argon2_cffi_defaults_unless_configured():
    """The tests hash cheaply (CHEAP_ARGON2); an app without that setting hashes as
    argon2-cffi recommends, above OWASP's minimum for Argon2id (19 MiB, two passes), and
    every hash verifies under any setting, as it carries its own parameters."""
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"}
    production = create_app(config)
    assert production.config["ARGON2_PARAMETERS"] is None
    with production.app_context():
        strong = passwords.hash_password(Factory.PASSWORD)
        made = extract_parameters(strong)
        defaults = PasswordHasher()
        assert (made.type, made.time_cost, made.memory_cost, made.parallelism) == (
            Type.ID,
            defaults.time_cost,
            defaults.memory_cost,
            defaults.parallelism,
        )
        assert made.memory_cost >= 19 * 1024 and made.time_cost >= 2
        # An unknown e-mail costs what a real check costs: its hash has the same parameters.
        assert extract_parameters(passwords._hasher()[1]) == made
        assert passwords.verify_password(Factory._HASH, Factory.PASSWORD)
        assert not passwords.verify_password(strong, "not the password")
    with create_app({**config, "ARGON2_PARAMETERS": CHEAP_ARGON2}).app_context():
        assert extract_parameters(passwords.hash_password("x")).memory_cost == 8
        assert extract_parameters(passwords._hasher()[1]).memory_cost == 8
        assert passwords.verify_password(strong, Factory.PASSWORD)
