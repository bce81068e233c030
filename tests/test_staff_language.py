"""A staff member and a visitor share the consent, receipt and extract pages, each in their own
language: the staff's chrome (menu, their question, their buttons) in the staff member's, the
visitor's part (the consent, her answer, the receipt, the extract) in hers, marked with lang
and dir."""

import re

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.choices import ConsentMethod
from app.extensions import db
from app.models import Consent

ARABIC_TEXT = "نص الموافقة العربي"


@pytest.fixture
def world(make, login):
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site], locale="sv")
    sfi = make.service(org, "sfi")
    make.consent_text(org, "sv", body="Svensk samtyckestext.")
    text_ar = make.consent_text(org, "ar", body=ARABIC_TEXT)
    login(staff)
    return site, sfi, text_ar


def arabic(msgid: str) -> str:
    with force_locale("ar"):
        translated = _(msgid)
    assert translated != msgid, f"no Arabic for {msgid!r}: are the catalogues compiled?"
    return translated


def visitor_part(html: str, element: str) -> str:
    found = re.search(rf'<{element}\b[^>]* lang="ar" dir="rtl">(.*)</{element}>', html, re.S)
    assert found, f'no <{element} lang="ar" dir="rtl"> holding the visitor\'s part'
    return found.group(1)


def staff_page(html: str) -> str:
    """The page less the visitor's part, after checking it is a Swedish page."""
    assert '<html lang="sv" dir="ltr">' in html
    return re.sub(r'<(article)\b[^>]* lang="ar" dir="rtl">.*</\1>', "", html, flags=re.S)


def test_a_swedish_staff_member_takes_an_arabic_visitor_through_consent_receipt_and_extract(
    client, world
):
    site, sfi, text_ar = world

    consent = client.get(
        f"/sites/{site.id}/referrals/consent",
        query_string={"service_id": sfi.id, "visitor_lang": "ar"},
    ).get_data(as_text=True)
    visitor = visitor_part(consent, "article")
    assert ARABIC_TEXT in visitor and arabic("Ja, jag samtycker") in visitor
    assert (
        arabic(
            "Jag samtycker till att mina kontaktuppgifter sparas för att tjänsterna ska kontakta mig."
        )
        in visitor
    )
    # The staff's question, inside her part, goes back to the staff member's language.
    question = re.search(
        r'<fieldset class="consent-method" lang="sv" dir="ltr">(.*?)</fieldset>', visitor, re.S
    )
    assert question, "the consent-method question is not marked as Swedish"
    assert "Hur samtycket gavs" in question.group(1)
    assert ConsentMethod.INTERPRETER.label in question.group(1)  # the test runs in Swedish
    chrome = staff_page(consent)
    assert "Avbryt" in chrome and "<title>Samtycke ·" in chrome

    base = {"service_id": sfi.id, "visitor_lang": "ar", "text_id": text_ar.id}
    answered = client.post(
        f"/sites/{site.id}/referrals/consent",
        data={
            **base,
            "form_key": "k1",
            "answer": "yes",
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": ConsentMethod.INTERPRETER.value,
        },
    )
    assert answered.status_code == 200
    created = client.post(
        f"/sites/{site.id}/referrals",
        data={
            **base,
            "form_key": "k2",
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": ConsentMethod.INTERPRETER.value,
            "first_name": "Huda",
            "phone": "070-123 45 67",
            "contact_language": "ar",
            "best_time": "morning",
        },
    )
    assert created.status_code == 303
    stored = db.session.scalar(select(Consent))

    receipt = client.get(created.location).get_data(as_text=True)
    visitor = visitor_part(receipt, "article")
    assert arabic("Kvitto på ditt samtycke") in visitor and stored.reference_code in visitor
    chrome = staff_page(receipt)
    assert 'class="mainnav"' in chrome and ">Mina hänvisningar<" in chrome
    assert "Skriv ut" in chrome and "Återkalla samtycket" in chrome
    assert "Kvitto på ditt samtycke" not in receipt  # the visitor's part is not in Swedish

    extract = client.post(
        "/referrals/extract", data={"code": stored.reference_code, "phone": "0701234567"}
    ).get_data(as_text=True)
    visitor = visitor_part(extract, "article")
    assert arabic("Registerutdrag") in visitor and ARABIC_TEXT in visitor and "Huda" in visitor
    assert arabic("Hur samtycket gavs") in visitor  # here a fact she is told, in her language
    chrome = staff_page(extract)
    assert "<title>Registerutdrag ·" in chrome and ">Mina hänvisningar<" in chrome
    assert "Skriv ut" in chrome
