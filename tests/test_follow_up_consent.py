"""The follow-up consent (issue 20): an optional agreement of its own at the consent step, the
target-group facts at the contact step, the longer retention it allows (and its limit), the
erasure that leaves the follow-up results in place, withdrawal cancelling open follow-ups, the
admin's texts and settings."""

import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import privacy
from app.admin.consent_versions import (
    FOLLOW_UP_SEED_FILE,
    next_version,
    seed_consent_texts,
    seed_follow_up_texts,
)
from app.choices import (
    ConsentMethod,
    ConsentPurpose,
    ConsentTextStatus,
    FollowUpResult,
    FollowUpStatus,
    Outcome,
    ReferralStatus,
    Role,
)
from app.extensions import db
from app.i18n import CONTENT_LOCALES
from app.models import (
    AuditEvent,
    Consent,
    ConsentText,
    ContactDetails,
    FollowUp,
    Organisation,
    Referral,
    utcnow,
)
from app.referrals.common import kept_until
from tests.test_encryption_at_rest import database_files, hits, unique_person

FOLLOW_UP_BODY = "Vi får höra av oss om 3, 6 och 12 månader och fråga hur det gick."


def follow_up_text(make, org, locale="sv", published=True, **kw) -> ConsentText:
    version = next_version(org.id, locale, ConsentPurpose.FOLLOW_UP)
    kw.setdefault("body", FOLLOW_UP_BODY)
    return make.consent_text(
        org, locale, version=version, published=published, purpose=ConsentPurpose.FOLLOW_UP, **kw
    )


@pytest.fixture
def w(make, login):
    """A signed-in staff member's site, one service, a Swedish consent text and a Swedish
    follow-up text."""
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site])
    sfi = make.service(org, slug="sfi")
    so = make.service(org, slug="so")
    text = make.consent_text(org, "sv", body="Svensk samtyckestext.")
    follow_up = follow_up_text(make, org)
    login(staff)
    return SimpleNamespace(
        org=org, site=site, staff=staff, sfi=sfi, so=so, text=text, follow_up=follow_up
    )


def consent_url(w):
    return f"/sites/{w.site.id}/referrals/consent"


