"""Single sign-on (issue 22) against a real, certified OpenID provider: panva's
`oidc-provider` from npm, configured in tests/oidc/provider.mjs and started on 127.0.0.1 for
the test session. The flow is the browser's, driven by hand: the app's redirect, the
provider's login form, its redirect back to the app's callback, and the app's own calls to the
provider's token and key endpoints. The provider's test hook changes the next ID token (another
audience, another issuer, expired, a tampered payload, added claims) to show what is refused.
"""

import json
import re
import socket
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import pytest
import requests
from sqlalchemy import select

from app.choices import Role
from app.extensions import db
from app.models import AuditEvent, User
from tests.factories import Factory
from tests.oidc_provider import free_port, install_provider, start_provider

CALLBACK = "http://localhost/login/sso/callback"
SECRET = "bro-test-secret"


@pytest.fixture(scope="session")
def oidc_provider():
    install_provider()
    port = free_port()
    process = start_provider(port, CALLBACK, "http://localhost/login")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def app_config(oidc_provider):
    return {
        "OIDC_ISSUER": oidc_provider,
        "OIDC_CLIENT_ID": "bro",
        "OIDC_CLIENT_SECRET": SECRET,
        "OIDC_SCOPES": "openid email groups",
        "OIDC_TIMEOUT": 2,
        "OIDC_ORGANISATION": "kommunen",
    }


@pytest.fixture
def org(make):
    return make.org(slug="kommunen")


def next_token(issuer: str, mode: str = "", **claims) -> None:
    """The provider changes the next ID token it issues (tests/oidc/provider.mjs)."""
    params = {"mode": mode, "claims": json.dumps(claims)}
    requests.get(f"{issuer}/__test/next", params=params, timeout=5).raise_for_status()


def at_provider(authorize_url: str, account: str) -> str:
    """The browser's part at the provider: its login form, then back to the app. Returns
    the callback URL the provider redirects to."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(10):
        page = browser.get(url, allow_redirects=False, timeout=5)
        if page.is_redirect:
            url = urljoin(url, page.headers["Location"])
            if url.startswith(CALLBACK):
                return url
            continue
        action = re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1)
        answer = browser.post(
            urljoin(url, action),
            data={"prompt": "login", "login": account, "password": "any"},
            allow_redirects=False,
            timeout=5,
        )
        url = urljoin(url, answer.headers["Location"])
    raise AssertionError("the provider never sent the browser back")


def sso(client, account: str, start: str = "/login/sso"):
    """A whole sign-in through the provider; the app's answer to the callback."""
    started = client.get(start)
    assert started.status_code == 302, started.data[:300]
    callback = at_provider(started.headers["Location"], account)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


def actions(*names) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if names:
        query = query.where(AuditEvent.action.in_(names))
    return db.session.scalars(query).all()


def refusals() -> list[str]:
    return [e.detail["reason"] for e in actions("sso_refused")]


def signed_in_as(client) -> int | None:
    with client.session_transaction() as session:
        user_id = session.get("_user_id")
    return int(user_id.split(":")[0]) if user_id else None


