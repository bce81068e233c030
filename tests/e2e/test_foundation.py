"""Browser tests of the foundation: sign-in, the language switcher, sign-out, error pages,
keyboard use, JavaScript off, and axe on each of those pages in Swedish and Arabic."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import (
    assert_accessible,
    assert_focus_visible,
    login_form,
    logout_button,
    screenshot,
    sign_in,
    sign_out,
    switch_language,
    tab_to,
    watch,
)

ARABIC = re.compile(r"[\u0600-\u06FF]")


def test_sign_in_page_switches_from_swedish_to_arabic_on_a_tablet(new_page, live_server):
    page = new_page("tablet", "sv")
    page.goto("/login")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "sv")
    expect(html).to_have_attribute("dir", "ltr")
    expect(page.locator("h1")).to_have_text("Logga in")
    screenshot(page, "login-tablet-sv")

    switch_language(page, "ar")

    expect(html).to_have_attribute("dir", "rtl")
    heading = live_server.gettext("Logga in", "ar")
    assert ARABIC.search(heading), "the Arabic catalogue has no translation of 'Logga in'"
    expect(page.locator("h1")).to_have_text(heading)
    expect(page.locator("label[for=email]")).to_have_text(live_server.gettext("E-post", "ar"))
    screenshot(page, "login-tablet-ar")


@pytest.mark.parametrize("locale", ["sv", "ar"])
def test_sign_in_page_has_no_serious_accessibility_violations(new_page, locale):
    page = new_page("tablet", locale)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    assert_accessible(page)

    page.locator(".locale-switcher summary").click()  # the open menu, too
    assert_accessible(page)

    login_form(page).locator("button[type=submit]").click()  # empty form: errors beside fields
    expect(page.locator("#email[aria-invalid=true]")).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("locale", ["sv", "ar"])
def test_error_and_admin_pages_have_no_serious_accessibility_violations(new_page, logins, locale):
    page = new_page("desktop", locale)
    response = page.goto("/no-such-page")
    assert response.status == 404
    assert_accessible(page)

    sign_in(page, logins["admin"])
    page.goto("/admin/")
    assert_accessible(page)


def test_keyboard_alone_signs_in(new_page, logins):
    page = new_page("desktop", "sv")
    page.goto("/login")
    admin = logins["admin"]

    page.keyboard.press("Tab")
    skip_link = page.locator(".skip-link")
    expect(skip_link).to_be_focused()
    assert_focus_visible(page)

    form = login_form(page)
    tab_to(page, form.locator("input[name=email]"))
    assert_focus_visible(page)
    page.keyboard.type(admin.email)
    page.keyboard.press("Tab")
    expect(form.locator("input[name=password]")).to_be_focused()
    assert_focus_visible(page)
    page.keyboard.type(admin.password)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(logout_button(page)).to_be_visible()


def test_sign_in_fields_name_their_purpose_for_autofill(page):
    page.goto("/login")
    form = login_form(page)
    expect(form.locator("input[name=email]")).to_have_attribute("autocomplete", "username")
    expect(form.locator("input[name=password]")).to_have_attribute(
        "autocomplete", "current-password"
    )


def test_sign_out_ends_the_session(new_page, logins):
    page = new_page("tablet", "sv")
    sign_in(page, logins["admin"])
    sign_out(page)

    expect(page.locator(".flash")).to_have_text("Du är utloggad.")
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(logout_button(page)).to_have_count(0)


def test_sign_in_language_switch_and_sign_out_work_without_javascript(
    new_page, logins, live_server
):
    page = new_page("phone", "sv", javascript_enabled=False)
    page.goto("/login")
    switch_language(page, "ar")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    screenshot(page, "login-phone-ar-nojs")

    sign_in(page, logins["admin"])
    expect(page).to_have_url(re.compile(r"/admin/$"))
    sign_out(page)
    expect(page.locator(".flash")).to_have_text(live_server.gettext("Du är utloggad.", "sv"))


def test_page_watch_reports_a_csp_violation(page):
    """The harness itself: an inline script (what the CSP forbids) is caught and reported."""
    page.goto("/login")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            "() => { const s = document.createElement('script');"
            " s.textContent = 'window.inlineRan = true'; document.body.append(s); }"
        )
    problems = watch(page).take()
    assert any(p.startswith("CSP violation") for p in problems), problems
    assert page.evaluate("() => window.inlineRan") is None


def test_accessibility_check_fails_on_a_faint_field_edge(page):
    """The harness itself: a field border as light as the cards' (1.7:1) is reported."""
    page.goto("/login")
    assert_accessible(page)
    page.evaluate(
        "() => document.documentElement.style.setProperty('--c-control-border', '#c9c7c0')"
    )
    with pytest.raises(AssertionError, match=r"input#email: edge 1\.\d\d:1"):
        assert_accessible(page)


def test_page_watch_reports_a_missing_static_file_and_a_script_error(page):
    """The harness itself: a broken image and an uncaught error are reported."""
    page.goto("/login")
    with page.expect_response(lambda r: "missing.svg" in r.url):
        page.evaluate(
            "() => { const i = new Image(); i.alt = ''; i.src = '/static/img/missing.svg';"
            " document.body.append(i); }"
        )
    with page.expect_event("pageerror"):
        page.evaluate("() => { setTimeout(() => { throw new Error('boom'); }); }")
    problems = watch(page).take()
    assert any(p.startswith("404 for") and "missing.svg" in p for p in problems), problems
    assert any("boom" in p for p in problems), problems
