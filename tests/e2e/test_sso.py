"""Single sign-on in the browser (issue 22): the sign-in page's button leads to the
organisation's identity provider (the certified `oidc-provider` from npm on 127.0.0.1), its own
login page signs the bridge builder in, and the app lets her in; signing out ends the provider's
session too (RP-initiated logout) and comes back to the sign-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import User
from tests.e2e.helpers import login_form, logout_button
from tests.oidc_provider import free_port, install_provider, start_provider

OIDC_SETTINGS = ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET", "OIDC_SCOPES")


@pytest.fixture
def provider_for_live_server(live_server):
    """A provider that knows the live server's callback, and the live server configured for it
    only during this test (the other browser tests see the sign-in page without it)."""
    install_provider()
    port = free_port()
    process = start_provider(
        port, f"{live_server.url}/login/sso/callback", f"{live_server.url}/login"
    )
    config = live_server.app.config
    config.update(
        OIDC_ISSUER=f"http://127.0.0.1:{port}",
        OIDC_CLIENT_ID="bro",
        OIDC_CLIENT_SECRET="bro-test-secret",
        OIDC_SCOPES="openid email groups",
    )
    yield
    for name in OIDC_SETTINGS:
        config.pop(name, None)
    live_server.app.extensions.pop("authlib.integrations.flask_client", None)
    process.terminate()
    process.wait(timeout=10)


def test_a_bridge_builder_signs_in_through_the_providers_login_page(
    page, live_server, logins, provider_for_live_server
):
    # The provider's development pages ask for a web font; nothing leaves this machine.
    page.route(
        "https://fonts.googleapis.com/**",
        lambda route: route.fulfill(status=200, content_type="text/css", body=""),
    )
    page.goto("/login")
    page.get_by_role("link", name="Logga in med organisationens konto").click()
    # The provider's own (development) login page: any password for a known account.
    page.locator("input[name=login]").fill("brobyggare")
    page.locator("input[name=password]").fill("provider-password")
    page.locator("button[type=submit]").click()
    expect(logout_button(page)).to_be_visible()
    assert page.url.startswith(live_server.url)
    with live_server.app.app_context():
        user = db.session.query(User).filter_by(email=logins["staff"].email).one()
        assert user.oidc_sub == "brobyggare"
        db.session.remove()
    # Signing out here ends the provider's session too: its confirmation, then back home.
    logout_button(page).click()
    page.locator("button[autofocus], button[type=submit]").first.click()
    expect(login_form(page)).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/login")