def test_login_page_offers_the_provider_and_the_local_form(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/login/sso"' in page
    assert 'name="password"' in page  # local passwords stay


def test_without_a_provider_configured_there_is_no_sso(client, app):
    app.config["OIDC_ISSUER"] = ""
    assert "/login/sso" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/sso").status_code == 404
    assert client.get("/login/sso/callback?code=x&state=y").status_code == 404


def test_a_good_sign_in_links_by_verified_email_then_by_sub(client, make, org, oidc_provider):
    user = make.user(org, email="Anna@example.org")
    started = client.get("/login/sso?next=/queue/")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    # PKCE with S256, a state and a nonce (the provider requires PKCE of this client).
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    callback = at_provider(started.headers["Location"], "anna")
    parts = urlsplit(callback)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/queue/"
    assert signed_in_as(client) == user.id
    db.session.refresh(user)
    assert (user.oidc_issuer, user.oidc_sub) == (oidc_provider, "anna")
    assert [e.action for e in actions("sso_linked", "sso_login", "login")] == [
        "sso_linked",
        "sso_login",
        "login",
    ]
    # Linked: the next sign-in finds the user by issuer and sub, whatever the e-mail here.
    user.email = "anna.renamed@example.org"
    db.session.commit()
    client.post("/logout")
    assert sso(client, "anna").status_code == 303
    assert signed_in_as(client) == user.id


@pytest.mark.parametrize("mode", ["wrong_aud", "wrong_iss", "expired", "tampered"])
def test_an_id_token_that_does_not_verify_is_refused(client, make, org, oidc_provider, mode):
    user = make.user(org, email="anna@example.org")
    make.user(org, email="admin@example.org", role=Role.ADMIN)  # what `tampered` claims
    next_token(oidc_provider, mode)
    answer = sso(client, "anna")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert signed_in_as(client) is None
    assert refusals() == ["id_token"]
    db.session.refresh(user)
    assert user.oidc_sub is None
    assert "kunde inte bekräftas" in client.get("/login").get_data(as_text=True)


def test_a_replayed_callback_is_refused(client, make, org):
    user = make.user(org, email="anna@example.org")
    started = client.get("/login/sso")
    callback = at_provider(started.headers["Location"], "anna")
    parts = urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 303
    client.post("/logout")
    again = client.get(f"{parts.path}?{parts.query}")
    assert again.status_code == 303 and again.headers["Location"] == "/login"
    assert signed_in_as(client) is None
    assert refusals() == ["state"]
    assert [e.user_id for e in actions("sso_login")] == [user.id]


@pytest.mark.parametrize(
    ("account", "reason"),
    [("unverified", "email_unverified"), ("noemail", "email_missing")],
)
def test_an_email_that_is_missing_or_not_verified_links_nobody(client, make, org, account, reason):
    user = make.user(org, email="anna@example.org")
    answer = sso(client, account)
    assert answer.status_code == 303
    assert signed_in_as(client) is None
    assert refusals() == [reason]
    db.session.refresh(user)
    assert user.oidc_sub is None


def test_a_person_the_organisation_does_not_know_is_refused_by_default(client, org):
    answer = sso(client, "stranger")
    assert answer.headers["Location"] == "/login"
    assert refusals() == ["unknown_user"]
    assert db.session.scalar(select(User).where(User.email == "stranger@example.org")) is None
    page = client.get("/login").get_data(as_text=True)
    assert "inte kopplat till något konto" in page


def test_when_allowed_an_unknown_person_is_created_without_a_role_and_waits(client, make, org, app):
    org.sso_create_users = True
    make.org()  # two organisations: the configured one (OIDC_ORGANISATION) takes new people
    db.session.commit()
    answer = sso(client, "stranger")
    assert answer.status_code == 403
    assert "väntar på en administratör" in answer.get_data(as_text=True)
    assert signed_in_as(client) is None
    created = db.session.scalar(select(User).where(User.email == "stranger@example.org"))
    assert created.organisation_id == org.id
    assert not created.is_enabled and created.sites == []
    assert [e.object_id for e in actions("sso_user_created")] == [created.id]
    # Again: still waiting (disabled), audited, never signed in.
    assert sso(client, "stranger").status_code == 403
    assert refusals() == ["disabled"]
    # An admin gives a role and enables: the next sign-in goes through.
    created.is_enabled = True
    db.session.commit()
    assert sso(client, "stranger").status_code == 303
    assert signed_in_as(client) == created.id


def test_group_mapping_gives_the_admins_role_and_sites(client, make, org):
    mapped, other = make.site(org), make.site(org)
    foreign = make.site()  # another organisation's site never comes through a map
    org.sso_create_users = True
    org.sso_groups = json.dumps(
        [
            {"group": "bro-staff", "role": "staff", "site_ids": [other.id]},
            {
                "group": "bro-coordinators",
                "role": "coordinator",
                "site_ids": [mapped.id, foreign.id],
            },
            {"group": "other", "role": "partner", "site_ids": []},  # not mappable: ignored
        ]
    )
    db.session.commit()
    answer = sso(client, "grouped")
    assert answer.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "grouped@example.org"))
    assert user.is_enabled and user.role == Role.COORDINATOR
    assert [s.id for s in user.sites] == [mapped.id]
    assert signed_in_as(client) == user.id
    [applied] = actions("sso_groups_applied")
    assert applied.detail == {"role": "coordinator", "site_ids": [mapped.id]}


def test_groups_nobody_mapped_change_nothing(client, make, org):
    site = make.site(org)
    user = make.user(org, email="anna@example.org", role=Role.COORDINATOR, sites=[site])
    assert sso(client, "anna").status_code == 303  # anna is in "bro-staff", unmapped here
    db.session.refresh(user)
    assert user.role == Role.COORDINATOR and user.sites == [site]


