"""Referrals with consent: the three-step flow, refusal, receipts, "my referrals", the register
extract, withdrawal, consent texts admin, retention and the proof of erasure."""

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event, func, select

from app import privacy
from app.admin import consent_versions
from app.admin.consent_versions import seed_consent_texts
from app.choices import (
    ConsentMethod,
    ConsentTextStatus,
    Outcome,
    ReferralStatus,
    Role,
    TranslationStatus,
)
from app.extensions import db
from app.i18n import CONTENT_LOCALES
from app.info.catalogue import SeedError
from app.models import (
    AnonymousInterest,
    AuditEvent,
    Consent,
    ConsentText,
    ContactDetails,
    Referral,
    Service,
    ServiceTranslation,
    utcnow,
)
from app.workdays import add_working_days, local_today


def make_service(org, slug, **kw) -> Service:
    """tests/factories.py's `service` passes `organisation=`, which Service has no relationship
    for; build services here until the factory is fixed."""
    service = Service(organisation_id=org.id, slug=slug, **kw)
    service.translations.append(
        ServiceTranslation(locale="sv", name=slug.upper(), status=TranslationStatus.REVIEWED)
    )
    db.session.add(service)
    db.session.commit()
    return service


@pytest.fixture
def w(make, login):
    """A site with a staff member signed in, two services and published texts in sv and ar."""
    org = make.org()
    site = make.site(org)
    staff = make.user(org, sites=[site])
    sfi = make_service(org, "sfi")
    so = make_service(org, "so")
    text_sv = make.consent_text(org, "sv", body="Svensk samtyckestext version ett.")
    text_ar = make.consent_text(org, "ar", body="نص الموافقة العربي")
    login(staff)
    return SimpleNamespace(
        org=org, site=site, staff=staff, sfi=sfi, so=so, text_sv=text_sv, text_ar=text_ar
    )


def consent_url(w):
    return f"/sites/{w.site.id}/referrals/consent"


def create_url(w):
    return f"/sites/{w.site.id}/referrals"


def contact_data(w, services=None, text=None, lang="ar", key="key-1", **over):
    data = {
        "service_id": [s.id for s in (services or [w.sfi, w.so])],
        "visitor_lang": lang,
        "text_id": (text or w.text_ar).id,
        "form_key": key,
        "agree_processing": "y",
        "agree_disclosure": "y",
        "method": ConsentMethod.INTERPRETER.value,
        "first_name": "Fatima",
        "phone": "070-123 45 67",
        "email": "",
        "contact_language": lang,
        "best_time": "morning",
    }
    data.update(over)
    return data


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_stored():
    return count(Consent) == 0 and count(ContactDetails) == 0 and count(Referral) == 0


# -- step 1 and 2 -----------------------------------------------------------------------------


def test_start_screen_offers_only_active_services_of_the_organisation(client, w, make):
    make_service(w.org, "inactive", is_active=False)
    make_service(make.org(), "elsewhere")
    page = client.get(f"/sites/{w.site.id}/referrals/new").get_data(as_text=True)
    assert "SFI" in page and "SO" in page
    assert "INACTIVE" not in page and "ELSEWHERE" not in page


def test_start_screen_of_another_site_is_404(client, w, make):
    other = make.site(w.org)
    assert client.get(f"/sites/{other.id}/referrals/new").status_code == 404


