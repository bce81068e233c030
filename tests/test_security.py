"""Security area: admin users, sites, settings and audit screens; two-factor sign-in; sessions;
shared throttling; headers on every page; backup and restore."""

import ast
import csv
import io
import os
import stat
import subprocess
import sys
import textwrap
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from app import audit
from app.access import PUBLIC
from app.auth.passwords import verify_password
from app.choices import Role
from app.extensions import db
from app.models import AuditEvent, Consent, Organisation, Referral, Site, User, Visit, utcnow
from tests.security_world import (
    access_of,
    build_world,
    rules_of,
    sign_in_as,
    unfillable,
    url_for_rule,
    url_map_app,
    waits_for_merge,
)

ROOT = Path(__file__).resolve().parent.parent
STRONG = "a long enough passphrase 42"


@pytest.fixture
def org(make):
    return make.org()


@pytest.fixture
def admin(make, org, login):
    user = make.user(org, Role.ADMIN, name="Admin Adminsson")
    login(user)
    return user


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def new_user_form(**overrides) -> dict:
    data = {
        "name": "Nadia",
        "email": "Nadia@Example.test",
        "role": "staff",
        "locale": "ar",
        "password": STRONG,
    }
    data.update(overrides)
    return data


# --- admin: users -------------------------------------------------------------------------


def test_admin_creates_a_coordinator_with_sites_services_and_locale(client, admin, make, org):
    site = make.site(org)
    service = make.service(org)
    data = new_user_form(role="coordinator", sites=[site.id], services=[service.id])
    response = client.post("/admin/users/new", data=data)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "nadia@example.test"))
    assert (user.role, user.locale, user.organisation_id) == ("coordinator", "ar", org.id)
    assert [s.id for s in user.sites] == [site.id]
    assert [s.id for s in user.services] == [service.id]
    assert verify_password(user.password_hash, STRONG)
    (created,) = events("user_created")
    assert created.object_id == user.id and STRONG not in str(created.detail)


def test_services_are_kept_only_for_coordinators(client, admin, make, org):
    service = make.service(org)
    client.post("/admin/users/new", data=new_user_form(role="staff", services=[service.id]))
    assert db.session.scalar(select(User).where(User.email == "nadia@example.test")).services == []


@pytest.mark.parametrize(
    "password,message",
    [
        ("short1", "Lösenordet måste ha minst 12 tecken."),
        ("password1234", "Lösenordet är för vanligt eller för enkelt."),
        ("aaaaaaaaaaaaaaa", "Lösenordet är för vanligt eller för enkelt."),
        ("", "Skriv ett lösenord."),
    ],
)
def test_new_user_password_must_obey_the_policy(client, admin, password, message):
    response = client.post("/admin/users/new", data=new_user_form(password=password))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_password_policy_message_is_translated(client, admin):
    client.post("/locale", data={"locale": "en", "next": "/"})
    response = client.post("/admin/users/new", data=new_user_form(password="short1"))
    assert "at least 12 characters" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "not-an-address"),
        ("email", ""),
        ("name", ""),
        ("name", "x" * 121),
        ("role", "superuser"),
        ("locale", "xx"),
        ("sites", "999999"),
        ("sites", "abc"),
    ],
)
def test_new_user_bad_input_is_422(client, admin, field, value):
    response = client.post("/admin/users/new", data=new_user_form(**{field: value}))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_a_site_of_another_organisation_cannot_be_given(client, admin, make):
    foreign = make.site(make.org())
    response = client.post("/admin/users/new", data=new_user_form(sites=[foreign.id]))
    assert response.status_code == 422


def test_an_email_in_use_is_refused(client, admin, make):
    make.user(email="nadia@example.test")
    response = client.post("/admin/users/new", data=new_user_form())
    assert response.status_code == 422
    assert "Det finns redan ett konto" in response.get_data(as_text=True)


