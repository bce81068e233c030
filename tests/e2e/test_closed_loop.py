"""The closed loop (issue 21): a bridge builder refers a visitor to SFI with her consent read in
Somali and her choice of text messages; SFI Centrum's admissions signs in with its second
factor, finds the referral in its inbound queue and books a time; `flask send-outbox` then
delivers, to the local stand-in for the SMS provider, the confirmation with her reference code
and the booking in the published Somali text, each exactly once."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pyotp
from babel.dates import format_date
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.choices import ConsentPurpose, ConsentTextStatus
from app.extensions import db
from app.models import Consent, ConsentText, Partner, Referral, User
from app.partners.demo import DEMO_PARTNER_EMAIL, SFI_CENTRUM
from app.workdays import add_working_days, is_working_day, local_today
from tests.e2e.helpers import Login, login_form, logout_button, screenshot, settle, sign_in
from tests.e2e.steps import NORTH

FIRST_NAME = "Ubah"
PHONE = "070-123 45 67"
PHONE_E164 = "+46701234567"
PLACE = "SFI Centrum, Storgatan 1"
TIME = "10:00"
TOTP_SECRET = pyotp.random_base32()
# Placeholders of a message text ({date}, %(date)s, ...): what is left are the text's words.
PLACEHOLDER = re.compile(r"\{[^}]*\}|%\([^)]*\)s|\$\w+")


def next_week_working_day() -> date:
    monday = local_today() + timedelta(days=7 - local_today().weekday())
    return monday if is_working_day(monday) else add_working_days(monday, 1)


def refer_with_sms_in_somali(page: Page) -> str:
    """The staff's part on the tablet; returns the reference code the receipt shows."""
    page.get_by_role("link", name="Mina hänvisningar").tap()
    page.get_by_role("link", name=re.compile(f"Ny hänvisning · {NORTH}")).tap()
    page.locator("label.chip", has_text="SFI").tap()
    page.locator("select[name=visitor_lang]").select_option("so")
    page.get_by_role("button", name="Visa samtycket för besökaren").tap()

    expect(page.locator("article#consent-text")).to_have_attribute("lang", "so")
    page.locator("label[for=agree_processing]").tap()
    page.locator("label[for=agree_disclosure]").tap()
    page.locator("button[name=answer][value=yes]").tap()

    expect(page.locator("select[name=contact_language]")).to_have_value("so")
    page.locator("input[name=first_name]").fill(FIRST_NAME)
    page.locator("input[name=phone]").fill(PHONE)
    sms = page.locator("label.chip:has(input[name=message_channel][value=sms])")
    sms.tap()
    expect(sms.locator("input")).to_be_checked()
    page.get_by_role("button", name="Spara hänvisningen").tap()
    expect(page).to_have_url(re.compile(r"/referrals/receipt/\d+$"))
    code = page.locator(".receipt-code strong")
    expect(code).to_have_text(re.compile(r"^\w{4}-\w{4}$"))
    return code.inner_text()


def sign_in_with_code(page: Page, login: Login, secret: str) -> None:
    """The password, then the authenticator's code: partners sign in with two factors."""
    page.goto("/login")
    form = login_form(page)
    form.locator("input[name=email]").fill(login.email)
    form.locator("input[name=password]").fill(login.password)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/code"))
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Fortsätt").click()
    expect(logout_button(page)).to_be_visible()


def partner_totp(live_server, secret: str | None, last_step: int | None) -> tuple:
    """Set the demo partner's TOTP secret and last step; return what they were."""
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.email == DEMO_PARTNER_EMAIL))
        before = (user.totp_secret, user.totp_last_step)
        user.totp_secret, user.totp_last_step = secret, last_step
        db.session.commit()
    return before


def send_outbox(live_server) -> None:
    result = live_server.app.test_cli_runner().invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output


def test_a_referral_booked_by_the_partner_reaches_the_visitor_by_sms_in_somali(
    new_page, logins, live_server, sms_provider
):
    already = len(sms_provider.received)
    staff_page = new_page("tablet", "sv")
    sign_in(staff_page, logins["staff"])
    reference_code = refer_with_sms_in_somali(staff_page)

    with live_server.app.app_context():
        referral = db.session.scalar(
            select(Referral).join(Consent).where(Consent.reference_code == reference_code)
        )
        assert referral.consent.message_channel == "sms"
        referral_id = referral.id
        partner = db.session.scalar(select(Partner).where(Partner.name == SFI_CENTRUM))
        partner_phone = partner.phone
        booked_text = db.session.scalar(
            select(ConsentText)
            .where(
                ConsentText.organisation_id == partner.organisation_id,
                ConsentText.purpose == ConsentPurpose.MESSAGE_BOOKED,
                ConsentText.locale == "so",
                ConsentText.status == ConsentTextStatus.PUBLISHED,
            )
            .order_by(ConsentText.version.desc())
        ).body

    # The confirmation goes out at the next run, not in the staff's request.
    assert sms_provider.received[already:] == []
    send_outbox(live_server)
    confirmation = sms_provider.received[already:]
    assert len(confirmation) == 1 and confirmation[0].form["to"] == PHONE_E164
    assert reference_code in confirmation[0].form["message"]

    # The demo's partner has no second factor yet (a person enrols at the first sign-in): the
    # test is its authenticator app, and puts the demo's state back afterwards.
    before = partner_totp(live_server, TOTP_SECRET, None)
    try:
        page = new_page("desktop", "sv")
        sign_in_with_code(page, logins["partner"], TOTP_SECRET)
        expect(page).to_have_url(re.compile(r"/inbound/"))
        page.locator(f"a[href$='/inbound/referrals/{referral_id}']").first.click()
        expect(page).to_have_url(re.compile(rf"/inbound/referrals/{referral_id}$"))
        expect(page.locator("main")).to_contain_text(FIRST_NAME)

        day = next_week_working_day()
        booking = page.locator("form:has(input[name=step][value=booked])")
        booking.locator("input[name=day]").fill(day.isoformat())
        booking.locator("input[name=time]").fill(TIME)
        booking.locator("input[name=place]").fill(PLACE)
        booking.locator("button[type=submit]").click()
        settle(page)
        expect(page.locator("main")).to_contain_text(PLACE)
        screenshot(page, "partner-referral-booked")
    finally:
        partner_totp(live_server, *before)

    with live_server.app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.partner_step == "booked" and referral.appointment_place == PLACE

    send_outbox(live_server)
    sent = sms_provider.received[already:]
    assert [r.form["to"] for r in sent] == [PHONE_E164, PHONE_E164]
    booked = sent[1].form["message"]
    assert TIME in booked and PLACE in booked and partner_phone in booked
    assert format_date(day, "full", locale="so") in booked  # "Isniin, Diseembar 7, 2026"
    # The published Somali text, its words around the filled-in places.
    words = {w for w in re.findall(r"\w{5,}", PLACEHOLDER.sub(" ", booked_text))}
    assert words, booked_text
    assert all(w in booked for w in words), (words, booked)
    # 46elks's API: its path, the account's credentials, the sender configured.
    assert {r.path for r in sent} == {"/a1/sms"}
    assert all(r.headers.get("Authorization", "").startswith("Basic ") for r in sent)
    assert all(r.form["from"] == "Bro" for r in sent)

    # Exactly once: the next run finds nothing left to send.
    send_outbox(live_server)
    assert len(sms_provider.received) == already + 2
