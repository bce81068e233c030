"""A visitor withdraws consent through the staff: the contact details are erased at once, and
the coordinator who saw them a moment ago sees only that they are gone."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from app.extensions import db
from app.models import Consent, ContactDetails, Referral
from tests.e2e.helpers import sign_in
from tests.e2e.steps import make_referral

PHONE = "+46701740663"
NAME = "Nimo"


def test_withdrawn_consent_removes_the_contact_details_from_the_coordinators_view(
    new_page, logins, live_server
):
    made = make_referral(live_server, "sfi", first_name=NAME, phone=PHONE, language="so")
    (referral_id,) = made.referral_ids

    coordinator = new_page("desktop", "sv")
    sign_in(coordinator, logins["coordinator"])
    coordinator.goto(f"/queue/referrals/{referral_id}")
    coordinator.get_by_role("button", name="Visa kontaktuppgifter").click()
    expect(coordinator.locator("#queue-contact")).to_contain_text(PHONE)
    expect(coordinator.locator("#queue-contact")).to_contain_text(NAME)

    # The visitor asks the bridge builder to withdraw; the receipt is found by its code.
    staff = new_page("tablet", "sv")
    sign_in(staff, logins["staff"])
    staff.get_by_role("link", name="Mina hänvisningar").tap()
    staff.get_by_role("link", name=made.reference_code).tap()
    # The receipt is the visitor's, in Somali; its buttons are the staff's, in Swedish.
    staff.get_by_role("link", name="Återkalla samtycket").tap()
    expect(staff.locator("h1")).to_have_text("Återkalla samtycket")
    staff.get_by_role("button", name="Ja, återkalla och radera").tap()
    expect(staff.locator(".flash").first).to_have_text(
        "Samtycket är återkallat. Kontaktuppgifterna är raderade."
    )
    expect(staff.get_by_role("link", name="Återkalla samtycket")).to_have_count(0)

    coordinator.reload()
    contact = coordinator.locator("#queue-contact")
    expect(contact).to_contain_text("Kontaktuppgifterna är raderade")
    expect(contact.get_by_role("button")).to_have_count(0)
    expect(coordinator.locator("main")).not_to_contain_text(PHONE)
    expect(coordinator.locator("main")).not_to_contain_text(NAME)
    row = coordinator.locator(f"#referral-{referral_id}")
    expect(row.locator(".badge").first).to_have_text("Avslutad")
    expect(row.locator(".badge").nth(1)).to_have_text("Återkallad")
    # Asking again (a stale tab's form) reveals nothing either.
    token = json.loads(coordinator.locator("body").get_attribute("data-hx-headers"))
    answer = coordinator.request.post(f"/queue/referrals/{referral_id}/contact", headers=token)
    assert answer.ok and PHONE not in answer.text() and NAME not in answer.text()

    with live_server.app.app_context():
        consent = db.session.get(Consent, made.consent_id)
        assert consent.withdrawn_at is not None and consent.erased_at is not None
        assert db.session.get(ContactDetails, made.consent_id) is None
        referral = db.session.get(Referral, referral_id)
        assert (referral.status, referral.outcome) == ("closed", "withdrawn")
