"""The admin's side of the receiving services (issue 21): partner organisations with their
services and phone, their users (role partner, made on the partner's page), the users screen
that keeps a partner user's role and partner, and the two organisation settings."""

import pytest
from sqlalchemy import select

from app.auth.twofactor import must_enrol
from app.choices import PartnerKind, Role
from app.extensions import db
from app.models import AuditEvent, Partner, User
from app.validators import Unique
from tests.security_world import sign_in_as

STRONG = "a long enough passphrase 42"


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def admin(make, org, login):
    user = make.user(org, Role.ADMIN, name="Admin Adminsson")
    login(user)
    return user


@pytest.fixture
def sfi(make, org):
    return make.service(org, slug="sfi")


@pytest.fixture
def preschool(make, org):
    return make.service(org, slug="forskola")


def partner_data(**overrides) -> dict:
    data = {"name": "SFI-skolan", "kind": "school", "phone": "08-123 456 78", "is_active": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def user_data(**overrides) -> dict:
    data = {
        "user-name": "Sara",
        "user-email": "Sara@Example.test",
        "user-locale": "en",
        "user-password": STRONG,
    }
    data.update(overrides)
    return data


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def only_partner() -> Partner:
    (partner,) = db.session.scalars(select(Partner))
    return partner


# --- the partner organisation -------------------------------------------------------------


def test_admin_creates_a_partner_with_services_and_an_e164_phone(client, admin, org, sfi):
    response = client.post("/admin/partners/new", data=partner_data(services=[sfi.id]))
    assert response.status_code == 303
    partner = only_partner()
    assert (partner.organisation_id, partner.name, partner.kind, partner.phone) == (
        org.id,
        "SFI-skolan",
        PartnerKind.SCHOOL,
        "+46812345678",
    )
    assert [s.id for s in partner.services] == [sfi.id]
    (created,) = events("partner_created")
    assert (created.object_type, created.object_id) == ("partner", partner.id)
    assert created.detail == {"kind": "school", "services": [sfi.id]}
    page = client.get("/admin/partners/").get_data(as_text=True)
    assert "SFI-skolan" in page and "Skola" in page and "SFI" in page


def test_admin_edits_a_partner_and_the_change_is_audited_as_codes(
    client, admin, org, make, sfi, preschool
):
    partner = make.partner(org, [sfi], name="SFI-skolan")
    response = client.post(
        f"/admin/partners/{partner.id}",
        data=partner_data(kind="municipal_unit", phone="", services=[preschool.id]),
    )
    assert response.status_code == 303
    db.session.refresh(partner)
    assert (partner.kind, partner.phone, partner.is_active) == ("municipal_unit", "", True)
    assert [s.id for s in partner.services] == [preschool.id]
    (changed,) = events("partner_changed")
    assert changed.detail == {"changed": ["kind"], "services": [preschool.id]}
    assert "SFI-skolan" not in str(changed.detail)


def test_the_list_counts_users_per_partner(client, admin, org, make, sfi):
    school = make.partner(org, [sfi], name="SFI-skolan")
    make.partner(org, [], name="Tom förening", is_active=False)
    make.partner_user(school)
    make.partner_user(school)
    page = client.get("/admin/partners/").get_data(as_text=True)
    school_row = page[page.index("SFI-skolan") : page.index("Tom förening")]
    assert "<td>2</td>" in school_row
    assert "<td>0</td>" in page[page.index("Tom förening") :]


def test_a_duplicate_name_is_refused_with_a_message(client, admin, org, make):
    make.partner(org, [], name="SFI-skolan")
    response = client.post("/admin/partners/new", data=partner_data(name="sfi-skolan"))
    assert response.status_code == 422
    assert "Det finns redan en mottagande verksamhet med det namnet." in response.get_data(
        as_text=True
    )
    assert len(list(db.session.scalars(select(Partner)))) == 1


def test_a_name_taken_in_a_race_is_a_message_not_a_500(client, admin, org, make, monkeypatch):
    """The form's check passes (another admin saved between check and commit): the database's
    unique constraint refuses, and the admin reads the same message."""
    make.partner(org, [], name="SFI-skolan")
    other = make.partner(org, [], name="Annan")
    monkeypatch.setattr(Unique, "__call__", lambda self, form, field: None)
    for url in ("/admin/partners/new", f"/admin/partners/{other.id}"):
        response = client.post(url, data=partner_data())
        assert response.status_code == 422, url
        assert "Det finns redan en mottagande verksamhet" in response.get_data(as_text=True)
    db.session.refresh(other)
    assert other.name == "Annan"
    assert events("partner_created") == [] and events("partner_changed") == []


def test_the_same_name_in_another_organisation_is_fine(client, admin, make):
    make.partner(make.org(), [], name="SFI-skolan")
    assert client.post("/admin/partners/new", data=partner_data()).status_code == 303


@pytest.mark.parametrize("phone", ["123", "not a number", "+46 70 123 45 67 89 00"])
def test_a_phone_that_is_no_number_is_refused(client, admin, phone):
    response = client.post("/admin/partners/new", data=partner_data(phone=phone))
    assert response.status_code == 422
    assert "Skriv ett telefonnummer med riktnummer" in response.get_data(as_text=True)
    assert db.session.scalar(select(Partner)) is None


@pytest.mark.parametrize(
    "overrides",
    [{"name": ""}, {"name": "x" * 121}, {"kind": "church"}, {"kind": None}],
    ids=["no name", "long name", "unknown kind", "no kind"],
)
def test_a_partner_form_with_a_bad_field_is_refused(client, admin, overrides):
    assert client.post("/admin/partners/new", data=partner_data(**overrides)).status_code == 422
    assert db.session.scalar(select(Partner)) is None


def test_a_service_of_another_organisation_is_never_linked(client, admin, org, make, sfi):
    foreign = make.service(make.org(), slug="foreign")
    response = client.post("/admin/partners/new", data=partner_data(services=[foreign.id]))
    assert response.status_code == 422
    assert db.session.scalar(select(Partner)) is None
    partner = make.partner(org, [sfi])
    data = partner_data(services=[sfi.id, foreign.id])
    assert client.post(f"/admin/partners/{partner.id}", data=data).status_code == 422
    db.session.refresh(partner)
    assert [s.id for s in partner.services] == [sfi.id]


def test_an_inactive_service_is_offered_only_to_a_partner_that_has_it(client, admin, org, make):
    old = make.service(org, slug="gammal", is_active=False)
    assert (
        client.post("/admin/partners/new", data=partner_data(services=[old.id])).status_code == 422
    )
    partner = make.partner(org, [old], name="Kvar")
    page = client.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert "GAMMAL" in page
    data = partner_data(name="Kvar", services=[old.id])
    assert client.post(f"/admin/partners/{partner.id}", data=data).status_code == 303


def test_an_admin_of_another_organisation_gets_404(client, make, login, sfi, org):
    partner = make.partner(org, [sfi])
    login(make.user(make.org(), Role.ADMIN))
    assert client.get(f"/admin/partners/{partner.id}").status_code == 404
    assert client.post(f"/admin/partners/{partner.id}", data=partner_data()).status_code == 404
    response = client.post(f"/admin/partners/{partner.id}/users", data=user_data())
    assert response.status_code == 404
    assert "SFI-skolan" not in client.get("/admin/partners/").get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "sara@example.test")) is None