def test_consent_screen_is_in_the_visitors_language_with_its_published_text(client, w):
    response = client.get(
        consent_url(w), query_string={"service_id": [w.sfi.id, w.so.id], "visitor_lang": "ar"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="ar" dir="rtl"' in page
    assert "نص الموافقة العربي" in page
    assert f'name="text_id" value="{w.text_ar.id}"' in page
    assert "SFI" in page and "SO" in page
    assert "12" in page  # the secrecy waiver, OSL 12 kap., is always stated


def test_consent_screen_falls_back_to_swedish_text_with_a_note(client, w, make):
    make.consent_text(w.org, "so", body="Qoraal qabyo ah", published=False)
    page = client.get(
        consent_url(w), query_string={"service_id": [w.sfi.id], "visitor_lang": "so"}
    ).get_data(as_text=True)
    assert 'lang="so"' in page
    assert "Svensk samtyckestext version ett." in page
    assert "Qoraal qabyo ah" not in page  # a draft is never shown
    assert f'name="text_id" value="{w.text_sv.id}"' in page
    assert 'class="flash flash-warning"' in page


def test_consent_screen_shows_the_newest_published_version(client, w, make):
    newer = make.consent_text(w.org, "ar", version=2, body="النسخة الثانية")
    page = client.get(
        consent_url(w), query_string={"service_id": [w.sfi.id], "visitor_lang": "ar"}
    ).get_data(as_text=True)
    assert f'name="text_id" value="{newer.id}"' in page


def test_consent_screen_without_any_published_text_is_refused(client, make, login):
    org = make.org()
    site = make.site(org)
    service = make_service(org, "sfi")
    login(make.user(org, sites=[site]))
    response = client.get(
        f"/sites/{site.id}/referrals/consent",
        query_string={"service_id": [service.id], "visitor_lang": "sv"},
    )
    assert response.status_code == 409


def test_choosing_no_service_is_a_field_error(client, w):
    response = client.get(consent_url(w), query_string={"visitor_lang": "ar"})
    assert response.status_code == 422
    assert "Välj minst en tjänst." in response.get_data(as_text=True)


def test_choosing_a_service_of_another_organisation_is_refused(client, w, make):
    foreign = make_service(make.org(), "foreign")
    response = client.get(
        consent_url(w), query_string={"service_id": [foreign.id], "visitor_lang": "sv"}
    )
    assert response.status_code == 422


def test_saying_yes_needs_both_agreements_and_stores_nothing(client, w):
    data = contact_data(w, answer="yes")
    del data["agree_disclosure"]
    response = client.post(consent_url(w), data=data)
    assert response.status_code == 422
    assert 'lang="ar"' in response.get_data(as_text=True)
    assert nothing_stored()


def test_saying_yes_leads_to_the_contact_step_without_storing(client, w):
    response = client.post(consent_url(w), data=contact_data(w, answer="yes"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="first_name"' in page and 'name="form_key"' in page
    assert nothing_stored()


def test_saying_no_counts_interest_anonymously_once(client, w):
    data = contact_data(w, answer="no", key="no-key")
    assert client.post(consent_url(w), data=data).status_code == 303
    assert client.post(consent_url(w), data=data).status_code == 303  # double tap
    rows = db.session.scalars(select(AnonymousInterest)).all()
    assert sorted(r.service_id for r in rows) == sorted([w.sfi.id, w.so.id])
    assert {(r.language, r.site_id, r.on_date) for r in rows} == {("ar", w.site.id, local_today())}
    assert nothing_stored()


# -- step 3 -----------------------------------------------------------------------------------


def test_consent_creates_one_referral_per_service_pointing_at_the_text_shown(client, w):
    response = client.post(create_url(w), data=contact_data(w, interpreter_needed="y"))
    assert response.status_code == 303
    consent = db.session.scalar(select(Consent))
    assert response.location.endswith(f"/referrals/receipt/{consent.id}")
    assert consent.consent_text_id == w.text_ar.id and consent.locale_shown == "ar"
    assert consent.method == ConsentMethod.INTERPRETER
    assert consent.data_processing_agreed and consent.disclosure_agreed
    referrals = db.session.scalars(select(Referral).order_by(Referral.service_id)).all()
    assert [r.service_id for r in referrals] == sorted([w.sfi.id, w.so.id])
    due = add_working_days(local_today(), w.org.first_contact_working_days)
    assert all(r.due_date == due and r.consent_id == consent.id for r in referrals)
    assert all(r.interpreter_needed and r.language == "ar" for r in referrals)
    contact = privacy.contact_details(consent, by=w.staff)
    assert contact.phone_e164 == "+46701234567" and contact.first_name == "Fatima"


def test_a_double_tap_stores_one_consent(client, w):
    first = client.post(create_url(w), data=contact_data(w))
    second = client.post(create_url(w), data=contact_data(w))
    assert second.status_code == 303 and second.location == first.location
    assert count(Consent) == 1 and count(Referral) == 2


def test_contact_details_without_the_agreement_are_refused(client, w):
    for missing in ("agree_processing", "agree_disclosure", "method", "form_key"):
        data = contact_data(w)
        del data[missing]
        assert client.post(create_url(w), data=data).status_code == 400
    assert client.post(create_url(w), data=contact_data(w, method="telepathy")).status_code == 400
    assert nothing_stored()


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"phone": "12"}, "Skriv ett giltigt telefonnummer"),
        ({"phone": "", "email": "not-an-address"}, "Skriv en giltig e-postadress."),
        ({"phone": "", "email": ""}, "Skriv ett telefonnummer eller en e-postadress."),
        ({"first_name": ""}, "Skriv ett förnamn eller smeknamn."),
    ],
)
def test_bad_contact_details_get_a_message_next_to_the_field(client, w, over, message):
    response = client.post(create_url(w), data=contact_data(w, **over))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert nothing_stored()


