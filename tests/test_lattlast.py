"""Easy-to-read Swedish (lättläst, issue 18 item 8): a variant of the Swedish texts under
/sv-ll/, chosen in the public pickers, with lang="sv" and the Swedish UI; service and consent
texts in locale sv-ll, edited by admins like any locale, falling back to the ordinary Swedish
text with a note; the consent screen shows it and the consent records the text shown. The
seeded lättläst texts pass a readability guard that the ordinary Swedish texts fail."""

import json
import re
from html import escape

import pytest
from sqlalchemy import select

from app.admin.consent_versions import SEED_FILE, seed_consent_texts
from app.choices import ConsentMethod, ConsentTextStatus, Role, TranslationStatus
from app.extensions import db
from app.i18n import CONTENT_LOCALES, EASY_SWEDISH, LOCALES
from app.info.catalogue import core_services, seed_core_services
from app.models import (
    AnonymousInterest,
    AuditEvent,
    Consent,
    ConsentText,
    Service,
    ServiceTranslation,
)

LL = EASY_SWEDISH
FALLBACK = "Den här texten finns inte på lättläst svenska än. Här är den på vanlig svenska."
TEXT_FIELDS = ("description", "eligibility_description", "application_process")
CORE = core_services()  # slug -> the seed file's record


def first_line(text: str) -> str:
    return escape(text.splitlines()[0], quote=False)


@pytest.fixture
def org(make):
    org = make.org()
    seed_core_services(org)
    seed_consent_texts(org)
    db.session.commit()
    return org


# ---------------------------------------------------------------- the design


def test_lattlast_is_a_content_locale_and_not_a_ui_language():
    assert LL == "sv-ll" and LL in CONTENT_LOCALES and LL not in LOCALES
    assert list(CONTENT_LOCALES)[:2] == ["sv", LL]  # right after Swedish in every picker
    assert set(CONTENT_LOCALES) == set(LOCALES) | {LL}


# ---------------------------------------------------------------- public pages


def test_the_public_pickers_offer_lattlast_as_swedish(client, org):
    picker = client.get("/kiosk/").get_data(as_text=True)
    assert (
        '<a class="button" href="/sv-ll/" hreflang="sv" lang="sv" dir="ltr">Lättläst svenska'
        in picker
    )
    page = client.get("/sv/sfi").get_data(as_text=True)
    assert '<a href="/sv-ll/sfi" hreflang="sv" lang="sv" dir="ltr">Lättläst svenska</a>' in page
    page = client.get("/sv-ll/sfi").get_data(as_text=True)
    assert 'href="/sv-ll/sfi" hreflang="sv" lang="sv" dir="ltr" aria-current="page"' in page
    assert 'href="/sv/sfi" hreflang="sv" lang="sv" dir="ltr">' in page  # Svenska, not current
    assert '<a class="brand" href="/sv-ll/">' in page  # home stays in lättläst
    # Chosen, never guessed: neither a browser nor /info leads to it.
    response = client.get("/info", headers={"Accept-Language": "sv-ll,sv;q=0.9"})
    assert response.location == "/sv/"
    assert client.get("/SV_LL/sfi").location == "/sv-ll/sfi"


def test_each_seeded_service_reads_its_lattlast_text_in_swedish(client, org):
    grid = client.get("/sv-ll/").get_data(as_text=True)
    assert '<html lang="sv" dir="ltr">' in grid and FALLBACK not in grid
    for slug, record in CORE.items():
        text, ordinary = record["translations"][LL], record["translations"]["sv"]
        assert f'href="/sv-ll/{slug}"' in grid and escape(text["name"], quote=False) in grid
        response = client.get(f"/sv-ll/{slug}")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, slug
        assert '<html lang="sv" dir="ltr">' in page, slug
        assert f"<h1>{escape(text['name'], quote=False)}</h1>" in page, slug
        for field in TEXT_FIELDS:
            assert first_line(text[field]) in page, (slug, field)
        assert first_line(ordinary["description"]) not in page, slug
        assert FALLBACK not in page, slug
        assert 'data-lang="sv"' in page  # read aloud with a Swedish voice
        assert 'lang="sv-ll"' not in page  # not a language tag
    handout = client.get("/sv-ll/sfi/print").get_data(as_text=True)
    assert first_line(CORE["sfi"]["translations"][LL]["description"]) in handout
    assert "http://localhost/sv-ll/sfi" in handout  # its QR code leads back to lättläst


def test_a_service_without_lattlast_text_falls_back_to_swedish_with_a_note(client, org, make):
    make.service(org=org, slug="bibliotek")
    page = client.get("/sv-ll/bibliotek").get_data(as_text=True)
    assert '<html lang="sv" dir="ltr">' in page
    assert "Sammanfattning." in page and "<h1" in page and "BIBLIOTEK" in page
    assert f'<p class="fallback-note" role="note">{FALLBACK}</p>' in page
    grid = client.get("/sv-ll/").get_data(as_text=True)
    assert FALLBACK in grid and 'href="/sv-ll/bibliotek"' in grid
    # The ordinary Swedish page has no note, and never shows a lättläst text.
    page = client.get("/sv/sfi").get_data(as_text=True)
    assert "fallback-note" not in page
    assert first_line(CORE["sfi"]["translations"][LL]["description"]) not in page