def test_the_apps_own_second_factor_applies_unless_the_providers_mfa_is_trusted(
    client, make, org, oidc_provider
):
    secret = pyotp.random_base32()
    user = make.user(org, email="admin@example.org", role=Role.ADMIN, totp_secret=secret)
    answer = sso(client, "admin")
    assert answer.headers["Location"] == "/login/code"
    assert signed_in_as(client) is None
    # The provider's amr says MFA, but the organisation does not trust it: still the code.
    next_token(oidc_provider, amr=["pwd", "mfa"])
    assert sso(client, "admin").headers["Location"] == "/login/code"
    code = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert code.status_code == 303 and signed_in_as(client) == user.id
    client.post("/logout")
    org.sso_trust_mfa = True
    org.sso_mfa_acr = "urn:example:loa:high, phr"
    db.session.commit()
    next_token(oidc_provider, amr=["pwd", "mfa"])
    assert sso(client, "admin").status_code == 303
    assert signed_in_as(client) == user.id
    client.post("/logout")
    next_token(oidc_provider, acr="phr")
    sso(client, "admin")
    assert signed_in_as(client) == user.id
    client.post("/logout")
    next_token(oidc_provider, amr=["pwd"], acr="urn:example:loa:low")
    assert sso(client, "admin").headers["Location"] == "/login/code"
    assert [e.detail["mfa"] for e in actions("sso_login")] == [False, False, True, True, False]


def test_a_provider_that_is_down_gives_the_local_form(client, app, org):
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"  # nobody listens
    answer = client.get("/login/sso")
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "svarar inte just nu" in page and 'name="password"' in page
    assert refusals() == ["idp_unreachable"]


def test_a_provider_that_hangs_times_out(client, app, org):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never answers
        app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app.config["OIDC_TIMEOUT"] = 0.5
        began = time.monotonic()
        answer = client.get("/login/sso")
        assert time.monotonic() - began < 3
    assert answer.status_code == 303 and answer.headers["Location"] == "/login"
    assert refusals() == ["idp_unreachable"]


def test_a_provider_down_at_the_callback_is_no_500(client, make, app, org):
    make.user(org, email="anna@example.org")
    started = client.get("/login/sso")
    callback = at_provider(started.headers["Location"], "anna")
    app.config["OIDC_ISSUER"] = f"http://127.0.0.1:{free_port()}"
    app.extensions.pop("authlib.integrations.flask_client")  # a fresh client: the new address
    parts = urlsplit(callback)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.status_code == 303 and signed_in_as(client) is None
    assert refusals() in (["idp_unreachable"], ["state"])