def test_user_list_is_paginated_scoped_and_without_n_plus_one(client, admin, make, org):
    site = make.site(org)
    for i in range(30):
        make.user(org, sites=[site], name=f"Person {i:02d}")
    make.user(make.org(), name="Stranger Danger")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = client.get("/admin/users/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert "31 konton" in first and "Stranger" not in first
    assert len(statements) <= 8  # user, count, page, sites in one go: not one per row
    second = client.get("/admin/users/?page=2").get_data(as_text=True)
    assert "Sida 2 av 2" in second


def test_admin_edits_role_sites_and_the_change_is_audited(client, admin, make, org):
    a1, a2 = make.site(org), make.site(org)
    user = make.user(org, sites=[a1])
    data = new_user_form(
        name=user.name, email=user.email, role="coordinator", sites=[a2.id], password=""
    )
    assert client.post(f"/admin/users/{user.id}", data=data).status_code == 303
    db.session.refresh(user)
    assert user.role == "coordinator" and [s.id for s in user.sites] == [a2.id]
    (updated,) = events("user_updated")
    assert set(updated.detail["changed"]) >= {"role", "sites"}


def test_admin_cannot_demote_or_disable_themselves(client, admin):
    data = new_user_form(name=admin.name, email=admin.email, role="staff", password="")
    assert client.post(f"/admin/users/{admin.id}", data=data).status_code == 422
    client.post(f"/admin/users/{admin.id}/disable")
    db.session.refresh(admin)
    assert admin.is_enabled and admin.role == Role.ADMIN


def test_disabling_a_user_ends_their_session_at_once(client, admin, make, org, app, login):
    other = make.user(org, Role.ADMIN)
    their_client = app.test_client()
    login(other, c=their_client)
    assert their_client.get("/admin/").status_code == 200
    assert client.post(f"/admin/users/{other.id}/disable").status_code == 303
    response = their_client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.location
    assert (
        their_client.post(
            "/login", data={"email": other.email, "password": make.PASSWORD}
        ).status_code
        == 401
    )
    client.post(f"/admin/users/{other.id}/enable")
    login(other, c=their_client)
    assert [e.action for e in events("user_disabled") + events("user_enabled")] == [
        "user_disabled",
        "user_enabled",
    ]


def test_reset_two_factor_removes_the_secret(client, admin, make, org):
    user = make.user(org, totp_secret=pyotp.random_base32(), totp_last_step=5)
    client.post(f"/admin/users/{user.id}/reset-two-factor")
    db.session.refresh(user)
    assert user.totp_secret is None and user.totp_last_step is None
    assert events("totp_reset")[0].object_id == user.id


# --- admin: sites -------------------------------------------------------------------------


def test_admin_adds_renames_and_deactivates_a_site(client, admin, org):
    assert (
        client.post("/admin/sites/new", data={"name": "Norr", "is_active": "y"}).status_code == 303
    )
    site = db.session.scalar(select(Site).where(Site.name == "Norr"))
    assert client.post(f"/admin/sites/{site.id}", data={"name": "Söder"}).status_code == 303
    db.session.refresh(site)
    assert (site.name, site.is_active) == ("Söder", False)
    assert [e.action for e in events("site_created") + events("site_updated")] == [
        "site_created",
        "site_updated",
    ]
    assert "Söder" in client.get("/admin/sites/").get_data(as_text=True)


def test_site_names_are_unique_per_organisation(client, admin, make, org):
    make.site(org, name="Norr")
    response = client.post("/admin/sites/new", data={"name": "norr"})
    assert response.status_code == 422


# --- admin: settings ----------------------------------------------------------------------


def settings_form(**overrides) -> dict:
    data = {
        "legal_basis": "public_task",
        "retention_days_after_close": "60",
        "max_open_days": "120",
        "first_contact_working_days": "3",
        "unreachable_after_attempts": "4",
        "suppression_threshold": "6",
        "audit_retention_days": "365",
        "kiosk_idle_seconds": "90",
        "require_2fa": "y",
        "follow_up_months": "3,6,12",
        "follow_up_max_days": "400",
        "partner_ack_working_days": "3",
        "partner_require_2fa": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_settings_are_saved_and_audited(client, admin, org):
    assert client.post("/admin/settings", data=settings_form()).status_code == 303
    db.session.refresh(org)
    assert (org.legal_basis, org.retention_days_after_close, org.max_open_days) == (
        "public_task",
        60,
        120,
    )
    assert (org.suppression_threshold, org.audit_retention_days, org.kiosk_idle_seconds) == (
        6,
        365,
        90,
    )
    assert org.require_2fa is True
    (changed,) = events("settings_updated")
    assert changed.detail["changed"]["max_open_days"] == [180, 120]


@pytest.mark.parametrize(
    "field,value",
    [
        ("retention_days_after_close", "-1"),
        ("retention_days_after_close", "366"),
        ("max_open_days", "6"),
        ("first_contact_working_days", "0"),
        ("unreachable_after_attempts", "11"),
        ("suppression_threshold", "2"),
        ("audit_retention_days", "179"),
        ("kiosk_idle_seconds", "5"),
        ("kiosk_idle_seconds", "abc"),
        ("kiosk_idle_seconds", None),
        ("legal_basis", "because"),
    ],
)
def test_settings_out_of_range_are_refused(client, admin, org, field, value):
    response = client.post("/admin/settings", data=settings_form(**{field: value}))
    assert response.status_code == 422
    db.session.refresh(org)
    assert org.max_open_days == 180 and not org.require_2fa


def test_settings_error_names_the_range(client, admin):
    response = client.post("/admin/settings", data=settings_form(suppression_threshold="2"))
    assert "Välj ett tal från 3 till 20." in response.get_data(as_text=True)


# --- audit log ----------------------------------------------------------------------------


def test_sign_in_and_failures_are_audited_without_the_password(client, make):
    user = make.user()
    client.post("/login", data={"email": user.email, "password": "wrong password 123"})
    client.post("/login", data={"email": user.email, "password": make.PASSWORD})
    (failed,) = events("login_failed")
    (ok,) = events("login")
    assert failed.object_id == ok.object_id == user.id
    assert "wrong password" not in str(failed.detail)


def test_audit_events_cannot_be_changed_or_deleted_through_the_orm(app, make):
    audit.record("login", "user", 1, user=None)
    db.session.commit()
    row = db.session.scalar(select(AuditEvent))
    row.action = "nothing_happened"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_the_database_itself_refuses_to_update_audit_events(app):
    audit.record("login", "user", 1, user=None)
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("UPDATE audit_event SET action = 'forged'"))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.action)) == "login"