# ---------------------------------------------------------------- admin


def test_admin_edits_lattlast_texts_like_any_locale(client, login, make, org):
    login(make.user(org=org, role=Role.ADMIN))
    sfi = next(s for s in org_services(org) if s.slug == "sfi")
    listing = client.get("/admin/services/").get_data(as_text=True)
    assert f'href="/admin/services/{sfi.id}/texts/sv-ll"' in listing
    assert '<span lang="sv">Lättläst svenska</span>: Utkast' in listing
    editor = client.get(f"/admin/services/{sfi.id}/texts/sv-ll").get_data(as_text=True)
    assert "Text på Lättläst svenska" in editor and "Den svenska texten" in editor
    response = client.post(
        f"/admin/services/{sfi.id}/texts/sv-ll",
        data={
            "name": "SFI",
            "summary": "Du lär dig svenska.\nDet är gratis.",
            "status": "reviewed",
        },
    )
    assert response.status_code == 303
    row = db.session.scalar(
        select(ServiceTranslation).where(
            ServiceTranslation.service_id == sfi.id, ServiceTranslation.locale == LL
        )
    )
    assert row.status == TranslationStatus.REVIEWED and row.summary.startswith("Du lär dig")
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert (event.action, event.detail["locale"]) == ("service_translation_update", LL)
    assert "Du lär dig svenska." in client.get("/sv-ll/sfi").get_data(as_text=True)

    # A new version of the lättläst consent text: a draft from the newest one, then published.
    texts = client.get("/admin/consent-texts/").get_data(as_text=True)
    assert (
        '<h3 lang="sv">Lättläst svenska</h3>' in texts
        and "/consent-texts/new?locale=sv-ll" in texts
    )
    draft = client.get("/admin/consent-texts/new?locale=sv-ll").get_data(as_text=True)
    assert '<option selected value="sv-ll">Lättläst svenska</option>' in draft
    assert "Du säger ja till två saker." in draft  # prefilled from version 1
    body = "Vi sparar ditt namn.\nDu kan säga nej."
    data = {"locale": LL, "legal_basis": "consent", "body": body}
    assert client.post("/admin/consent-texts/new", data=data).status_code == 303
    version = db.session.scalar(
        select(ConsentText).where(ConsentText.locale == LL, ConsentText.version == 2)
    )
    assert version.status == ConsentTextStatus.DRAFT and version.body == body
    assert client.post(f"/admin/consent-texts/{version.id}/publish").status_code == 303
    assert db.session.get(ConsentText, version.id).status == ConsentTextStatus.PUBLISHED


def org_services(org):
    return db.session.scalars(select(Service).where(Service.organisation_id == org.id)).all()


# ---------------------------------------------------------------- consent


@pytest.fixture
def staffed(make, login, org):
    site = make.site(org)
    staff = make.user(org, sites=[site])
    login(staff)
    services = {s.slug: s for s in org_services(org)}
    text = db.session.scalar(select(ConsentText).where(ConsentText.locale == LL))
    return site, services, text


def test_consent_screen_shows_lattlast_and_the_consent_records_the_text_shown(client, staffed):
    site, services, text = staffed
    start = client.get(f"/sites/{site.id}/referrals/new").get_data(as_text=True)
    assert '<option value="sv-ll">Lättläst svenska</option>' in start
    query = {"service_id": [services["sfi"].id], "visitor_lang": LL}
    page = client.get(f"/sites/{site.id}/referrals/consent", query_string=query)
    page = page.get_data(as_text=True)
    assert '<html lang="sv" dir="ltr">' in page
    assert f'name="text_id" value="{text.id}"' in page
    assert '<div class="consent-body" lang="sv">' + first_line(text.body) in page
    assert escape(CORE["sfi"]["translations"][LL]["name"], quote=False) in page
    assert 'lang="sv" aria-current="true">Lättläst svenska' in page
    assert FALLBACK not in page
    assert "Samtycke" in page and "Du hänvisas till" in page  # the UI stays Swedish

    answer = {
        "service_id": [services["sfi"].id],
        "visitor_lang": LL,
        "text_id": text.id,
        "agree_processing": "y",
        "agree_disclosure": "y",
        "method": ConsentMethod.TABLET.value,
        "answer": "yes",
    }
    contact = client.post(f"/sites/{site.id}/referrals/consent", data=answer)
    assert contact.status_code == 200
    assert '<option selected value="sv">Svenska</option>' in contact.get_data(as_text=True)
    details = {
        **answer,
        "form_key": "ll-1",
        "first_name": "Amina",
        "phone": "070-123 45 67",
        "contact_language": "sv",
        "best_time": "any",
    }
    assert client.post(f"/sites/{site.id}/referrals", data=details).status_code == 303
    consent = db.session.scalar(select(Consent))
    assert (consent.consent_text_id, consent.locale_shown) == (text.id, LL)
    assert consent.consent_text.version == 1 and consent.referrals[0].language == "sv"
    extract = client.post(
        "/referrals/extract", data={"code": consent.reference_code, "phone": "070-123 45 67"}
    ).get_data(as_text=True)
    assert "Version 1, språk: Lättläst svenska" in extract
    assert '<div class="consent-body" lang="sv">' + first_line(text.body) in extract


