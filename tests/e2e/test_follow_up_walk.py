"""A referral from consent with follow-up to a six-month result (issue 20): a bridge builder
refers a visitor to SFI and she also agrees to be contacted again later; a coordinator closes
the referral as started; seven months on (the close is moved back in the database), the
coordinator opens the queue's "Uppföljning" tab, sees the six-month follow-up overdue, reveals
the contact details (she agreed), records "Har arbete", and the follow-up leaves the list."""

from __future__ import annotations

import re
from datetime import datetime, time

from dateutil.relativedelta import relativedelta
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func, select

from app.choices import FollowUpStatus
from app.extensions import db
from app.followup import records
from app.models import Consent, FollowUp, Referral, Service
from app.workdays import local_today
from tests.e2e.helpers import settle, sign_in
from tests.e2e.steps import NORTH, open_actions, site_id

FIRST_NAME = "Hawa"
PHONE = "070-174 06 77"
SFI = "SFI – svenska för invandrare"


def refer_with_follow_up(page: Page, north_id: int) -> None:
    """The bridge builder's part on the tablet: SFI, the consent in Swedish with all three
    boxes ticked (the third is the optional follow-up agreement), then the contact details."""
    page.goto(f"/sites/{north_id}/referrals/new")
    page.locator("label.chip", has_text="SFI").tap()
    page.locator("select[name=visitor_lang]").select_option("sv")
    page.get_by_role("button", name="Visa samtycket för besökaren").tap()
    page.locator("label[for=agree_processing]").tap()
    page.locator("label[for=agree_disclosure]").tap()
    page.locator("label[for=agree_follow_up]").tap()
    expect(page.locator("input#agree_follow_up")).to_be_checked()
    page.locator("button[name=answer][value=yes]").tap()
    page.locator("input[name=first_name]").fill(FIRST_NAME)
    page.locator("input[name=phone]").fill(PHONE)
    page.get_by_role("button", name="Spara hänvisningen").tap()
    expect(page).to_have_url(re.compile(r"/referrals/receipt/\d+$"))


def move_close_back(live_server, referral_id: int, months: int) -> dict[int, int]:
    """The close `months` months and a week ago, its follow-ups planned again from that day:
    {months: follow-up id}."""
    with live_server.app.app_context():
        referral = db.session.get(Referral, referral_id)
        closed_on = local_today() - relativedelta(months=months, days=7)
        referral.closed_at = datetime.combine(closed_on, time(10, 0))
        db.session.execute(delete(FollowUp).where(FollowUp.referral_id == referral_id))
        records.plan(referral, closed_on=closed_on)
        db.session.commit()
        planned = dict(
            db.session.execute(
                select(FollowUp.months, FollowUp.id).where(FollowUp.referral_id == referral_id)
            ).all()
        )
        db.session.remove()
    return planned


def test_a_referral_walks_from_consent_with_follow_up_to_a_six_month_result(
    new_page, logins, live_server
):
    north_id = site_id(live_server)
    with live_server.app.app_context():
        last_consent = db.session.scalar(select(func.max(Consent.id))) or 0

    staff = new_page("tablet", "sv")
    sign_in(staff, logins["staff"])
    refer_with_follow_up(staff, north_id)

    with live_server.app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.id > last_consent))
        assert consent.follow_up_text_id is not None  # she agreed to be contacted again
        referral_id = db.session.scalar(
            select(Referral.id)
            .join(Service, Service.id == Referral.service_id)
            .where(Referral.consent_id == consent.id, Service.slug == "sfi")
        )
        db.session.remove()

    # The coordinator closes the referral as started: three follow-ups are planned.
    page = new_page("desktop", "sv")
    sign_in(page, logins["coordinator"])
    page.goto(f"/queue/referrals/{referral_id}")
    row = open_actions(page, referral_id)
    row.locator("select[name=to_status]").select_option("closed")
    row.locator("select[name=outcome]").select_option("started")
    row.get_by_role("button", name="Spara steget").click()
    settle(page)
    expect(page.locator(f"#referral-{referral_id} .badge").nth(1)).to_have_text("Började")
    with live_server.app.app_context():
        months = db.session.scalars(
            select(FollowUp.months).where(FollowUp.referral_id == referral_id)
        ).all()
    assert sorted(months) == [3, 6, 12]

    # Seven months later: the three- and six-month follow-ups are due, the twelve-month not yet.
    planned = move_close_back(live_server, referral_id, months=7)
    six = planned[6]

    page.goto("/queue/")
    page.locator(".queue-services h2 a", has_text=SFI).click()
    page.locator(".queue-tabs a", has_text="Uppföljning").click()
    expect(page).to_have_url(re.compile(r"tab=follow_up"))
    item = page.locator(f"#follow-up-{six}")
    expect(item).to_contain_text(f"Hänvisning {referral_id}: uppföljning efter 6 månader")
    expect(item).to_contain_text("Försenad")
    expect(item).to_contain_text(NORTH)
    expect(page.locator(f"#follow-up-{planned[12]}")).to_be_visible()
    expect(page.locator(".follow-up-list")).not_to_contain_text(FIRST_NAME)

    item.get_by_role("link", name="Fyll i resultatet").click()
    expect(page).to_have_url(re.compile(rf"/queue/follow-ups/{six}$"))
    expect(page.locator("h1")).to_have_text("Uppföljning efter 6 månader")
    # She agreed to be contacted again: the details are one explicit, audited click away.
    expect(page.locator("#queue-contact")).not_to_contain_text(FIRST_NAME)
    page.get_by_role("button", name="Visa kontaktuppgifter").click()
    expect(page.locator("#queue-contact")).to_contain_text(FIRST_NAME)

    page.get_by_label("Har arbete").check()
    page.get_by_role("button", name="Spara resultatet").click()
    expect(page).to_have_url(re.compile(r"/queue/services/\d+\?tab=follow_up$"))
    expect(page.locator(".flash").first).to_contain_text("Uppföljningen är sparad.")
    expect(page.locator(f"#follow-up-{six}")).to_have_count(0)
    expect(page.locator(f"#follow-up-{planned[3]}")).to_be_visible()
    expect(page.locator(f"#follow-up-{planned[12]}")).to_be_visible()

    with live_server.app.app_context():
        done = db.session.get(FollowUp, six)
        assert (done.status, done.result, done.reason_code) == (
            FollowUpStatus.DONE,
            "in_work",
            None,
        )
        assert done.recorded_at is not None and done.recorded_by_id is not None
        db.session.remove()