def test_email_alone_is_enough(client, w):
    data = contact_data(w, phone="", email="Visitor@Example.org")
    assert client.post(create_url(w), data=data).status_code == 303
    consent = db.session.scalar(select(Consent))
    assert privacy.contact_details(consent, by=w.staff).email == "visitor@example.org"


def test_a_service_outside_the_organisation_is_404_and_nothing_stored(client, w, make):
    foreign = make_service(make.org(), "foreign")
    data = contact_data(w, services=[w.sfi, foreign])
    assert client.post(create_url(w), data=data).status_code == 404
    assert nothing_stored()


def test_a_consent_text_that_is_not_published_is_400(client, w, make):
    draft = make.consent_text(w.org, "ar", version=2, published=False)
    foreign = make.consent_text(make.org(), "ar")
    for text in (draft, foreign):
        assert client.post(create_url(w), data=contact_data(w, text=text)).status_code == 400
    assert client.post(create_url(w), data=contact_data(w, text_id="x")).status_code == 400
    assert nothing_stored()


def test_another_sites_flow_is_404(client, w, make):
    other = make.site(w.org)
    assert client.post(f"/sites/{other.id}/referrals", data=contact_data(w)).status_code == 404
    assert nothing_stored()


# -- receipt, my referrals --------------------------------------------------------------------


def test_receipt_shows_the_code_in_the_visitors_language_without_contact_details(client, w):
    client.post(create_url(w), data=contact_data(w, first_name="Zainabqa"))
    consent = db.session.scalar(select(Consent))
    page = client.get(f"/referrals/receipt/{consent.id}").get_data(as_text=True)
    assert consent.reference_code in page
    assert 'lang="ar" dir="rtl"' in page
    assert "data:image/svg+xml" in page and "/ar/withdraw" in page
    assert "Zainabqa" not in page and "701234567" not in page


def test_receipt_of_another_site_or_a_tampered_id_is_404(client, w, make, login):
    other_site = make.site(w.org)
    other_staff = make.user(w.org, sites=[other_site])
    consent = make.referral_consent(other_site, [w.sfi], by=other_staff, consent_text=w.text_sv)
    assert client.get(f"/referrals/receipt/{consent.id}").status_code == 404
    assert client.get(f"/referrals/receipt/{consent.id + 999}").status_code == 404


