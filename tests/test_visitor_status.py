"""The visitor's side of issue 21: the channel she chooses for messages at the contact step,
the confirmation queued with the consent, what the receipt and the register extract say about
her messages, and her public status page behind the receipt's code and her phone number."""

import re
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale, format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import privacy
from app.choices import (
    ConsentMethod,
    ConsentPurpose,
    MessageChannel,
    MessageKind,
    MessageStatus,
    Outcome,
    PartnerStep,
    ReferralStatus,
    TranslationStatus,
)
from app.extensions import db
from app.models import (
    AuditEvent,
    Consent,
    ContactDetails,
    OutboxMessage,
    Referral,
    Service,
    ServiceTranslation,
    utcnow,
)
from app.referrals import flow

PHONE = "+46701234567"


def make_service(org, slug, names=None) -> Service:
    service = Service(organisation_id=org.id, slug=slug)
    for locale, name in (names or {"sv": slug.upper()}).items():
        service.translations.append(
            ServiceTranslation(locale=locale, name=name, status=TranslationStatus.REVIEWED)
        )
    db.session.add(service)
    db.session.commit()
    return service


@pytest.fixture
def w(make):
    """One organisation (the public one: the only one), a site, a staff member, two services
    and published consent texts in sv and ar."""
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site], name="Personal Persson")
    sfi = make_service(org, "sfi", {"sv": "SFI", "so": "SFI af-Soomaali", "ar": "سفي"})
    so = make_service(org, "so")
    text_sv = make.consent_text(org, "sv", body="Svensk samtyckestext.")
    text_ar = make.consent_text(org, "ar", body="نص الموافقة")
    return SimpleNamespace(
        org=org, site=site, staff=staff, sfi=sfi, so=so, text_sv=text_sv, text_ar=text_ar
    )


def contact_data(w, key="key-1", **over) -> dict:
    data = {
        "service_id": [w.sfi.id, w.so.id],
        "visitor_lang": "ar",
        "text_id": w.text_ar.id,
        "form_key": key,
        "agree_processing": "y",
        "agree_disclosure": "y",
        "method": ConsentMethod.TABLET.value,
        "first_name": "Zainabqa",
        "phone": "070-123 45 67",
        "email": "",
        "contact_language": "so",
        "best_time": "morning",
    }
    data.update(over)
    return data


def refer(client, w, **over):
    return client.post(f"/sites/{w.site.id}/referrals", data=contact_data(w, **over))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored() -> bool:
    return count(Consent) == 0 and count(ContactDetails) == 0 and count(Referral) == 0


# -- the channel at the contact step ----------------------------------------------------------


def test_contact_step_offers_no_messages_by_default(client, w, login):
    login(w.staff)
    page = client.post(
        f"/sites/{w.site.id}/referrals/consent",
        data={
            "service_id": [w.sfi.id],
            "visitor_lang": "ar",
            "text_id": w.text_ar.id,
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": ConsentMethod.TABLET.value,
        },
    ).get_data(as_text=True)
    assert "Vill hon få besked om hänvisningen?" in page
    checked = re.findall(
        r'<input type="radio" name="message_channel" value="([^"]*)" checked', page
    )
    assert checked == [""]
    assert 'value="sms"' in page and 'value="email"' in page


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"message_channel": "sms", "phone": "", "email": "a@example.se"}, "För sms behövs"),
        ({"message_channel": "email", "email": ""}, "För e-post behövs"),
    ],
)
def test_a_channel_needs_its_address_with_a_message_beside_the_field(
    client, w, login, over, message
):
    login(w.staff)
    response = refer(client, w, **over)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="message_channel-error"><li>' + message, page)
    assert nothing_stored() and count(OutboxMessage) == 0


def test_an_unknown_channel_is_refused(client, w, login):
    login(w.staff)
    assert refer(client, w, message_channel="pigeon").status_code == 422
    assert nothing_stored()


def test_no_channel_stores_none_and_queues_nothing(client, w, login):
    login(w.staff)
    assert refer(client, w).status_code == 303
    consent = db.session.scalar(select(Consent))
    assert consent.message_channel is None
    assert count(OutboxMessage) == 0
    receipt = client.get(f"/referrals/receipt/{consent.id}").get_data(as_text=True)
    with force_locale("so"):
        assert _("Du får inga meddelanden från oss.") in receipt