def contact_data(w, key="key-1", **over) -> dict:
    data = {
        "service_id": [w.sfi.id, w.so.id],
        "visitor_lang": "sv",
        "text_id": w.text.id,
        "follow_up_text_id": w.follow_up.id,
        "form_key": key,
        "agree_processing": "y",
        "agree_disclosure": "y",
        "method": ConsentMethod.TABLET.value,
        "first_name": "Fatima",
        "phone": "070-123 45 67",
        "email": "",
        "contact_language": "sv",
        "best_time": "morning",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored() -> bool:
    return count(Consent) == 0 and count(ContactDetails) == 0 and count(Referral) == 0


# ---------------------------------------------------------------- the consent step


def test_the_follow_up_checkbox_is_offered_only_with_a_published_follow_up_text(client, w, make):
    query = {"service_id": [w.sfi.id], "visitor_lang": "ar"}  # no Arabic text: Swedish
    page = client.get(consent_url(w), query_string=query).get_data(as_text=True)
    assert 'name="agree_follow_up"' in page and FOLLOW_UP_BODY in page
    assert f'name="follow_up_text_id" value="{w.follow_up.id}"' in page
    box = re.search(r'<input[^>]*name="agree_follow_up"[^>]*>', page).group(0)
    assert 'type="checkbox"' in box and "checked" not in box  # unchecked by default
    swedish = {"service_id": [w.sfi.id], "visitor_lang": "sv"}
    page = client.get(consent_url(w), query_string=swedish).get_data(as_text=True)
    assert "längst 400 dagar efter att hänvisningen är avslutad" in page  # the maximum, stated

    other = make.org()
    site = make.site(other)
    staff = make.user(other, sites=[site])
    service = make.service(other, slug="sfi")
    make.consent_text(other, "sv")
    follow_up_text(make, other, published=False)  # a draft is not offered
    client.post("/logout")
    client.post("/login", data={"email": staff.email, "password": make.PASSWORD})
    page = client.get(
        f"/sites/{site.id}/referrals/consent",
        query_string={"service_id": [service.id], "visitor_lang": "sv"},
    ).get_data(as_text=True)
    assert "Samtycke" in page
    assert "agree_follow_up" not in page and "follow_up_text_id" not in page


def test_the_answer_carries_the_follow_up_agreement_to_the_contact_step(client, w):
    data = contact_data(w, answer="yes", agree_follow_up="y")
    page = client.post(consent_url(w), data=data).get_data(as_text=True)
    assert 'name="agree_follow_up" type="hidden" value="y"' in page
    assert f'name="follow_up_text_id" value="{w.follow_up.id}"' in page
    assert 'name="gender"' in page and 'name="sfi_interrupted_before"' in page
    assert nothing_stored()


def test_consent_with_follow_up_stores_the_text_and_the_facts_on_each_referral(client, w):
    response = client.post(
        f"/sites/{w.site.id}/referrals",
        data=contact_data(
            w,
            agree_follow_up="y",
            gender="woman",
            has_child_0_6="yes",
            parental_leave="no",
            sfi_interrupted_before="",
        ),
    )
    assert response.status_code == 303
    consent = db.session.scalar(select(Consent))
    assert consent.follow_up_text_id == w.follow_up.id
    referrals = db.session.scalars(select(Referral)).all()
    assert len(referrals) == 2
    assert {
        (r.gender, r.has_child_0_6, r.parental_leave, r.sfi_interrupted_before) for r in referrals
    } == {("woman", True, False, None)}
    given = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent_given"))
    assert given.detail["follow_up"] is True
    assert given.detail["follow_up_version"] == w.follow_up.version
    assert "Fatima" not in str(given.detail)

    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "att vi får kontakta dig senare och fråga hur det gick" in receipt
    longest = w.org.max_open_days + w.org.follow_up_max_days
    assert kept_until(consent) == consent.given_at + timedelta(days=longest)


def test_consent_without_follow_up_stores_nothing_of_it(client, w):
    # The follow-up text was shown, the box left unchecked, no fact answered.
    response = client.post(f"/sites/{w.site.id}/referrals", data=contact_data(w))
    assert response.status_code == 303
    consent = db.session.scalar(select(Consent))
    assert consent.follow_up_text_id is None
    assert {
        (r.gender, r.has_child_0_6, r.parental_leave, r.sfi_interrupted_before)
        for r in db.session.scalars(select(Referral))
    } == {(None, None, None, None)}
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "kontakta dig senare" not in receipt
    longest = w.org.max_open_days + w.org.retention_days_after_close
    assert kept_until(consent) == consent.given_at + timedelta(days=longest)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda w, make: {"follow_up_text_id": w.text.id},  # a referral text
        lambda w, make: {"follow_up_text_id": follow_up_text(make, w.org, published=False).id},
        lambda w, make: {"follow_up_text_id": follow_up_text(make, make.org()).id},
        lambda w, make: {"follow_up_text_id": "abc"},
        lambda w, make: {"follow_up_text_id": None},  # agreed to a text never shown
        lambda w, make: {"agree_follow_up": "yes please"},
    ],
)
def test_a_tampered_follow_up_answer_is_400_and_nothing_stored(client, w, make, tamper):
    data = contact_data(w, agree_follow_up="y")
    data.update(tamper(w, make))
    data = {k: v for k, v in data.items() if v is not None}
    assert client.post(f"/sites/{w.site.id}/referrals", data=data).status_code == 400
    assert nothing_stored()


def test_agreeing_at_the_consent_step_to_a_text_not_shown_is_400(client, w):
    data = contact_data(w, answer="yes", agree_follow_up="y", follow_up_text_id=w.text.id)
    assert client.post(consent_url(w), data=data).status_code == 400
    del data["follow_up_text_id"]
    assert client.post(consent_url(w), data=data).status_code == 400


