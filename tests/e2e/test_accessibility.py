"""axe on the key screens, in Swedish and in Arabic (right to left), on the device each is used
on; screenshots of them; and the visit form completed with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Visit
from tests.e2e.helpers import assert_accessible, assert_focus_visible, screenshot, sign_in, tab_to
from tests.e2e.steps import make_referral, preferred_language, service_ids, site_id

LOCALES = ["sv", "ar"]


def check(page: Page, path_pattern: str, locale: str) -> None:
    """The page is the one expected, in the expected language and direction, and passes axe."""
    expect(page).to_have_url(re.compile(path_pattern))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
    assert_accessible(page)


@pytest.mark.parametrize("locale", LOCALES)
def test_public_pages_are_accessible(new_page, locale):
    page = new_page("phone", locale)
    page.goto("/login")
    check(page, r"/login$", locale)

    page.goto(f"/{locale}/sfi")
    check(page, rf"/{locale}/sfi$", locale)
    screenshot(page, f"service-phone-{locale}")


@pytest.mark.parametrize("locale", LOCALES)
def test_staff_screens_are_accessible(new_page, logins, live_server, locale):
    north = site_id(live_server)
    sfi, preschool = service_ids(live_server, "sfi", "forskola")
    with preferred_language(live_server, logins["staff"].email, locale):
        page = new_page("tablet", locale)
        sign_in(page, logins["staff"])
        check(page, r"/sites/\d+/today$", locale)  # the Today screen with the visit form
        screenshot(page, f"today-tablet-{locale}", full_page=False)

        # The visit form half filled in, as a bridge builder sees it between two taps.
        form = page.locator("#record-form")
        form.locator("button.stepper-button[aria-controls=women][data-step='1']").tap()
        form.locator("button.stepper-button[aria-controls=children_1_3][data-step='1']").tap()
        form.locator("label.chip:has(input[name=languages][value=ar])").tap()
        form.locator("label.chip:has(input[name=topics][value=sfi])").tap()
        form.scroll_into_view_if_needed()
        assert_accessible(page)
        screenshot(page, f"visit-form-tablet-{locale}", full_page=False)

        page.goto(f"/sites/{north}/referrals/new")
        page.locator("label.chip").first.tap()
        check(page, r"/referrals/new$", locale)
        screenshot(page, f"referral-new-tablet-{locale}", full_page=False)
        page.goto(
            f"/sites/{north}/referrals/consent?service_id={sfi}&service_id={preschool}"
            f"&visitor_lang={locale}"
        )
        check(page, r"/referrals/consent\?", locale)
        page.locator("input#agree_processing").check()
        page.locator("input#agree_disclosure").check()
        page.locator("button[name=answer][value=yes]").click()
        expect(page.locator("input[name=first_name]")).to_be_visible()
        check(page, r"/referrals/consent$", locale)  # the contact details step


@pytest.mark.parametrize("locale", LOCALES)
def test_coordinator_screens_are_accessible(new_page, logins, live_server, locale):
    made = make_referral(live_server, "sfi", first_name="Sahra", phone="+46701740688")
    (sfi,) = service_ids(live_server, "sfi")
    with preferred_language(live_server, logins["coordinator"].email, locale):
        page = new_page("desktop", locale)
        sign_in(page, logins["coordinator"])
        check(page, r"/queue/$", locale)
        page.goto(f"/queue/services/{sfi}")
        check(page, rf"/queue/services/{sfi}$", locale)
        page.goto(f"/queue/referrals/{made.referral_ids[0]}")
        page.locator("#queue-contact button[type=submit]").click()
        expect(page.locator("#queue-contact a[href^='tel:']")).to_be_visible()
        page.locator(f"#referral-{made.referral_ids[0]} summary").click()
        check(page, r"/queue/referrals/\d+$", locale)
        page.goto("/stats/")
        check(page, r"/stats/$", locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_admin_index_is_accessible(new_page, logins, live_server, locale):
    with preferred_language(live_server, logins["admin"].email, locale):
        page = new_page("desktop", locale)
        sign_in(page, logins["admin"])
        check(page, r"/admin/$", locale)


def test_visit_form_is_completed_with_the_keyboard_alone(new_page, logins, live_server):
    with live_server.app.app_context():
        last_visit = db.session.scalar(select(func.max(Visit.id))) or 0
    page = new_page("desktop", "sv")
    sign_in(page, logins["staff"])
    expect(page.locator("#record-form")).to_be_visible()
    page.locator("main").focus()  # where the skip link leads; from here on, keys only
    form = page.locator("#record-form")

    tab_to(page, form.locator("button[aria-controls=women][data-step='1']"))
    assert_focus_visible(page)
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    expect(form.locator("input#women")).to_have_value("2")

    tab_to(page, form.locator("button[aria-controls=children_0_1][data-step='1']"))
    page.keyboard.press("Space")
    expect(form.locator("input#children_0_1")).to_have_value("1")

    chip = form.locator("input[name=languages][value=so]")
    if not chip.is_visible():
        tab_to(page, form.locator("details.more-languages > summary"))
        page.keyboard.press("Enter")
    tab_to(page, chip, max_presses=60)
    page.keyboard.press("Space")
    expect(chip).to_be_checked()
    ring = chip.evaluate("el => getComputedStyle(el.nextElementSibling).outlineStyle")
    assert ring != "none", "the focused chip shows no focus ring"

    new = form.locator("input[name=is_new][value=new]")
    tab_to(page, form.locator("input[name=is_new]:checked"), max_presses=80)
    page.keyboard.press("ArrowRight")  # radios: arrows move the choice within the group
    expect(new).to_be_checked()

    save = form.locator("button.save-visit")
    tab_to(page, save, max_presses=60)
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#today-status")).to_contain_text("Besöket är sparat.")

    with live_server.app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.id > last_visit))
        assert (visit.women, visit.children_0_1, visit.is_new) == (2, 1, True)
        assert [row.code for row in visit.languages] == ["so"]