def test_the_confirmation_is_queued_in_the_consents_transaction(client, w, login, monkeypatch):
    """A failing queue leaves nothing behind: the consent, its contact details and referrals
    are written in the same transaction as the message, or not at all."""
    seen = []

    def failing(consent):
        seen.append(consent.message_channel)
        raise RuntimeError("the outbox is down")

    monkeypatch.setattr(flow.outbox, "queue_confirmation", failing)
    login(w.staff)
    assert refer(client, w, message_channel="sms").status_code == 500
    db.session.rollback()
    assert seen == [MessageChannel.SMS]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("channel", "over"),
    [("sms", {}), ("email", {"phone": "", "email": "zainab@example.se"})],
)
def test_a_chosen_channel_is_stored_and_its_confirmation_queued_not_sent(
    client, w, make, login, channel, over
):
    make.consent_text(
        w.org,
        "so",
        purpose=ConsentPurpose.MESSAGE_CONFIRMATION,
        body="Koodkaaga waa {code}. {services}, {site}.",
    )
    login(w.staff)
    assert refer(client, w, message_channel=channel, **over).status_code == 303
    consent = db.session.scalar(select(Consent))
    assert consent.message_channel == channel
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.consent_id, m.kind, m.channel, m.status) for m in messages] == [
        (consent.id, MessageKind.CONFIRMATION, channel, MessageStatus.QUEUED)
    ]
    assert messages[0].sent_at is None and messages[0].attempts == 0
    assert messages[0].locale == "so"  # her contact language
    # A double tap stores one consent and one message.
    assert refer(client, w, message_channel=channel, **over).status_code == 303
    assert count(Consent) == 1 and count(OutboxMessage) == 1
    receipt = client.get(f"/referrals/receipt/{consent.id}").get_data(as_text=True)
    said = {
        "sms": "Du får ett sms med koden, och ett till när du har fått en tid.",
        "email": "Du får ett e-brev med koden, och ett till när du har fått en tid.",
    }[channel]
    with force_locale("so"):
        assert _(said) in receipt


def test_receipt_shows_the_status_page_address(client, w, login):
    login(w.staff)
    refer(client, w)
    consent = db.session.scalar(select(Consent))
    receipt = client.get(f"/referrals/receipt/{consent.id}").get_data(as_text=True)
    assert "http://localhost/so/status" in receipt


# -- the register extract lists her messages ---------------------------------------------------