def test_a_target_fact_outside_its_codes_is_a_field_error(client, w):
    response = client.post(f"/sites/{w.site.id}/referrals", data=contact_data(w, gender="unknown"))
    assert response.status_code == 422
    assert nothing_stored()


# ---------------------------------------------------------------- retention


def consent_closed(w, *, follow_up: bool, closed_at, person=None) -> Consent:
    """A consent (with or without the follow-up agreement) whose one referral closed as
    started at `closed_at`."""
    person = person or unique_person()
    consent = privacy.record_consent(
        site=w.site,
        services=[w.sfi],
        consent_text=w.text,
        method=ConsentMethod.TABLET,
        contact=privacy.ContactInput(
            first_name=person["name"], phone_e164=person["e164"], email=person["email"]
        ),
        language="sv",
        interpreter_needed=False,
        by=w.staff,
        follow_up_text=w.follow_up if follow_up else None,
    )
    db.session.flush()
    for referral in consent.referrals:
        referral.created_at = closed_at - timedelta(days=10)
        referral.status = ReferralStatus.CLOSED
        referral.outcome = Outcome.STARTED
        referral.closed_at = closed_at
    db.session.commit()
    return consent


def add_follow_up(consent: Consent, months: int, *, recorded_at=None, result=None) -> FollowUp:
    referral = consent.referrals[0]
    row = FollowUp(
        organisation_id=referral.organisation_id,
        referral_id=referral.id,
        service_id=referral.service_id,
        site_id=referral.site_id,
        months=months,
        due_date=date(2026, 1, 1) + timedelta(days=months * 30),
        status=FollowUpStatus.DONE if recorded_at else FollowUpStatus.OPEN,
        result=result,
        recorded_at=recorded_at,
    )
    db.session.add(row)
    db.session.commit()
    return row


def on_disk() -> bytes:
    """Every byte of the database's files (tests/test_encryption_at_rest.py's list)."""
    db.session.rollback()
    return b"".join(p.read_bytes() for p in database_files() if p.exists())


def kept(consent: Consent) -> bool:
    return privacy.has_contact_details([consent.id]) == {consent.id}


def test_without_follow_up_consent_the_usual_retention_holds(app, w):
    now = utcnow()
    closed = now - timedelta(days=w.org.retention_days_after_close + 1)
    consent = consent_closed(w, follow_up=False, closed_at=closed)
    add_follow_up(consent, 3)  # an open follow-up does not hold details it has no consent for
    assert privacy.purge_expired(now=now - timedelta(days=2))["erased"] == 0
    assert kept(consent)
    assert privacy.purge_expired(now=now)["erased"] == 1
    assert not kept(consent)


def test_with_follow_up_consent_details_stay_until_the_last_follow_up_plus_retention(app, w):
    retention = w.org.retention_days_after_close
    now = utcnow()
    person = unique_person()
    consent = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=200), person=person)
    first = add_follow_up(consent, 3, recorded_at=now - timedelta(days=100))
    last = add_follow_up(consent, 6)
    row = db.session.get(ContactDetails, consent.id)
    ciphertexts = [row.first_name_enc, row.phone_enc, row.email_enc]
    # On SQLite the erased row's ciphertext is overwritten too (secure_delete); PostgreSQL's
    # VACUUM frees it without overwriting, and the key's destruction shreds it (security.md).
    sqlite = db.engine.dialect.name == "sqlite"
    assert all(ciphertexts) and (not sqlite or any(c in on_disk() for c in ciphertexts))

    assert privacy.purge_expired(now=now)["erased"] == 0  # a follow-up is open
    assert kept(consent)

    last.status, last.result = FollowUpStatus.DONE, FollowUpResult.IN_WORK
    last.recorded_at = now
    db.session.commit()
    later = now + timedelta(days=retention - 1)
    assert privacy.purge_expired(now=later)["erased"] == 0  # recorded less than retention ago
    assert kept(consent)
    assert privacy.purge_expired(now=now + timedelta(days=retention + 1))["erased"] == 1
    assert not kept(consent)

    # The anonymous follow-up results stay; the details are gone from the files, in bytes.
    rows = db.session.scalars(select(FollowUp).order_by(FollowUp.months)).all()
    assert [(r.id, r.months, r.status, r.result) for r in rows] == [
        (first.id, 3, FollowUpStatus.DONE, None),
        (last.id, 6, FollowUpStatus.DONE, FollowUpResult.IN_WORK),
    ]
    assert hits(person) == []
    assert not sqlite or not any(c in on_disk() for c in ciphertexts)