def test_my_referrals_lists_only_mine_without_contact_details_in_bounded_queries(client, w, make):
    for _ in range(26):
        make.referral_consent(
            w.site, [w.sfi], by=w.staff, first_name="Qwertyna", consent_text=w.text_sv
        )
    colleague = make.user(w.org, sites=[w.site])
    theirs = make.referral_consent(w.site, [w.so], by=colleague, consent_text=w.text_sv)
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        page = client.get("/referrals/mine").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert page.count("<tr>") == 26  # a header row and 25 referrals
    assert "Qwertyna" not in page and theirs.reference_code not in page
    assert not any("contact_details" in s for s in statements)
    assert len(statements) < 15
    second = client.get("/referrals/mine?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 2


# -- register extract -------------------------------------------------------------------------


def test_extract_needs_the_right_phone_and_gives_one_generic_answer(client, w):
    consent = w_consent = None
    client.post(create_url(w), data=contact_data(w, first_name="Zainabqa"))
    w_consent = db.session.scalar(select(Consent))
    wrong_phone = client.post(
        "/referrals/extract", data={"code": w_consent.reference_code, "phone": "0709999999"}
    )
    wrong_code = client.post(
        "/referrals/extract", data={"code": "XXXX-XXXX", "phone": "0701234567"}
    )
    assert wrong_phone.status_code == wrong_code.status_code == 404
    assert "Zainabqa" not in wrong_phone.get_data(as_text=True)
    generic = "Ingen träff. Kontrollera koden och telefonnumret."
    assert generic in wrong_phone.get_data(as_text=True) and generic in wrong_code.get_data(
        as_text=True
    )
    consent = w_consent
    right = client.post(
        "/referrals/extract",
        data={"code": consent.reference_code.replace("-", "").lower(), "phone": "0701234567"},
    )
    page = right.get_data(as_text=True)
    assert right.status_code == 200
    assert 'lang="ar"' in page
    assert "Zainabqa" in page and "+46701234567" in page
    assert "نص الموافقة العربي" in page and w.staff.name in page
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "register_extract"))
    assert [e.object_id for e in events] == [consent.id]


def test_extract_of_another_sites_consent_is_the_generic_answer_for_staff(client, w, make):
    other_site = make.site(w.org)
    consent = make.referral_consent(
        other_site, [w.sfi], by=make.user(w.org, sites=[other_site]), consent_text=w.text_sv
    )
    response = client.post(
        "/referrals/extract", data={"code": consent.reference_code, "phone": "+46701234567"}
    )
    assert response.status_code == 404


def test_extract_lookups_are_throttled(client, w):
    codes = [
        client.post(
            "/referrals/extract", data={"code": f"AAAA-AAA{i}", "phone": "0701234567"}
        ).status_code
        for i in range(11)
    ]
    assert codes[:10] == [404] * 10 and codes[10] == 429


# -- withdrawal -------------------------------------------------------------------------------


def test_withdrawal_asks_first_then_erases_and_closes(client, w):
    consent = db.session.get(Consent, make_consent_via_flow(client, w))
    confirm = client.get(f"/consents/{consent.id}/withdraw")
    assert confirm.status_code == 200 and count(ContactDetails) == 1
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 303
    db.session.refresh(consent)
    assert consent.withdrawn_at is not None and consent.withdrawn_by_id == w.staff.id
    assert privacy.has_contact_details([consent.id]) == set()
    referrals = db.session.scalars(select(Referral)).all()
    assert {(r.status, r.outcome) for r in referrals} == {
        (ReferralStatus.CLOSED, Outcome.WITHDRAWN)
    }
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "consent_withdrawn" in actions
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 303  # idempotent


def make_consent_via_flow(client, w, **over) -> int:
    response = client.post(create_url(w), data=contact_data(w, **over))
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.location.rsplit("/", 1)[1])


def test_withdrawal_scope_staff_own_sites_coordinators_their_services(
    app, client, w, make, login
):
    other_site = make.site(w.org)
    consent = make.referral_consent(
        other_site, [w.sfi], by=make.user(w.org, sites=[other_site]), consent_text=w.text_sv
    )
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 404
    stranger, coordinator = app.test_client(), app.test_client()
    login(make.user(make.org(), role=Role.COORDINATOR), c=stranger)
    assert stranger.post(f"/consents/{consent.id}/withdraw").status_code == 404
    other_service = make.service(w.org, slug="annat")
    other_coordinator = app.test_client()
    login(make.user(w.org, role=Role.COORDINATOR, services=[other_service]), c=other_coordinator)
    assert other_coordinator.post(f"/consents/{consent.id}/withdraw").status_code == 404
    login(make.user(w.org, role=Role.COORDINATOR, services=[w.sfi]), c=coordinator)
    assert coordinator.post(f"/consents/{consent.id}/withdraw").status_code == 303
    assert privacy.has_contact_details([consent.id]) == set()