def test_audit_screen_filters_by_user_action_object_and_period(client, admin, make, org):
    other = make.user(org, name="Other Person")
    old = utcnow() - timedelta(days=40)
    db.session.add_all(
        [
            AuditEvent(
                organisation_id=org.id,
                user_id=other.id,
                action="contact_read",
                object_type="consent",
                object_id=7,
                at=old,
            ),
            AuditEvent(
                organisation_id=org.id,
                user_id=other.id,
                action="contact_read",
                object_type="consent",
                object_id=8,
            ),
            AuditEvent(
                organisation_id=org.id,
                user_id=admin.id,
                action="user_updated",
                object_type="user",
                object_id=other.id,
            ),
            AuditEvent(
                organisation_id=make.org().id,
                action="contact_read",
                object_type="consent",
                object_id=9,
            ),
        ]
    )
    db.session.commit()

    def shown(query: str) -> str:
        response = client.get(f"/admin/audit/?{query}")
        assert response.status_code == 200
        return response.get_data(as_text=True)

    assert "Samtycke 9" not in shown("")  # another organisation's events never show
    by_user = shown(f"user={other.id}")
    assert (
        "Samtycke 7" in by_user and "Samtycke 8" in by_user and 'title="user_updated"' not in by_user
    )
    assert "Samtycke 8" in shown("object_type=consent&object_id=8")
    assert "Samtycke 7" not in shown("object_type=consent&object_id=8")
    recent = shown(f"action=contact_read&start={(utcnow() - timedelta(days=2)).date()}")
    assert "Samtycke 8" in recent and "Samtycke 7" not in recent
    period = shown(f"end={(utcnow() - timedelta(days=30)).date()}")
    assert "Samtycke 7" in period and "Samtycke 8" not in period