def test_follow_up_consent_never_keeps_details_past_the_organisations_maximum(app, w):
    now = utcnow()
    maximum = w.org.follow_up_max_days
    held = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=maximum - 1))
    over = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=maximum + 1))
    for consent in (held, over):
        add_follow_up(consent, 12)  # still open
    assert privacy.purge_expired(now=now)["erased"] == 1
    assert kept(held) and not kept(over)
    assert count(FollowUp) == 2


def test_an_expired_referral_erases_at_once_even_with_follow_up_consent(app, w):
    now = utcnow()
    consent = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=1))
    consent.referrals[0].outcome = Outcome.EXPIRED
    db.session.commit()
    add_follow_up(consent, 3)
    assert privacy.purge_expired(now=now)["erased"] == 1


def test_withdrawal_cancels_open_follow_ups_and_keeps_recorded_ones(app, w):
    now = utcnow()
    consent = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=100))
    done = add_follow_up(consent, 3, recorded_at=now, result=FollowUpResult.STILL_ACTIVE)
    open_ = add_follow_up(consent, 6)
    other = consent_closed(w, follow_up=True, closed_at=now - timedelta(days=100))
    untouched = add_follow_up(other, 6)
    version = open_.version

    privacy.withdraw(db.session.get(Consent, consent.id), by=w.staff)

    assert db.session.get(FollowUp, open_.id).status == FollowUpStatus.CANCELLED
    assert db.session.get(FollowUp, open_.id).version == version + 1
    kept_row = db.session.get(FollowUp, done.id)
    assert (kept_row.status, kept_row.result) == (FollowUpStatus.DONE, "still_active")
    assert db.session.get(FollowUp, untouched.id).status == FollowUpStatus.OPEN
    assert not kept(consent) and kept(other)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent_withdrawn"))
    assert event.detail["follow_ups_cancelled"] == 1


# ---------------------------------------------------------------- the register extract


def test_the_extract_shows_the_agreement_the_facts_and_the_follow_up_results(client, w):
    client.post(
        f"/sites/{w.site.id}/referrals",
        data=contact_data(w, service_id=[w.sfi.id], agree_follow_up="y", gender="woman"),
    )
    consent = db.session.scalar(select(Consent))
    referral = consent.referrals[0]
    referral.status, referral.outcome = ReferralStatus.CLOSED, Outcome.STARTED
    db.session.commit()
    add_follow_up(consent, 3, recorded_at=utcnow(), result=FollowUpResult.IN_WORK)
    page = client.post(
        "/referrals/extract", data={"code": consent.reference_code, "phone": "0701234567"}
    ).get_data(as_text=True)
    assert "Du sa ja till att vi får kontakta dig senare" in page
    assert FOLLOW_UP_BODY in page
    assert "Kvinna" in page and "Har arbete" in page and "3 månader" in page


# ---------------------------------------------------------------- admin: texts and settings


@pytest.fixture
def admin(make, login):
    org = make.org()
    user = make.user(org, role=Role.ADMIN)
    login(user)
    return user


def test_admin_keeps_follow_up_texts_apart_and_is_told_when_none_is_published(client, admin):
    org_id = admin.organisation_id
    page = client.get("/admin/consent-texts/").get_data(as_text=True)
    assert "Uppföljning senare" in page
    assert "Besökarna ser inte kryssrutan för uppföljning" in page

    data = {"purpose": "follow_up", "locale": "sv", "legal_basis": "consent", "body": "Senare"}
    assert client.post("/admin/consent-texts/new", data=data).status_code == 303
    text = db.session.scalar(select(ConsentText).where(ConsentText.organisation_id == org_id))
    assert (text.purpose, text.locale, text.status) == ("follow_up", "sv", "draft")
    assert client.post(f"/admin/consent-texts/{text.id}/publish").status_code == 303
    page = client.get("/admin/consent-texts/").get_data(as_text=True)
    assert "Besökarna ser inte kryssrutan för uppföljning" not in page
    assert "purpose=follow_up" in page and "purpose=referral" in page

    # A new version starts from the newest text of the same purpose and locale.
    draft = client.get("/admin/consent-texts/new?locale=sv&purpose=follow_up")
    assert "Senare" in draft.get_data(as_text=True)