@pytest.mark.parametrize("role", [Role.STAFF, Role.COORDINATOR, Role.PARTNER])
def test_only_admins_open_the_partner_screens(client, make, org, sfi, role):
    partner = make.partner(org, [sfi])
    user = make.partner_user(partner) if role == Role.PARTNER else make.user(org, role)
    sign_in_as(client, user)  # a partner's second factor is not what this test is about
    assert client.get("/admin/partners/").status_code == 403
    assert client.get(f"/admin/partners/{partner.id}").status_code == 403


# --- the partner's users ------------------------------------------------------------------


def test_a_partner_user_gets_role_partner_org_and_language(client, admin, org, make, sfi):
    partner = make.partner(org, [sfi], name="SFI-skolan")
    response = client.post(f"/admin/partners/{partner.id}/users", data=user_data())
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "sara@example.test"))
    assert (user.role, user.partner_id, user.organisation_id, user.locale) == (
        Role.PARTNER,
        partner.id,
        org.id,
        "en",
    )
    assert user.sites == [] and user.services == [] and user.password_hash != STRONG
    (created,) = events("user_created")
    assert created.detail == {"role": "partner", "partner": partner.id}
    page = client.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert "sara@example.test" in page
    assert f"/admin/users/{user.id}/disable" in page
    users = client.get("/admin/users/").get_data(as_text=True)
    assert "SFI-skolan" in users and f"/admin/partners/{partner.id}" in users


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"user-email": "nope"}, "Skriv en giltig e-postadress."),
        ({"user-password": "short"}, "Lösenordet måste ha minst"),
        ({"user-name": ""}, "Skriv ett namn."),
    ],
)
def test_a_bad_partner_user_is_refused_beside_the_field(
    client, admin, org, make, overrides, message
):
    partner = make.partner(org, [], name="SFI-skolan")
    response = client.post(f"/admin/partners/{partner.id}/users", data=user_data(**overrides))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'value="SFI-skolan"' in html  # the partner's own form shows what is stored
    assert db.session.scalar(select(User).where(User.role == Role.PARTNER)) is None