def audit_actions_in_source() -> dict[str, str]:
    """Every action code app/ can write, with where: the first argument of each `record(...)`
    call, every `action="..."` keyword, and the default of every parameter named `action`.
    A call passing something other than a literal must pass a parameter named `action`, whose
    values the last two rules collect."""
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            literals = []
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "record" and node.args:
                    first = node.args[0]
                    assert isinstance(first, ast.Constant) or (
                        isinstance(first, ast.Name) and first.id == "action"
                    ), f"{where}:{node.lineno} passes a computed action to record()"
                    literals.append(first)
                literals += [k.value for k in node.keywords if k.arg == "action"]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults))
                defaults += node.args.defaults + node.args.kw_defaults
                literals += [d for a, d in zip(args, defaults, strict=True) if a.arg == "action"]
            for literal in literals:
                if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                    found.setdefault(literal.value, f"{where}:{node.lineno}")
    return found


def test_every_action_written_in_app_is_known_and_labelled():
    found = audit_actions_in_source()
    assert {"login", "referral_updated", "contact_read", "register_extract"} <= set(found)
    missing = {
        action: where for action, where in found.items() if action not in audit.KNOWN_ACTIONS
    }
    assert not missing, f"add these to app.audit.ACTION_LABELS: {missing}"
    assert audit.KNOWN_ACTIONS == list(audit.ACTION_LABELS)