def test_consent_screen_falls_back_to_ordinary_swedish_with_a_note(client, staffed):
    site, services, text = staffed
    db.session.delete(text)  # no lättläst text published
    db.session.commit()
    swedish = db.session.scalar(select(ConsentText).where(ConsentText.locale == "sv"))
    query = {"service_id": [services["so"].id], "visitor_lang": LL}
    page = client.get(f"/sites/{site.id}/referrals/consent", query_string=query)
    page = page.get_data(as_text=True)
    assert f'name="text_id" value="{swedish.id}"' in page and FALLBACK in page
    # A "no" is counted under the language the visitor speaks: Swedish.
    refusal = {**query, "text_id": swedish.id, "answer": "no", "form_key": "ll-no"}
    assert client.post(f"/sites/{site.id}/referrals/consent", data=refusal).status_code == 303
    assert db.session.scalar(select(AnonymousInterest.language)) == "sv"


# ---------------------------------------------------------------- readability


def sentences(text: str) -> list[str]:
    """Sentences as LIX counts them: ended by . ! ? or : , and here by a line break too."""
    return [s for s in re.split(r"(?<=[.!?:])\s+|\n+", text.strip()) if re.search(r"\w", s)]


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+", text)


def lix(text: str) -> float:
    """Läsbarhetsindex: words per sentence plus the percentage of words over six letters."""
    all_words = words(text)
    long_words = [w for w in all_words if len(w) > 6]
    return len(all_words) / len(sentences(text)) + 100 * len(long_words) / len(all_words)


ABBREVIATIONS = re.compile(r"\b(?:[a-zåäö]{1,4}\.){2,}|\b(?:kap|ca|osv|etc|dvs|pga|resp)\.?(?!\w)")


def readability_problems(text: str) -> list[str]:
    """The measurable part of the easy-to-read guidelines (MTM, Begripsam): short lines with
    one sentence each, short sentences, common (short) words, no abbreviations, and any
    initialism explained ("SFI betyder ...", "Den kallas också GDPR")."""
    problems = []
    found = sentences(text)
    lengths = [len(words(s)) for s in found]
    if sum(lengths) / len(lengths) > 10:
        problems.append(f"{sum(lengths) / len(lengths):.1f} words a sentence on average")
    if max(lengths) > 15:
        problems.append(f"a sentence of {max(lengths)} words")
    if (index := lix(text)) >= 30:
        problems.append(f"LIX {index:.0f}")
    for line in text.splitlines():
        if len(line) > 60 or len(sentences(line)) > 1:
            problems.append(f"a long line: {line[:40]}…")
    if found_abbreviation := ABBREVIATIONS.search(text):
        problems.append(f"an abbreviation: {found_abbreviation.group()}")
    for initialism in set(re.findall(r"\b[A-ZÅÄÖ]{2,}\b", text)):
        explained = (s for s in found if initialism in s and re.search(r"betyder|kallas", s))
        if not any(explained):
            problems.append(f"{initialism} not explained")
    return problems


def seeded_texts(locale: str) -> dict[str, str]:
    """Every seeded text in `locale`: each service's text (its three parts) and the consent."""
    texts = {
        slug: "\n".join(record["translations"][locale][f] for f in TEXT_FIELDS)
        for slug, record in CORE.items()
    }
    texts["consent"] = json.loads(SEED_FILE.read_text(encoding="utf-8"))[locale]
    return texts


def test_seeded_lattlast_texts_are_easy_to_read_and_the_ordinary_ones_are_not():
    easy = {name: readability_problems(text) for name, text in seeded_texts(LL).items()}
    assert easy == {name: [] for name in easy}
    assert all(lix(text) < 30 for text in seeded_texts(LL).values())
    ordinary = {name: readability_problems(text) for name, text in seeded_texts("sv").items()}
    assert all(ordinary.values()), ordinary  # the guard can fail: each ordinary text does


def test_seeded_lattlast_service_texts_are_drafts_until_reviewed():
    for record in CORE.values():
        assert record["translations"][LL]["status"] == TranslationStatus.DRAFT
        assert record["translations"]["sv"]["status"] == TranslationStatus.REVIEWED