def test_seed_gives_a_published_follow_up_text_in_every_locale(app, make):
    org = make.org()
    seed_consent_texts(org)
    seed_follow_up_texts(org)
    db.session.commit()
    texts = db.session.scalars(
        select(ConsentText).where(
            ConsentText.organisation_id == org.id,
            ConsentText.purpose == ConsentPurpose.FOLLOW_UP,
        )
    ).all()
    assert {(t.locale, t.status) for t in texts} == {
        (code, ConsentTextStatus.PUBLISHED) for code in CONTENT_LOCALES
    }
    # Versions count per purpose: the first follow-up text is version 1 beside the referral's.
    assert {t.version for t in texts} == {1}
    assert "12" in next(t.body for t in texts if t.locale == "sv")
    assert FOLLOW_UP_SEED_FILE.exists()


def settings_data(org: Organisation, **over) -> dict:
    data = {
        "legal_basis": org.legal_basis,
        "retention_days_after_close": org.retention_days_after_close,
        "max_open_days": org.max_open_days,
        "first_contact_working_days": org.first_contact_working_days,
        "unreachable_after_attempts": org.unreachable_after_attempts,
        "suppression_threshold": org.suppression_threshold,
        "audit_retention_days": org.audit_retention_days,
        "kiosk_idle_seconds": org.kiosk_idle_seconds,
        "follow_up_months": org.follow_up_months,
        "follow_up_max_days": org.follow_up_max_days,
        "partner_ack_working_days": org.partner_ack_working_days,
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"follow_up_months": "6, 3"}, "i stigande ordning"),
        ({"follow_up_months": "3,3"}, "i stigande ordning"),
        ({"follow_up_months": "0,3"}, "från 1 till 36"),
        ({"follow_up_months": "3,40"}, "från 1 till 36"),
        ({"follow_up_months": "1,2,3,4,5,6,7"}, "högst 6"),
        ({"follow_up_months": "3, sex"}, "Till exempel 3, 6, 12"),
        ({"follow_up_months": "2.5"}, "Till exempel 3, 6, 12"),
        ({"follow_up_months": ""}, "Skriv minst en månad"),
        ({"follow_up_max_days": "300"}, "minst 372 dagar"),
        ({"follow_up_max_days": "1101"}, "från 1 till 1100"),
        (
            {
                "follow_up_months": "1",
                "follow_up_max_days": "40",
                "retention_days_after_close": "60",
            },
            "sparas efter avslut (60)",
        ),
    ],
)
def test_bad_follow_up_settings_are_refused_with_a_message(client, admin, over, message):
    org = admin.organisation
    before = (org.follow_up_months, org.follow_up_max_days, org.retention_days_after_close)
    response = client.post("/admin/settings", data=settings_data(org, **over))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(org)
    assert (org.follow_up_months, org.follow_up_max_days, org.retention_days_after_close) == before


def test_follow_up_settings_are_stored_tidy_and_audited(client, admin):
    org = admin.organisation
    data = settings_data(org, follow_up_months=" 2, 4 ,8", follow_up_max_days="300")
    assert client.post("/admin/settings", data=data).status_code == 303
    db.session.refresh(org)
    assert (org.follow_up_months, org.follow_up_max_days) == ("2,4,8", 300)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings_updated"))
    assert event.detail["changed"]["follow_up_months"] == ["3,6,12", "2,4,8"]
    assert event.detail["changed"]["follow_up_max_days"] == [400, 300]
