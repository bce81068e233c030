"""A bridge builder's day on the tablet: visit groups recorded with taps only, then one visitor
referred to SFI and preschool after reading the consent in Arabic."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, inspect, select

from app import privacy
from app.extensions import db
from app.models import (
    Consent,
    Referral,
    Service,
    Site,
    User,
    Visit,
    VisitLanguage,
)
from tests.e2e.helpers import settle, sign_in
from tests.e2e.steps import NORTH

# Three groups, each (taps per stepper, languages, new or returning). The counts are larger
# than any demo group's, so each row on the Today screen can only be one of these.
GROUPS = [
    ({"women": 4, "children_1_3": 1}, ["ar"], "new"),
    ({"women": 1, "men": 1, "children_0_1": 5}, ["so", "ti"], "returning"),
    ({"women": 5, "children_3_6": 2}, ["fa"], "new"),
]
FIRST_NAME = "Rahma"
PHONE = "070-174 06 42"
PHONE_E164 = "+46701740642"


def group_count(page: Page) -> int:
    return int(page.locator("#today-totals dl > div").first.locator("dd").inner_text())


def tap_stepper(page: Page, field: str, times: int) -> None:
    plus = page.locator(f"#record-form button.stepper-button[aria-controls={field}][data-step='1']")
    for _ in range(times):
        plus.tap()
    expect(page.locator(f"#record-form input#{field}")).to_have_value(str(times))


def tap_chip(page: Page, name: str, value: str) -> None:
    chip = page.locator(f"#record-form label.chip:has(input[name={name}][value={value}])")
    if not chip.is_visible():  # a language outside the site's top list: under "more"
        page.locator("#record-form details.more-languages > summary").tap()
    chip.tap()
    expect(chip.locator("input")).to_be_checked()


def record_group(page: Page, counts: dict, langs: list[str], is_new: str) -> None:
    before = group_count(page)
    for field, times in counts.items():
        tap_stepper(page, field, times)
    for code in langs:
        tap_chip(page, "languages", code)
    tap_chip(page, "is_new", is_new)
    page.locator("#record-form button.save-visit").tap()
    settle(page)
    expect(page.locator("#today-totals dl > div").first.locator("dd")).to_have_text(str(before + 1))
    # A fresh, empty form is swapped in for the next group.
    expect(page.locator("#record-form input#women")).to_have_value("0")


def test_staff_records_groups_by_taps_and_refers_a_visitor_with_arabic_consent(
    new_page, logins, live_server
):
    staff = logins["staff"]
    with live_server.app.app_context():
        last_visit = db.session.scalar(select(func.max(Visit.id))) or 0
        last_consent = db.session.scalar(select(func.max(Consent.id))) or 0

    page = new_page("tablet", "sv")
    sign_in(page, staff)
    expect(page).to_have_url(re.compile(r"/sites/\d+/today$"))
    expect(page.locator("h1")).to_contain_text(NORTH)

    for counts, langs, is_new in GROUPS:
        record_group(page, counts, langs, is_new)
    expect(page.locator("#today-status")).to_contain_text("Besöket är sparat.")

    with live_server.app.app_context():
        visits = db.session.scalars(
            select(Visit).where(Visit.id > last_visit).order_by(Visit.id)
        ).all()
        stored = [
            (
                {k: getattr(v, k) for k in counts if getattr(v, k)},
                [row.code for row in v.languages],
                v.is_new,
            )
            for v, (counts, _l, _n) in zip(visits, GROUPS, strict=False)
        ]
        visit_ids = [v.id for v in visits]
        staff_id = db.session.scalar(select(User.id).where(User.email == staff.email))
        assert all(v.recorded_by_id == staff_id for v in visits)
    assert len(visit_ids) == 3
    assert stored == [(c, sorted(langs), n == "new") for c, langs, n in GROUPS]
    # The Today list shows each of them, with its counts.
    for visit_id, (counts, _langs, _new) in zip(visit_ids, GROUPS, strict=True):
        item = page.locator(f"#today-list li.visit-item:has(a[href$='/visits/{visit_id}/edit'])")
        adults = sum(n for k, n in counts.items() if not k.startswith("children"))
        children = sum(n for k, n in counts.items() if k.startswith("children"))
        expect(item.locator(".visit-counts")).to_contain_text(f"Vuxna: {adults} Barn: {children}")

    # Refer one visitor: services and language chosen by taps, consent read in Arabic.
    page.get_by_role("link", name="Mina hänvisningar").tap()
    page.get_by_role("link", name=re.compile(f"Ny hänvisning · {NORTH}")).tap()
    page.locator("label.chip", has_text="SFI").tap()
    page.locator("label.chip", has_text="Förskola").tap()
    page.locator("select[name=visitor_lang]").select_option("ar")
    page.get_by_role("button", name="Visa samtycket för besökaren").tap()

    # The visitor's part in Arabic, right to left; the page around it stays the staff's Swedish.
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("article#consent-text")).to_have_attribute("lang", "ar")
    expect(page.locator("article#consent-text")).to_have_attribute("dir", "rtl")
    body = page.locator(".consent-body").first
    expect(body).to_have_attribute("lang", "ar")
    # The follow-up agreement (issue 20), its own text in her language too, and optional.
    expect(page.locator(".consent-follow-up .consent-body")).to_have_attribute("lang", "ar")
    expect(page.locator("input[name=agree_follow_up]")).not_to_be_checked()
    assert body.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(body).to_contain_text(re.compile(r"[\u0600-\u06FF]{3}"))  # Arabic script
    expect(page.locator(".consent-services li")).to_have_count(2)
    page.locator("label[for=agree_processing]").tap()
    page.locator("label[for=agree_disclosure]").tap()
    page.locator("button[name=answer][value=yes]").tap()

    # Back in the staff's Swedish: the contact details the flow asks for.
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("select[name=contact_language]")).to_have_value("ar")
    page.locator("input[name=first_name]").fill(FIRST_NAME)
    page.locator("input[name=phone]").fill(PHONE)
    page.get_by_role("button", name="Spara hänvisningen").tap()
    expect(page).to_have_url(re.compile(r"/referrals/receipt/\d+$"))
    expect(page.locator(".receipt-code strong")).to_have_text(re.compile(r"^\w{4}-\w{4}$"))

    with live_server.app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.id > last_consent))
        assert consent.locale_shown == "ar"
        assert consent.data_processing_agreed and consent.disclosure_agreed
        assert consent.recorded_by_id == staff_id
        contact = privacy.contact_details(consent, by=db.session.get(User, staff_id))
        db.session.rollback()  # the test's own read is no staff member's: no audit event kept
        assert (contact.first_name, contact.phone_e164) == (FIRST_NAME, PHONE_E164)
        referrals = db.session.execute(
            select(Service.slug, Referral.status, Referral.language, Site.name)
            .join(Service, Service.id == Referral.service_id)
            .join(Site, Site.id == Referral.site_id)
            .where(Referral.consent_id == consent.id)
            .order_by(Service.slug)
        ).all()
        assert [tuple(r) for r in referrals] == [
            ("forskola", "new", "ar", NORTH),
            ("sfi", "new", "ar", NORTH),
        ]
        # The visits hold no personal data: counts and codes only, and nothing the visitor
        # told us turns up in them.
        columns = {c.key for c in inspect(Visit).columns}
        assert columns == {
            "id",
            "site_id",
            "visit_date",
            "part_of_day",
            "women",
            "men",
            "other_adults",
            "children_0_1",
            "children_1_3",
            "children_3_6",
            "is_new",
            "topics",
            "recorded_by_id",
            "created_at",
            # the programme (issue 19): a session id, a coded place, a yes/no
            "session_id",
            "outreach_place",
            "after_outreach",
        }
        assert {c.key for c in inspect(VisitLanguage).columns} <= {
            "id",
            "visit_id",
            "code",
            "site_id",
            "visit_date",
        }
        for visit in db.session.scalars(select(Visit).where(Visit.id.in_(visit_ids))):
            values = [str(getattr(visit, c)) for c in columns]
            values += [row.code for row in visit.languages]
            assert not any(FIRST_NAME in v or "0701740642" in v for v in values)