def test_a_taken_email_is_refused_for_a_partner_user(client, admin, org, make):
    partner = make.partner(org, [])
    make.user(make.org(), email="sara@example.test")
    response = client.post(f"/admin/partners/{partner.id}/users", data=user_data())
    assert response.status_code == 422
    assert "Det finns redan ett konto med den e-postadressen." in response.get_data(as_text=True)


def test_the_users_screen_offers_no_partner_role(client, admin, org):
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="partner"' not in page
    data = {"name": "N", "email": "n@example.test", "role": "partner", "password": STRONG}
    assert client.post("/admin/users/new", data=data).status_code == 422
    assert db.session.scalar(select(User).where(User.role == Role.PARTNER)) is None


def test_a_partner_user_cannot_become_a_coordinator_on_the_users_screen(
    client, admin, org, make, sfi
):
    site = make.site(org)
    partner = make.partner(org, [sfi], name="SFI-skolan")
    user = make.partner_user(partner, name="Sara")
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert 'name="role"' not in page and f"/admin/partners/{partner.id}" in page
    data = {
        "name": "Sara Ny",
        "email": user.email,
        "role": "coordinator",
        "sites": [site.id],
        "services": [sfi.id],
        "locale": "ar",
    }
    assert client.post(f"/admin/users/{user.id}", data=data).status_code == 303
    db.session.refresh(user)
    assert (user.name, user.locale, user.role, user.partner_id) == (
        "Sara Ny",
        "ar",
        Role.PARTNER,
        partner.id,
    )
    assert user.sites == [] and user.services == []


def test_a_staff_user_cannot_become_a_partner_on_the_users_screen(client, admin, org, make):
    user = make.user(org, Role.STAFF)
    data = {"name": user.name, "email": user.email, "role": "partner"}
    assert client.post(f"/admin/users/{user.id}", data=data).status_code == 422
    db.session.refresh(user)
    assert user.role == Role.STAFF and user.partner_id is None


def test_disabling_a_partner_user_goes_through_the_users_routes(client, admin, org, make):
    partner = make.partner(org, [])
    user = make.partner_user(partner)
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 303
    db.session.refresh(user)
    assert not user.is_enabled
    page = client.get(f"/admin/partners/{partner.id}").get_data(as_text=True)
    assert f"/admin/users/{user.id}/enable" in page


# --- the settings and two-factor for partners ---------------------------------------------


def settings_data(org, **over) -> dict:
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
        "partner_ack_working_days": "5",
    }
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def test_partner_settings_are_saved_and_audited(client, admin, org):
    assert (org.partner_ack_working_days, org.partner_require_2fa) == (3, True)
    assert client.post("/admin/settings", data=settings_data(org)).status_code == 303
    db.session.refresh(org)
    assert (org.partner_ack_working_days, org.partner_require_2fa) == (5, False)
    (event,) = events("settings_updated")
    assert event.detail["changed"]["partner_ack_working_days"] == [3, 5]
    assert event.detail["changed"]["partner_require_2fa"] == [True, False]
    data = settings_data(org, partner_require_2fa="y")
    assert client.post("/admin/settings", data=data).status_code == 303
    db.session.refresh(org)
    assert org.partner_require_2fa is True


@pytest.mark.parametrize("days", ["0", "31", "", "tre", None])
def test_partner_ack_days_out_of_range_are_refused(client, admin, org, days):
    response = client.post(
        "/admin/settings", data=settings_data(org, partner_ack_working_days=days)
    )
    assert response.status_code == 422
    if days in ("0", "31"):
        assert "Välj ett tal från 1 till 30." in response.get_data(as_text=True)
    db.session.refresh(org)
    assert org.partner_ack_working_days == 3


def _new_partner_user(client, partner) -> User:
    response = client.post(f"/admin/partners/{partner.id}/users", data=user_data())
    assert response.status_code == 303
    return db.session.scalar(select(User).where(User.email == "sara@example.test"))


@pytest.mark.parametrize("required", [True, False])
def test_a_new_partner_user_enrols_in_two_factor_when_the_setting_says_so(
    app, client, admin, org, make, sfi, required
):
    org.partner_require_2fa = required
    db.session.commit()
    partner = make.partner(org, [sfi])
    user = _new_partner_user(client, partner)
    assert must_enrol(user) is required
    partner_client = app.test_client()
    response = partner_client.post("/login", data={"email": user.email, "password": STRONG})
    assert response.status_code == 303
    if required:
        assert response.location.endswith("/account/two-factor")
        assert partner_client.get("/account/two-factor").status_code == 200
        assert partner_client.get("/inbound/").status_code in (302, 303)  # not signed in yet
    else:
        assert not response.location.endswith("/account/two-factor")
        assert partner_client.get("/inbound/").status_code == 200