def test_every_object_type_written_in_app_is_named():
    """The audit screen names what an event is about in words (issue 18: not table names)."""
    found = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            second = node.args[1]
            if name == "record" and isinstance(second, ast.Constant) and second.value:
                found.setdefault(second.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    assert {"user", "referral", "activity_session"} <= set(found)
    missing = {kind: where for kind, where in found.items() if kind not in audit.OBJECT_LABELS}
    assert not missing, f"add these to app.audit.OBJECT_LABELS: {missing}"


@pytest.mark.parametrize(
    "locale,label",
    [
        ("sv", "Visade kontaktuppgifter"),
        ("en", "Viewed contact details"),
        ("ar", "عرض بيانات الاتصال"),
    ],
)
def test_audit_screen_shows_translated_labels_and_the_export_raw_codes(
    client, admin, org, locale, label
):
    audit.record("contact_read", "consent", 5, user=admin)
    db.session.commit()
    client.post("/locale", data={"locale": locale, "next": "/"})
    html = client.get("/admin/audit/").get_data(as_text=True)
    assert f'<option value="contact_read">{label}</option>' in html
    assert f'<td title="contact_read">{label}</td>' in html
    if locale != "sv":
        assert "Visade kontaktuppgifter" not in html
    export = client.get("/admin/audit/export.csv").get_data(as_text=True)
    assert "contact_read" in [row[1] for row in csv.reader(io.StringIO(export))]
    assert label not in export


@pytest.mark.parametrize(
    "query",
    [
        "start=2026-05-02&end=2026-05-01",
        "user=999999",
        "action=made_up",
        "object_id=abc",
        "start=2026-02-30",
        "object_type=secret_table",
    ],
)
def test_audit_screen_bad_filters_are_422(client, admin, query):
    response = client.get(f"/admin/audit/?{query}")
    assert response.status_code == 422


def test_audit_screen_is_paginated(client, admin, org):
    db.session.add_all(
        AuditEvent(organisation_id=org.id, action="login", object_type="user", object_id=i)
        for i in range(60)
    )
    db.session.commit()
    html = client.get("/admin/audit/?action=login&page=3").get_data(as_text=True)
    assert "Sida 3 av 3" in html


def test_audit_export_is_filtered_formula_safe_and_itself_audited(client, admin, make, org):
    evil = make.user(org, name='=HYPERLINK("http://evil")')
    audit.record("user_created", "user", evil.id, user=admin)
    audit.record("login", "user", evil.id, user=evil)
    db.session.commit()
    response = client.get(f"/admin/audit/export.csv?user={evil.id}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:2] == ["at_utc", "action"]
    assert [r[1] for r in rows[1:]] == ["login"]
    assert rows[1][5].startswith("'=")
    (exported,) = events("audit_exported")
    assert exported.detail["filters"] == {"user": str(evil.id)}


def test_audit_export_reads_a_long_log_in_pages_without_losing_a_row(client, admin, org):
    for n in range(1203):
        audit.record("site_created", "site", n + 1, user=admin)
    db.session.commit()
    text = client.get("/admin/audit/export.csv?action=site_created").get_data(as_text=True)
    ids = [int(row[3]) for row in list(csv.reader(io.StringIO(text)))[1:]]
    assert ids == list(range(1, 1204))


def test_contact_details_never_reach_the_audit_log(app, client, make, login):
    """A whole referral's life through the screens: the flow, a reveal, every queue action, a
    register extract and the withdrawal. Not one column of any audit row holds the first
    name, the phone number or the e-mail address, in any spelling the visitor gave."""
    from app.workdays import add_working_days, local_today

    org = make.org()
    site = make.site(org)
    service = make.service(org, slug="sfi")
    staff = make.user(org, sites=[site])
    coordinator = make.user(org, Role.COORDINATOR, services=[service])
    consent_text = make.consent_text(org)
    login(staff)
    created = client.post(
        f"/sites/{site.id}/referrals",
        data={
            "service_id": [service.id],
            "visitor_lang": "sv",
            "text_id": consent_text.id,
            "form_key": "audit-privacy",
            "agree_processing": "y",
            "agree_disclosure": "y",
            "method": "tablet",
            "first_name": "Zainab",
            "phone": "070-111 22 33",
            "email": "Zainab.Hassan@Posten.se",
            "contact_language": "sv",
            "best_time": "morning",
        },
    )
    assert created.status_code == 303
    consent = db.session.scalar(select(Consent))
    referral = consent.referrals[0]
    client.post("/referrals/extract", data={"code": consent.reference_code, "phone": "0701112233"})
    queue = app.test_client()
    login(coordinator, c=queue)
    url = f"/queue/referrals/{referral.id}"
    revealed = queue.post(f"{url}/contact").get_data(as_text=True)
    assert "Zainab" in revealed and "zainab.hassan@posten.se" in revealed
    steps = [
        ("assign", {"assignee_id": coordinator.id}),
        ("attempts", {"channel": "phone", "result": "reached", "on_date": local_today()}),
        ("follow-up", {"follow_up_date": add_working_days(local_today(), 3)}),
        ("status", {"to_status": "in_progress"}),
    ]
    for version, (step, data) in enumerate(steps, start=1):
        assert queue.post(f"{url}/{step}", data={"version": version, **data}).status_code == 303
    assert client.post(f"/consents/{consent.id}/withdraw").status_code == 303

    rows = db.session.execute(text("SELECT * FROM audit_event")).all()
    actions = {row.action for row in rows}
    assert {
        "consent_given",
        "referral_created",
        "register_extract",
        "contact_read",
        "referral_updated",
        "consent_withdrawn",
    } <= actions
    dump = " ".join(str(value) for row in rows for value in row).lower()
    for secret in ("zainab", "701112233", "070-111", "111 22 33", "hassan", "posten.se"):
        assert secret not in dump


def test_purge_command_leaves_no_write_intent_behind(app):
    """The command asks for BEGIN IMMEDIATE; left set, every later read in the same thread
    would take SQLite's write lock and block a second connection (the streamed export)."""
    from app.database import write_intent

    assert app.test_cli_runner().invoke(args=["purge-expired"]).exit_code == 0
    assert write_intent.get() is False


def test_purge_removes_audit_events_past_the_organisations_retention(app, make):
    short = make.org(audit_retention_days=200)
    long_ = make.org(audit_retention_days=3000)
    old = utcnow() - timedelta(days=400)
    db.session.add_all(
        [
            AuditEvent(organisation_id=short.id, action="login", at=old),
            AuditEvent(organisation_id=short.id, action="logout"),
            AuditEvent(organisation_id=long_.id, action="login", at=old),
            AuditEvent(organisation_id=None, action="login_failed", at=old),
        ]
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge-expired"])
    assert result.exit_code == 0, result.output
    assert "Audit events past retention removed: 2" in result.output
    left = db.session.execute(select(AuditEvent.organisation_id, AuditEvent.action)).all()
    assert sorted(left, key=str) == sorted(
        [(short.id, "logout"), (long_.id, "login"), (None, "audit_purge")], key=str
    )


# --- two-factor ---------------------------------------------------------------------------


def code_for(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30 * offset_steps))


def password_step(client, user, password="correct horse battery staple"):
    return client.post("/login", data={"email": user.email, "password": password})


def test_enrolment_shows_a_qr_code_and_switches_on_with_a_right_code(client, make, login):
    user = make.user(make.org(), role=Role.STAFF)
    login(user)
    page = client.get("/account/two-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "Nyckel" in html
    with client.session_transaction() as session:
        secret = session["totp_candidate"]
    assert secret.replace(" ", "")[:4] in html.replace(" ", "")
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 422
    assert client.post("/account/two-factor", data={"code": code_for(secret)}).status_code == 303
    db.session.refresh(user)
    assert user.totp_secret == secret
    assert events("totp_enrolled")[0].object_id == user.id


def test_password_alone_leaves_a_two_factor_user_only_pending(client, make):
    user = make.user(role=Role.ADMIN, totp_secret=pyotp.random_base32())
    response = password_step(client, user)
    assert response.status_code == 303 and response.location == "/login/code"
    with client.session_transaction() as session:
        assert "_user_id" not in session and session["pending_user_id"] == user.id
    assert client.get("/admin/").status_code == 302  # not signed in yet
    assert events("login") == []


def test_right_code_signs_in_and_renews_the_session(client, make):
    secret = pyotp.random_base32()
    user = make.user(role=Role.ADMIN, totp_secret=secret)
    password_step(client, user)
    pending_cookie = client.get_cookie("session").value
    response = client.post("/login/code", data={"code": code_for(secret)})
    assert response.status_code == 303
    assert client.get_cookie("session").value != pending_cookie
    assert client.get("/admin/").status_code == 200
    assert len(events("login")) == 1


def test_wrong_code_is_refused_and_audited(client, make):
    user = make.user(totp_secret=pyotp.random_base32())
    password_step(client, user)
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 401
    assert "Koden stämmer inte" in response.get_data(as_text=True)
    assert events("totp_failed")[0].object_id == user.id


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567", "12 34 56 78"])
def test_malformed_codes_are_422(client, make, code):
    user = make.user(totp_secret=pyotp.random_base32())
    password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 422


def test_a_used_code_cannot_be_used_again_within_its_window(client, make, app):
    secret = pyotp.random_base32()
    user = make.user(role=Role.ADMIN, totp_secret=secret)
    code = code_for(secret)
    password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 303
    client.post("/logout")
    password_step(client, user)
    assert client.post("/login/code", data={"code": code}).status_code == 401
    # an older code (the previous step) is refused too once a newer one was used
    assert client.post("/login/code", data={"code": code_for(secret, -1)}).status_code == 401
    assert client.post("/login/code", data={"code": code_for(secret, 1)}).status_code == 303


def test_code_step_is_throttled_per_account(client, make):
    secret = pyotp.random_base32()
    user = make.user(totp_secret=secret)
    password_step(client, user)
    codes = [client.post("/login/code", data={"code": "000000"}).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    response = client.post("/login/code", data={"code": code_for(secret)})
    assert response.status_code == 429
    assert "För många försök" in response.get_data(as_text=True)


def test_code_step_without_a_password_step_goes_back_to_sign_in(client, make):
    response = client.post("/login/code", data={"code": "123456"})
    assert response.status_code == 303 and response.location == "/login"


def test_pending_sign_in_expires(client, make):
    secret = pyotp.random_base32()
    user = make.user(totp_secret=secret)
    password_step(client, user)
    with client.session_transaction() as session:
        session["pending_at"] -= 6 * 60
    response = client.post("/login/code", data={"code": code_for(secret)})
    assert response.status_code == 303 and response.location == "/login"


def test_required_two_factor_sends_admin_to_enrolment_and_nothing_else(client, make):
    org = make.org(require_2fa=True)
    user = make.user(org, Role.ADMIN)
    response = password_step(client, user)
    assert response.location == "/account/two-factor"
    assert client.get("/admin/").status_code == 302  # nothing else opens
    html = client.get("/account/two-factor").get_data(as_text=True)
    assert "kräver tvåstegsverifiering" in html
    with client.session_transaction() as session:
        secret = session["totp_candidate"]
        assert "_user_id" not in session
    response = client.post("/account/two-factor", data={"code": code_for(secret)})
    assert response.status_code == 303
    assert client.get("/admin/").status_code == 200
    db.session.refresh(user)
    assert user.totp_secret == secret


def test_required_two_factor_does_not_apply_to_staff(client, make):
    org = make.org(require_2fa=True)
    response = password_step(client, make.user(org, Role.STAFF))
    assert response.location == "/"


def test_turning_on_required_two_factor_catches_users_already_signed_in(client, make, login):
    org = make.org()
    user = make.user(org, Role.ADMIN)
    login(user)
    org.require_2fa = True
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 303 and response.location == "/account/two-factor"
    assert client.get("/account/two-factor").status_code == 200


# --- sessions -----------------------------------------------------------------------------


def test_absolute_session_lifetime_ends_even_an_active_session(client, make, login, app):
    login(make.user(role=Role.ADMIN))
    with client.session_transaction() as session:
        session["signed_in_at"] -= app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() + 5
    response = client.get("/admin/")
    assert response.status_code == 303 and "/login" in response.location
    assert client.get("/admin/").status_code == 302


def test_active_session_within_the_idle_limit_stays(client, make, login, app):
    login(make.user(role=Role.ADMIN))
    with client.session_transaction() as session:
        session["last_seen"] -= app.config["SESSION_IDLE_MINUTES"] * 60 - 30
    assert client.get("/admin/").status_code == 200


def test_sign_out_rotates_the_token_so_every_copy_of_the_cookie_dies(client, make, login, app):
    user = make.user(role=Role.ADMIN)
    login(user)
    token = db.session.get(User, user.id).session_token
    client.post("/logout")
    db.session.refresh(user)
    assert user.session_token != token
    assert events("logout")[0].object_id == user.id


def test_nul_bytes_are_refused_before_the_database(client, make):
    response = client.post("/login", data={"email": "a\x00@b.test", "password": "x" * 12})
    assert response.status_code == 400


# --- throttling shared between workers ----------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> bool:
    try:
        import redis

        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means "not reachable here"
        return False


def test_login_limits_are_shared_between_app_instances_through_redis(migrated, tmp_path, make):
    """Two workers (two processes) with one Redis: failures in either count for both."""
    if not redis_reachable():
        pytest.skip("Redis is not reachable at " + REDIS_URL)
    from tests.conftest import make_app

    email = f"shared-{uuid.uuid4().hex[:8]}@example.test"
    worker = textwrap.dedent(
        f"""
        from tests.conftest import make_app
        from pathlib import Path
        app = make_app({migrated!r}, Path({str(tmp_path)!r}), RATELIMIT_STORAGE_URI={REDIS_URL!r},
                       LOGIN_LIMIT_PER_ACCOUNT="3 per minute")
        with app.app_context():
            c = app.test_client()
            codes = [c.post("/login", data={{"email": {email!r}, "password": "wrong password 1"}}).status_code
                     for _ in range(2)]
        print(codes)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", worker],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert out.stdout.strip().endswith("[401, 401]"), out.stderr[-2000:]
    app = make_app(
        migrated, tmp_path, RATELIMIT_STORAGE_URI=REDIS_URL, LOGIN_LIMIT_PER_ACCOUNT="3 per minute"
    )
    with app.app_context():
        c = app.test_client()
        data = {"email": email, "password": "wrong password 1"}
        assert c.post("/login", data=data).status_code == 401
        assert c.post("/login", data=data).status_code == 429


# --- headers on every GET route -----------------------------------------------------------

_GET_RULES = [r for r in rules_of(url_map_app()) if "GET" in r.methods]


def actor_for(app, rule, world):
    access = access_of(app, rule.endpoint)
    if access == PUBLIC:
        return None
    for name in ("admin_a", "staff_a1", "coordinator_x"):
        if world.users[name].role in access:
            return world.users[name]
    return None


@pytest.mark.parametrize("path,endpoint", [(r.rule, r.endpoint) for r in _GET_RULES])
def test_security_headers_on_every_get_route(app, client, make, path, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.rule == path and r.endpoint == endpoint)
    assert not unfillable(rule)
    if reason := waits_for_merge(app, rule):
        pytest.skip(reason)
    world = build_world(make)
    user = actor_for(app, rule, world)
    sign_in_as(client, user)
    for base in ("http://localhost", "https://localhost"):
        response = client.get(url_for_rule(rule, world), base_url=base)
        h = response.headers
        csp = h["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
        assert h["X-Frame-Options"] == "DENY"
        assert ("Strict-Transport-Security" in h) == base.startswith("https")
        if user is not None:
            assert h["Cache-Control"] == "no-store", path


# --- backup and restore -------------------------------------------------------------------


def test_backup_and_restore_bring_every_record_back(app, make, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "bro-backup.db"
    if db.engine.dialect.name != "sqlite":
        result = runner.invoke(args=["backup", str(target)])
        assert result.exit_code != 0 and "pg_dump" in result.output
        target.write_bytes(b"x")
        result = runner.invoke(args=["restore", str(target), "--yes"])
        assert result.exit_code != 0 and "pg_restore" in result.output
        return
    world = build_world(make)
    audit.record("login", "user", world.users["admin_a"].id, user=None)
    db.session.commit()
    site_id, org_id, consent_id = world.site_a1.id, world.org_a.id, world.consent_a1.id
    counts_before = table_counts()
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Damage: delete visits, rename a site, add a user.
    db.session.execute(text("DELETE FROM visit_language"))
    db.session.execute(text("DELETE FROM visit"))
    db.session.get(Site, site_id).name = "Changed"
    make.user(db.session.get(Organisation, org_id), name="After the backup")
    db.session.commit()
    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert table_counts() == counts_before
    assert db.session.get(Site, site_id).name == "Förskolan A1"
    assert db.session.scalar(select(func.count(Visit.id))) == 2
    assert db.session.get(Consent, consent_id).reference_code
    # the world's two and the one closed as started, with its follow-up
    assert db.session.scalar(select(func.count(Referral.id))) == 3
    assert db.session.scalar(select(func.count(Organisation.id))) == 2


def test_restore_refuses_a_file_that_is_not_a_backup(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    result = app.test_cli_runner().invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0


def table_counts() -> dict[str, int]:
    db.session.remove()
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def test_the_seeded_demo_has_an_audit_trail(app):
    from app.admin.commands import create_demo

    create_demo()
    assert db.session.scalar(select(func.count(AuditEvent.id))) >= 4
