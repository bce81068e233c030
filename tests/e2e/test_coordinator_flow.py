"""A coordinator at a desktop works the queues: finds a visitor's two referrals, reveals the
contact details (an audited read), logs a failed call, moves one on and closes the other."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Referral, User
from tests.e2e.helpers import settle, sign_in
from tests.e2e.steps import make_referral, open_actions

COORDINATOR_NAME = "Sara (samordnare)"


def open_queue(page: Page, name: str) -> None:
    page.goto("/queue/")
    page.locator(".queue-services h2 a", has_text=name).click()
    expect(page.locator("h1")).to_have_text(f"Kö: {name}")


def test_coordinator_finds_reveals_logs_a_call_moves_and_closes(new_page, logins, live_server):
    made = make_referral(
        live_server, "sfi", "forskola", first_name="Warda", phone="+46701740651", language="ar"
    )
    with live_server.app.app_context():
        ids = dict(
            db.session.execute(
                select(Referral.service_id, Referral.id).where(
                    Referral.consent_id == made.consent_id
                )
            ).all()
        )
        sfi_id, preschool_id = sorted(ids.values())

    page = new_page("desktop", "sv")
    sign_in(page, logins["coordinator"])
    expect(page).to_have_url(re.compile(r"/queue/$"))

    # Both referrals wait in their services' queues, with no contact details on the rows.
    open_queue(page, "SFI – svenska för invandrare")
    sfi_row = page.locator(f"#referral-{sfi_id}")
    expect(sfi_row.locator(".badge")).to_have_text("Ny")
    expect(sfi_row).to_contain_text(re.compile("arabiska", re.I))
    expect(sfi_row).not_to_contain_text("Warda")
    open_queue(page, "Förskola")
    expect(page.locator(f"#referral-{preschool_id} .badge")).to_have_text("Ny")

    # The preschool referral: reveal the contact details, then close it as started.
    page.get_by_role("link", name=f"Hänvisning {preschool_id}").click()
    expect(page.locator("#queue-contact")).not_to_contain_text("+46701740651")
    page.get_by_role("button", name="Visa kontaktuppgifter").click()
    contact = page.locator("#queue-contact")
    expect(contact.get_by_role("link", name="+46701740651")).to_have_attribute(
        "href", "tel:+46701740651"
    )
    expect(contact).to_contain_text("Warda")
    expect(contact).to_contain_text("Att du såg uppgifterna har loggats.")

    row = open_actions(page, preschool_id)
    row.locator("select[name=to_status]").select_option("closed")
    row.locator("select[name=outcome]").select_option("started")
    row.get_by_role("button", name="Spara steget").click()
    settle(page)
    row = page.locator(f"#referral-{preschool_id}")
    expect(row.locator(".badge").first).to_have_text("Avslutad")
    expect(row.locator(".badge").nth(1)).to_have_text("Började")
    expect(row.locator("details.queue-actions")).to_have_count(0)

    # The SFI referral, in its queue: a call nobody answered, then "in progress".
    open_queue(page, "SFI – svenska för invandrare")
    row = open_actions(page, sfi_id)
    row.locator("select[name=channel]").select_option("phone")
    row.locator("select[name=result]").select_option("no_answer")
    row.get_by_role("button", name="Spara försöket").click()
    settle(page)
    failed = page.locator(f"#referral-{sfi_id} .queue-facts div", has_text="Misslyckade försök")
    expect(failed.locator("dd")).to_have_text("1")

    row = open_actions(page, sfi_id)
    row.locator("select[name=to_status]").select_option("in_progress")
    row.get_by_role("button", name="Spara steget").click()
    settle(page)
    expect(page.locator(f"#referral-{sfi_id} .badge")).to_have_text("Pågår")

    page.get_by_role("link", name=f"Hänvisning {sfi_id}").click()
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Kontaktförsök: Telefonsamtal, Inget svar")
    expect(timeline).to_contain_text("Steg: Ny → Pågår")
    expect(timeline.locator(".timeline-who", has_text=COORDINATOR_NAME)).to_have_count(2)

    with live_server.app.app_context():
        sfi = db.session.get(Referral, sfi_id)
        preschool = db.session.get(Referral, preschool_id)
        assert (sfi.status, sfi.failed_attempts, sfi.outcome) == ("in_progress", 1, None)
        assert (preschool.status, preschool.outcome) == ("closed", "started")
        assert preschool.closed_at is not None
        coordinator_id = db.session.scalar(
            select(User.id).where(User.email == logins["coordinator"].email)
        )
        reads = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "contact_read",
                AuditEvent.object_id == made.consent_id,
                AuditEvent.user_id == coordinator_id,
            )
        ).all()
        assert len(reads) == 1