def test_public_page_explains_how_to_withdraw_in_each_language(client):
    response = client.get("/ar/withdraw")
    assert response.status_code == 200 and 'dir="rtl"' in response.get_data(as_text=True)
    # An unknown language goes to the closest one, as on every public page.
    assert client.get("/xx/withdraw").headers["Location"].endswith("/sv/withdraw")


def test_audit_events_exist_for_reads_and_withdrawal_without_contact_details(client, w):
    consent_id = make_consent_via_flow(client, w, first_name="Audrunella", phone="0701112233")
    consent = db.session.get(Consent, consent_id)
    client.post("/referrals/extract", data={"code": consent.reference_code, "phone": "0701112233"})
    client.post(f"/consents/{consent_id}/withdraw")
    events = db.session.scalars(select(AuditEvent)).all()
    actions = {e.action for e in events}
    assert {"consent_given", "register_extract", "consent_withdrawn"} <= actions
    dumped = json.dumps([[e.action, e.detail] for e in events], ensure_ascii=False)
    assert "Audrunella" not in dumped and "701112233" not in dumped


def test_each_referral_created_by_the_flow_has_its_own_audit_event(client, w):
    consent_id = make_consent_via_flow(client, w, first_name="Audrunella", phone="0701112233")
    referrals = db.session.scalars(select(Referral).order_by(Referral.id)).all()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "referral_created").order_by(AuditEvent.id)
    ).all()
    assert [(e.user_id, e.object_type, e.object_id, e.detail) for e in events] == [
        (w.staff.id, "referral", r.id, {"consent_id": consent_id, "service_id": r.service_id})
        for r in referrals
    ]
    assert {r.service_id for r in referrals} == {w.sfi.id, w.so.id}


# -- consent texts admin ----------------------------------------------------------------------


@pytest.fixture
def admin(make, login, client):
    org = make.org()
    user = make.user(org, role=Role.ADMIN)
    login(user)
    return user


def test_admin_creates_drafts_numbered_per_locale_and_publishes(client, admin, make):
    make.consent_text(admin.organisation, "sv", version=3)
    data = {"locale": "sv", "legal_basis": "public_task", "body": "Ny text"}
    assert client.post("/admin/consent-texts/new", data=data).status_code == 303
    assert client.post("/admin/consent-texts/new", data={**data, "locale": "fa"}).status_code == 303
    texts = {(t.locale, t.version): t for t in db.session.scalars(select(ConsentText))}
    draft = texts[("sv", 4)]
    assert draft.status == ConsentTextStatus.DRAFT and draft.legal_basis == "public_task"
    assert ("fa", 1) in texts
    edited = client.post(
        f"/admin/consent-texts/{draft.id}/edit", data={"legal_basis": "consent", "body": "Bättre"}
    )
    assert edited.status_code == 303
    assert client.post(f"/admin/consent-texts/{draft.id}/publish").status_code == 303
    db.session.refresh(draft)
    assert draft.status == ConsentTextStatus.PUBLISHED and draft.body == "Bättre"
    assert draft.published_at is not None
    assert "Samtyckestexter" in client.get("/admin/consent-texts/").get_data(as_text=True)


def test_a_published_text_cannot_be_edited(client, admin, make):
    text = make.consent_text(admin.organisation, "sv", body="Original")
    response = client.post(
        f"/admin/consent-texts/{text.id}/edit", data={"legal_basis": "consent", "body": "Ändrad"}
    )
    assert response.status_code == 409
    assert client.get(f"/admin/consent-texts/{text.id}/edit").status_code == 303
    db.session.refresh(text)
    assert text.body == "Original"


def test_consent_texts_of_another_organisation_are_404_and_staff_403(
    app, client, admin, make, login
):
    foreign = make.consent_text(make.org(), "sv", published=False)
    assert client.get(f"/admin/consent-texts/{foreign.id}/edit").status_code == 404
    assert client.post(f"/admin/consent-texts/{foreign.id}/publish").status_code == 404
    staff = app.test_client()
    login(make.user(admin.organisation), c=staff)
    assert staff.get("/admin/consent-texts/").status_code == 403