def test_sign_out_ends_the_providers_session_too(client, make, org, oidc_provider):
    make.user(org, email="anna@example.org")
    assert "form-action 'self';" in client.get("/login").headers["Content-Security-Policy"]
    sso(client, "anna")
    # The sign-out form may lead on to the provider (CSP's form-action covers its redirect).
    csp = client.get("/").headers["Content-Security-Policy"]
    assert f"form-action 'self' {oidc_provider};" in csp
    answer = client.post("/logout")
    assert answer.status_code == 303
    target = urlsplit(answer.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == oidc_provider
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert signed_in_as(client) is None
    assert [e.action for e in actions("logout", "sso_logout")] == ["logout", "sso_logout"]
    # The provider accepts it: its end-session page answers (a confirmation form).
    assert requests.get(answer.headers["Location"], timeout=5).status_code == 200


def test_the_kiosk_exit_through_sso_keeps_the_second_factor(client, make, org, login):
    secret = pyotp.random_base32()
    site = make.site(org)
    user = make.user(org, email="anna@example.org", sites=[site], totp_secret=secret)
    # (the password sign-in that starts the kiosk needs the code too)
    client.post("/login", data={"email": user.email, "password": Factory.PASSWORD})
    client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert signed_in_as(client) == user.id
    assert client.post("/kiosk/start").status_code == 303
    assert 'href="/login/sso"' in client.get("/kiosk/exit").get_data(as_text=True)
    started = client.get("/login/sso")
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["prompt"] == ["login"] and query["max_age"] == ["0"]  # sign in again
    callback = at_provider(started.headers["Location"], "anna")
    parts = urlsplit(callback)
    answer = client.get(f"{parts.path}?{parts.query}")
    assert answer.headers["Location"] == "/login/code"  # the provider alone is not enough
    assert signed_in_as(client) is None
    with client.session_transaction() as session:
        session["pending_at"] = time.time()
    user.totp_last_step = None
    db.session.commit()
    code = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert code.status_code == 303 and signed_in_as(client) == user.id
    with client.session_transaction() as session:
        assert "kiosk" not in session
    assert actions("kiosk_exit")[-1].detail == {"sso": True}


def test_the_kiosk_exit_through_sso_with_a_trusted_mfa_claim(
    client, make, org, login, oidc_provider
):
    org.sso_trust_mfa = True
    site = make.site(org)
    user = make.user(org, email="anna@example.org", sites=[site], totp_secret="A" * 32)
    stranger = make.user(org, email="admin@example.org", sites=[site])
    client.post("/login", data={"email": stranger.email, "password": Factory.PASSWORD})
    assert client.post("/kiosk/start").status_code == 303
    # Someone else's account at the provider does not open the kiosk of another.
    next_token(oidc_provider, amr=["mfa"])
    answer = sso(client, "anna")
    assert answer.headers["Location"] == "/kiosk/exit"
    assert refusals() == ["kiosk_user"] and signed_in_as(client) is None
    with client.session_transaction() as session:
        assert session["kiosk"]["user_id"] == stranger.id
    # The one who started it, with the provider's MFA: out of kiosk mode, signed in.
    stranger.totp_secret = "B" * 32
    db.session.commit()
    next_token(oidc_provider, amr=["mfa"])
    answer = sso(client, "admin")
    assert answer.status_code == 303 and signed_in_as(client) == stranger.id
    assert user.id != stranger.id


def test_sso_routes_never_answer_500_to_odd_requests(client):
    for path in (
        "/login/sso/callback",
        "/login/sso/callback?code=x&state=y",
        "/login/sso/callback?error=access_denied&state=y",
        "/login/sso?next=https://evil.example/",
    ):
        assert client.get(path).status_code in (302, 303), path


def test_the_provider_process_is_started_by_the_session(oidc_provider):
    # The real provider: its discovery document names PKCE S256 and an end-session endpoint.
    meta = requests.get(f"{oidc_provider}/.well-known/openid-configuration", timeout=5).json()
    assert meta["issuer"] == oidc_provider
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["end_session_endpoint"]


def test_an_admin_sets_the_organisations_sign_on_and_maps_groups(client, make, org, login):
    site = make.site(org)
    admin = make.user(org, role=Role.ADMIN)
    login(admin)
    assert "Inloggning via organisationen" in client.get("/admin/").get_data(as_text=True)
    saved = client.post(
        "/admin/sso",
        data={"sso_create_users": "y", "sso_trust_mfa": "y", "sso_mfa_acr": "phr,  phrh"},
    )
    assert saved.status_code == 303
    db.session.refresh(org)
    assert (org.sso_create_users, org.sso_trust_mfa, org.sso_mfa_acr) == (True, True, "phr phrh")
    bad = client.post("/admin/sso/groups", data={"map-group": "", "map-role": "admin"})
    assert bad.status_code == 422 and "Skriv gruppens namn." in bad.get_data(as_text=True)
    assert (
        client.post("/admin/sso/groups", data={"map-group": "x", "map-role": "partner"}).status_code
        == 422
    )  # a partner is never mapped
    added = client.post(
        "/admin/sso/groups",
        data={"map-group": "bro-staff", "map-role": "coordinator", "map-sites": [site.id]},
    )
    assert added.status_code == 303
    db.session.refresh(org)
    assert json.loads(org.sso_groups) == [
        {"group": "bro-staff", "role": "coordinator", "site_ids": [site.id]}
    ]
    page = client.get("/admin/sso").get_data(as_text=True)
    assert "bro-staff" in page and site.name in page
    removed = client.post("/admin/sso/groups/remove", data={"group": "bro-staff"})
    assert removed.status_code == 303
    db.session.refresh(org)
    assert json.loads(org.sso_groups) == []
    assert len(actions("sso_settings_updated")) == 3


def test_only_admins_see_the_sign_on_settings(client, make, org, login):
    login(make.user(org, role=Role.COORDINATOR))
    assert client.get("/admin/sso").status_code == 403
    assert client.post("/admin/sso/groups/remove", data={"group": "x"}).status_code == 403


def test_a_large_id_token_stays_out_of_the_session_and_sign_out_names_the_client(
    client, make, org, oidc_provider
):
    make.user(org, email="anna@example.org")
    next_token(oidc_provider, groups=[f"group-{n:04}" for n in range(200)])  # Entra's many
    sso(client, "anna")
    with client.session_transaction() as session:
        assert session["sso_id_token"] == ""
    answer = client.post("/logout")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["client_id"] == ["bro"] and "id_token_hint" not in query


def test_an_id_token_with_another_nonce_is_refused(client, make, org, oidc_provider):
    make.user(org, email="anna@example.org")
    next_token(oidc_provider, nonce="not-the-one-this-browser-sent")
    assert sso(client, "anna").headers["Location"] == "/login"
    assert signed_in_as(client) is None
    assert refusals() == ["id_token"]
