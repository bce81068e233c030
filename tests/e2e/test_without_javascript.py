"""With JavaScript off every page is a plain form: a bridge builder records a visit and refers a
visitor, and a coordinator logs a call, each stored as with scripts on."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from app import privacy
from app.extensions import db
from app.models import Consent, Referral, Service, User, Visit
from tests.e2e.helpers import sign_in
from tests.e2e.steps import NORTH, open_actions


def test_visit_referral_and_queue_action_work_without_javascript(new_page, logins, live_server):
    with live_server.app.app_context():
        last_visit = db.session.scalar(select(func.max(Visit.id))) or 0
        last_consent = db.session.scalar(select(func.max(Consent.id))) or 0

    page = new_page("tablet", "sv", javascript_enabled=False)
    sign_in(page, logins["staff"])
    form = page.locator("#record-form")
    expect(form.locator("button.stepper-button").first).to_be_hidden()  # nothing to drive them
    form.locator("input#other_adults").fill("3")
    form.locator("input#women").fill("6")
    form.locator("input#children_3_6").fill("1")
    form.locator("label.chip:has(input[name=languages][value=ar])").click()
    form.locator("label.chip:has(input[name=is_new][value=returning])").click()
    form.locator("button.save-visit").click()
    # Back on Today, with the day's totals and the confirmation beside Save in view.
    expect(page).to_have_url(re.compile(r"/sites/\d+/today#today-totals$"))
    expect(page.locator(".flash").first).to_have_text("Besöket är sparat.")

    with live_server.app.app_context():
        visit = db.session.scalar(select(Visit).where(Visit.id > last_visit))
        assert (visit.women, visit.other_adults, visit.children_3_6, visit.is_new) == (
            6,
            3,
            1,
            False,
        )
        assert [row.code for row in visit.languages] == ["ar"]
    expect(
        page.locator(f"li.visit-item:has(a[href$='/visits/{visit.id}/edit']) .visit-counts")
    ).to_contain_text("Vuxna: 9 Barn: 1")

    page.get_by_role("link", name="Mina hänvisningar").click()
    page.get_by_role("link", name=re.compile(f"Ny hänvisning · {NORTH}")).click()
    page.locator("label.chip", has_text="Samhällsorientering").click()
    page.locator("select[name=visitor_lang]").select_option("fa")
    page.get_by_role("button", name="Visa samtycket för besökaren").click()
    expect(page.locator("article#consent-text")).to_have_attribute("dir", "rtl")  # the visitor's
    page.locator("input#agree_processing").check()
    page.locator("input#agree_disclosure").check()
    page.locator("button[name=answer][value=yes]").click()
    page.locator("input[name=first_name]").fill("Parisa")
    page.locator("input[name=phone]").fill("0701740677")
    page.locator("input[name=interpreter_needed]").check()
    page.get_by_role("button", name="Spara hänvisningen").click()
    expect(page).to_have_url(re.compile(r"/referrals/receipt/\d+$"))

    with live_server.app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.id > last_consent))
        assert consent.locale_shown == "fa"
        recorder = db.session.get(User, consent.recorded_by_id)
        assert privacy.contact_details(consent, by=recorder).phone_e164 == "+46701740677"
        db.session.rollback()  # the test's own read is no staff member's: no audit event kept
        referral = db.session.scalar(select(Referral).where(Referral.consent_id == consent.id))
        assert (referral.language, referral.interpreter_needed) == ("fa", True)
        service_id = referral.service_id
        assert db.session.get(Service, service_id).slug == "so"

    desk = new_page("desktop", "sv", javascript_enabled=False)
    sign_in(desk, logins["coordinator"])
    desk.goto(f"/queue/services/{service_id}")
    row = open_actions(desk, referral.id)
    row.locator("select[name=result]").select_option("reached")
    row.get_by_role("button", name="Spara försöket").click()
    expect(desk).to_have_url(re.compile(rf"/queue/services/{service_id}$"))
    expect(desk.locator(f"#referral-{referral.id} .badge")).to_have_text("Kontaktad")

    with live_server.app.app_context():
        stored = db.session.get(Referral, referral.id)
        assert stored.status == "contacted" and stored.first_contact_at is not None