def test_seed_gives_a_published_first_version_in_every_locale(app, make):
    org = make.org()
    seed_consent_texts(org)
    db.session.commit()
    texts = db.session.scalars(select(ConsentText).where(ConsentText.organisation_id == org.id))
    assert {(t.locale, t.version, t.status) for t in texts} == {
        (code, 1, ConsentTextStatus.PUBLISHED) for code in CONTENT_LOCALES
    }


def test_seed_consent_texts_are_the_shipped_file_as_written(app, make):
    raw = consent_versions.SEED_FILE.read_text(encoding="utf-8")
    shipped = json.loads(raw)
    assert raw == json.dumps(shipped, ensure_ascii=False, indent=2) + "\n"
    org = make.org()
    seed_consent_texts(org)
    db.session.commit()
    texts = db.session.scalars(select(ConsentText).where(ConsentText.organisation_id == org.id))
    assert {t.locale: t.body for t in texts} == shipped
    # Each names the first thing agreed to by its name in every language: GDPR.
    assert all("GDPR" in body for body in shipped.values())


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda texts: texts.pop("ti"), "one text for each of"),
        (lambda texts: texts.update(xx="Text"), "one text for each of"),
        (lambda texts: texts.update(uk=""), "uk: "),
        (lambda texts: texts.update(ar="x" * 10001), "ar: "),
        (lambda texts: texts.update(so=["Text"]), "so: text expected"),
    ],
)
def test_a_seed_consent_file_the_form_would_refuse_stops_the_seeding(
    app, make, tmp_path, monkeypatch, change, problem
):
    texts = json.loads(consent_versions.SEED_FILE.read_text(encoding="utf-8"))
    change(texts)
    broken = tmp_path / "consent_texts.json"
    broken.write_text(json.dumps(texts), encoding="utf-8")
    monkeypatch.setattr(consent_versions, "SEED_FILE", broken)
    org = make.org()
    with pytest.raises(SeedError, match=f"consent_texts.json: .*{problem}"):
        seed_consent_texts(org)
    assert db.session.scalar(select(func.count(ConsentText.id))) == 0


# -- retention --------------------------------------------------------------------------------


def age(consent: Consent, *, created_days=0, closed_days=None) -> None:
    """Move time: make a consent's referrals older (and closed that long ago)."""
    now = utcnow()
    for referral in consent.referrals:
        referral.created_at = now - timedelta(days=created_days)
        if closed_days is not None:
            referral.status = ReferralStatus.CLOSED
            referral.outcome = Outcome.STARTED
            referral.closed_at = now - timedelta(days=closed_days)
    db.session.commit()


def test_purge_closes_stale_referrals_as_expired_and_keeps_the_anonymous_facts(app, w, make):
    stale = make.referral_consent(w.site, [w.sfi, w.so], by=w.staff, consent_text=w.text_sv)
    fresh = make.referral_consent(w.site, [w.sfi], by=w.staff, consent_text=w.text_sv)
    age(stale, created_days=w.org.max_open_days + 1)
    assert privacy.purge_expired() == {"expired": 2, "erased": 1}
    assert privacy.has_contact_details([stale.id, fresh.id]) == {fresh.id}
    referrals = db.session.scalars(select(Referral).where(Referral.consent_id == stale.id)).all()
    assert {(r.status, r.outcome, r.site_id, r.language) for r in referrals} == {
        (ReferralStatus.CLOSED, Outcome.EXPIRED, w.site.id, "ar")
    }
    assert privacy.purge_expired() == {"expired": 0, "erased": 0}  # idempotent