def test_extract_lists_messages_from_their_anonymous_columns_only(client, w, make, login):
    consent = make.referral_consent(
        w.site, [w.sfi], w.staff, consent_text=w.text_sv, message_channel="sms"
    )
    sent_at = utcnow() - timedelta(days=1)
    for n, (kind, status, error) in enumerate(
        [
            (MessageKind.CONFIRMATION, MessageStatus.SENT, None),
            (MessageKind.BOOKED, MessageStatus.FAILED, "rejected:400:21211"),
        ]
    ):
        db.session.add(
            OutboxMessage(
                organisation_id=w.org.id,
                consent_id=consent.id,
                kind=kind,
                channel=MessageChannel.SMS,
                locale="ar",
                idempotency_key=f"test-{n}",
                key_id="k",
                recipient_enc=b"SEALEDRECIPIENT",
                body_enc=b"SEALEDBODY",
                status=status,
                last_error=error,
                sent_at=sent_at if status == MessageStatus.SENT else None,
            )
        )
    db.session.commit()
    login(w.staff)
    response = client.post(
        "/referrals/extract", data={"code": consent.reference_code, "phone": PHONE}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    with force_locale("ar"):
        for text in (
            MessageKind.CONFIRMATION.label,
            MessageKind.BOOKED.label,
            MessageChannel.SMS.label,
            MessageStatus.SENT.label,
            MessageStatus.FAILED.label,
            _("Numret godtogs inte av sms-leverantören"),
        ):
            assert text in page, text
    assert "SEALED" not in page and "21211" not in page and "rejected" not in page


# -- the public status page --------------------------------------------------------------------


def look_up(client, code, phone=PHONE, lang="sv"):
    return client.post(f"/{lang}/status", data={"code": code, "phone": phone})


def page_of(response) -> str:
    return response.get_data(as_text=True)


def test_status_page_asks_for_the_code_and_phone_and_is_never_cached(client, w):
    response = client.get("/so/status")
    page = page_of(response)
    assert response.status_code == 200
    assert '<html lang="so" dir="ltr"' in page
    assert 'name="code"' in page and 'name="phone"' in page
    assert "no-store" in response.headers["Cache-Control"]
    assert client.get("/ar-SE/status").headers["Location"].endswith("/ar/status")


@pytest.mark.parametrize("lang", ["sv", "so", "ar"])
def test_status_page_says_where_each_referral_stands_in_her_language(client, w, make, lang):
    consent = make.referral_consent(
        w.site, [w.sfi], w.staff, consent_text=w.text_sv, first_name="Zainabqa"
    )
    referral = consent.referrals[0]

    def sentence(text, **values):
        page = page_of(look_up(client, consent.reference_code, lang=lang))
        with force_locale(lang):
            assert _(text, **values) in page, text
        return page

    page = sentence("Hänvisningen är skickad")
    assert {"sv": "SFI", "so": "SFI af-Soomaali", "ar": "سفي"}[lang] in page
    assert consent.reference_code in page
    if lang == "ar":
        assert '<html lang="ar" dir="rtl"' in page

    referral.received_at, referral.partner_step = utcnow(), PartnerStep.RECEIVED
    db.session.commit()
    sentence("Mottagaren har fått den")

    # 09:30 UTC on 3 December is 10:30 in Stockholm (winter time).
    referral.partner_step = PartnerStep.BOOKED
    referral.appointment_at = datetime(2026, 12, 3, 9, 30)
    referral.appointment_place = "Storgatan 1, rum 4"
    db.session.commit()
    with force_locale(lang):  # Babel moves the UTC time to Sweden's clock
        date = format_date(referral.appointment_at, "long")
        time = format_time(referral.appointment_at, "short")
    assert "10:30" in time
    sentence(
        "Du har en tid: %(date)s kl %(time)s, %(place)s",
        date=date,
        time=time,
        place="Storgatan 1, rum 4",
    )

    referral.partner_step = PartnerStep.STARTED
    db.session.commit()
    sentence("Du har börjat")

    referral.partner_step = PartnerStep.DECLINED
    referral.close(Outcome.NO_PLACE, by_id=None, at=utcnow())
    db.session.commit()
    page = sentence("Avslutad")
    with force_locale(lang):
        assert _("Det fanns ingen plats.") in page

    assert "Zainabqa" not in page and "701234567" not in page and "70-123" not in page
    assert w.staff.name not in page


def test_a_coordinators_contact_reads_as_received_and_a_close_as_its_outcome(client, w, make):
    consent = make.referral_consent(w.site, [w.sfi, w.so], w.staff, consent_text=w.text_sv)
    first, second = consent.referrals
    first.status = ReferralStatus.CONTACTED
    second.close(Outcome.UNREACHABLE, by_id=w.staff.id, at=utcnow())
    db.session.commit()
    page = page_of(look_up(client, consent.reference_code.replace("-", "").lower()))
    assert "Mottagaren har fått den" in page
    assert "Avslutad. Vi kunde inte nå dig." in page


def test_wrong_phone_and_unknown_code_get_the_same_answer(client, w, make):
    consent = make.referral_consent(w.site, [w.sfi], w.staff, consent_text=w.text_sv)
    wrong_phone = look_up(client, consent.reference_code, phone="0709999999")
    unknown_code = look_up(client, "ZZZZ-ZZZZ")
    bad_phone = look_up(client, consent.reference_code, phone="not a number")
    generic = "Vi hittade ingen hänvisning. Kontrollera koden och telefonnumret och försök igen."
    bodies = []
    for response in (wrong_phone, unknown_code, bad_phone):
        assert response.status_code == 404
        body = page_of(response)
        assert generic in body and "Hänvisningen är skickad" not in body
        bodies.append(re.sub(r'value="[^"]*"', "", body))
    assert bodies[0] == bodies[1] == bodies[2]


def test_an_empty_form_is_answered_beside_the_fields(client, w):
    response = look_up(client, "", phone="")
    assert response.status_code == 422
    assert "Skriv koden från ditt kvitto." in page_of(response)


def test_lookups_are_audited_found_or_not(client, w, make):
    consent = make.referral_consent(w.site, [w.sfi], w.staff, consent_text=w.text_sv)
    look_up(client, consent.reference_code, phone="0709999999")
    look_up(client, consent.reference_code)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "status_lookup").order_by(AuditEvent.id)
    ).all()
    assert [(e.object_type, e.object_id, e.detail) for e in events] == [
        ("organisation", w.org.id, {"found": False}),
        ("consent", consent.id, {"found": True}),
    ]
    assert all(e.user_id is None and e.organisation_id == w.org.id for e in events)


def test_a_withdrawn_consent_is_not_found(client, w, make):
    consent = make.referral_consent(w.site, [w.sfi], w.staff, consent_text=w.text_sv)
    code = consent.reference_code
    privacy.withdraw(consent, by=w.staff)
    assert look_up(client, code).status_code == 404


def test_lookups_are_limited_per_address_with_the_page_and_a_message(client, w, make):
    consent = make.referral_consent(w.site, [w.sfi], w.staff, consent_text=w.text_sv)
    codes = [look_up(client, f"AAAA-AAA{i}").status_code for i in range(5)]
    limited = look_up(client, consent.reference_code)  # even the right code waits now
    assert codes == [404] * 5 and limited.status_code == 429
    page = page_of(limited)
    assert "Du har försökt för många gånger." in page and 'name="code"' in page
    assert "Hänvisningen är skickad" not in page
    other = client.post(
        "/sv/status",
        data={"code": consent.reference_code, "phone": PHONE},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 200  # another address has its own count
    assert client.get("/sv/status").status_code == 200  # reading the form is not limited


def test_the_how_to_withdraw_page_links_to_the_status_page(client, w):
    assert 'href="/fa/status"' in page_of(client.get("/fa/withdraw"))