def test_purge_erases_only_after_the_retention_days_of_the_organisation(app, w, make):
    w.org.retention_days_after_close = 10
    db.session.commit()
    due = make.referral_consent(w.site, [w.sfi], by=w.staff, consent_text=w.text_sv)
    kept = make.referral_consent(w.site, [w.sfi], by=w.staff, consent_text=w.text_sv)
    partly_open = make.referral_consent(w.site, [w.sfi, w.so], by=w.staff, consent_text=w.text_sv)
    age(due, created_days=40, closed_days=11)
    age(kept, created_days=40, closed_days=9)
    partly_open.referrals[0].status = ReferralStatus.CLOSED
    partly_open.referrals[0].closed_at = utcnow() - timedelta(days=100)
    db.session.commit()
    assert privacy.purge_expired() == {"expired": 0, "erased": 1}
    assert privacy.has_contact_details([due.id, kept.id, partly_open.id]) == {
        kept.id,
        partly_open.id,
    }


def test_purge_erases_a_closed_referral_missing_its_close_date(app, w, make):
    consent = make.referral_consent(w.site, [w.sfi], by=w.staff, consent_text=w.text_sv)
    age(consent, created_days=60, closed_days=0)
    consent.referrals[0].closed_at = None
    db.session.commit()
    assert privacy.purge_expired()["erased"] == 1


def test_purge_expired_command_is_safe_to_repeat(app, w, make):
    consent = make.referral_consent(w.site, [w.sfi], by=w.staff, consent_text=w.text_sv)
    age(consent, created_days=400)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["purge-expired"])
    second = runner.invoke(args=["purge-expired"])
    assert first.exit_code == 0 and "closed: 1" in first.output
    assert second.exit_code == 0 and "closed: 0; contact details erased: 0" in second.output


# -- the proof of erasure ---------------------------------------------------------------------

NAME = "Zyxqvelina"
PHONE_FORMS = ("+46701739246", "0701739246", "46701739246", "070-173 92 46")


def every_value_as_text() -> str:
    """Every column of every table, as text."""
    chunks = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def read_back(consent_id: int, w) -> privacy.ContactView:
    contact = privacy.contact_details(db.session.get(Consent, consent_id), by=w.staff)
    db.session.commit()  # the read's audit event
    return contact


def assert_gone_everywhere() -> None:
    db.session.rollback()  # no open read transaction may hold the WAL back
    dump = every_value_as_text()
    db.session.rollback()
    digits = {"".join(ch for ch in form if ch.isdigit()) for form in PHONE_FORMS}
    for needle in (NAME, *PHONE_FORMS, *digits):
        assert needle not in dump, needle
    if db.engine.dialect.name != "sqlite":
        return
    privacy.checkpoint_after_erasure()
    path = Path(db.engine.url.database)
    raw = path.read_bytes()
    wal = Path(f"{path}-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    for needle in (NAME, *PHONE_FORMS, *digits):
        assert needle.encode() not in raw, needle
        assert needle.encode("utf-16-le") not in raw, needle


def test_erasure_is_real_after_withdrawal_and_after_purge(app, client, w):
    consent_id = make_consent_via_flow(client, w, first_name=NAME, phone="0701739246", key="a")
    # Stored encrypted (tests/test_encryption_at_rest.py searches the files): read it back.
    assert read_back(consent_id, w).first_name == NAME
    assert client.post(f"/consents/{consent_id}/withdraw").status_code == 303
    assert_gone_everywhere()

    second_id = make_consent_via_flow(
        client, w, first_name=NAME, phone="+46 70 173 92 46", email="zyxq@example.org", key="b"
    )
    assert read_back(second_id, w).phone_e164 == "+46701739246"
    age(db.session.get(Consent, second_id), created_days=90, closed_days=31)
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "erased: 1" in result.output
    assert_gone_everywhere()
    assert "zyxq@example.org" not in every_value_as_text()
    # What remains is anonymous and still counts.
    assert count(Referral) == 4 and count(Consent) == 2


def test_consent_screen_states_the_legal_basis_of_the_text(client, w, make):
    make.consent_text(w.org, "en", body="English text", legal_basis="public_task")
    page = client.get(
        consent_url(w), query_string={"service_id": [w.sfi.id], "visitor_lang": "en"}
    ).get_data(as_text=True)
    assert "public interest (GDPR article 6.1 e)" in page
    assert "consent to disclosure" in page
    assert "visitor_lang=ar" in page  # the visitor can switch language on the screen itself
