"""The audit log: append-only events of who did what to which record. Never contact details.

Append-only is enforced three times: the ORM refuses to update or delete an `AuditEvent`
instance, the database itself refuses UPDATE on `audit_event` (a trigger created together
with the table, on SQLite and PostgreSQL alike), and the only DELETE is the retention purge
below, which removes whole events older than the organisation's `audit_retention_days`.

Every action code is listed in `ACTION_LABELS` with its label for the audit screen (the filter
and the table show the label, the CSV export the raw code); a test scans app/ for codes
passed to `record` that are missing there.
"""

from datetime import timedelta

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import DDL, Table, delete, event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, Organisation, utcnow

# Grouped by area, in the order the filter offers them.
ACTION_LABELS = {
    # sign-in and two-factor
    "login": _l("Loggade in"),
    "login_failed": _l("Misslyckad inloggning"),
    "login_throttled": _l("Inloggning stoppad: för många försök"),
    "logout": _l("Loggade ut"),
    "totp_enrolled": _l("Slog på tvåstegsverifiering"),
    "totp_failed": _l("Fel kod vid tvåstegsverifiering"),
    "totp_reset": _l("Nollställde tvåstegsverifiering"),
    "kiosk_start": _l("Startade kioskläge"),
    "kiosk_exit": _l("Avslutade kioskläge"),
    # privacy: consents, contact details, referrals
    "consent_given": _l("Samtycke lämnat"),
    "consent_refused": _l("Samtycke nekat, intresse räknat anonymt"),
    "contact_read": _l("Visade kontaktuppgifter"),
    "register_extract": _l("Visade registerutdrag"),
    "register_extract_refused": _l("Registerutdrag utan träff"),
    "consent_withdrawn": _l("Samtycke återkallat"),
    "referral_created": _l("Hänvisning skapad"),
    "referral_updated": _l("Hänvisning ändrad"),
    "retention_purge": _l("Gallring av kontaktuppgifter"),
    "keys_rotated": _l("Nycklar bytta"),
    # visits
    "visit.update": _l("Besök ändrat"),
    "visit.delete": _l("Besök borttaget"),
    # administration
    "user_created": _l("Användare skapad"),
    "user_updated": _l("Användare ändrad"),
    "user_disabled": _l("Användare avstängd"),
    "user_enabled": _l("Användare aktiverad"),
    "site_created": _l("Förskola skapad"),
    "site_updated": _l("Förskola ändrad"),
    "settings_updated": _l("Inställningar ändrade"),
    "service_create": _l("Tjänst skapad"),
    "service_update": _l("Tjänst ändrad"),
    "service_translation_update": _l("Tjänstens text ändrad"),
    "service_audio_upload": _l("Ljudfil sparad"),
    "service_audio_remove": _l("Ljudfil borttagen"),
    "catalogue_export": _l("Tjänstekatalogen exporterad"),
    "catalogue_import": _l("Tjänstekatalogen inläst"),
    "consent_text_created": _l("Samtyckestext skapad"),
    "consent_text_edited": _l("Samtyckestext ändrad"),
    "consent_text_published": _l("Samtyckestext publicerad"),
    # exports and the log itself
    "export": _l("Statistik exporterad"),
    "audit_exported": _l("Loggen exporterad"),
    "audit_purge": _l("Gallring av loggen"),
}
KNOWN_ACTIONS = list(ACTION_LABELS)


def action_label(action: str):
    """The translated label of an action code; an unknown (retired) code is shown as it is."""
    return ACTION_LABELS.get(action, action)


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or remove a recorded audit event."""


def record(
    action: str,
    object_type: str | None = None,
    object_id: int | None = None,
    *,
    user=None,
    organisation_id: int | None = None,
    **detail,
) -> AuditEvent:
    """Add an audit event to the current transaction (committed with the change it records)."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    event_ = AuditEvent(
        action=action,
        object_type=object_type,
        object_id=object_id,
        user_id=user.id if user is not None else None,
        organisation_id=organisation_id or (user.organisation_id if user is not None else None),
        ip=request.remote_addr if has_request_context() else None,
        detail=detail or None,
    )
    db.session.add(event_)
    return event_


def purge_old_events(now=None) -> int:
    """Delete events older than each organisation's audit retention; returns how many.

    Events without an organisation (failed sign-ins with an unknown e-mail) follow the
    shortest retention of any organisation, so nothing is kept longer than some rule allows.
    """
    now = now or utcnow()
    removed = 0
    retentions = db.session.execute(select(Organisation.id, Organisation.audit_retention_days))
    shortest = None
    for org_id, days in retentions:
        shortest = days if shortest is None else min(shortest, days)
        cutoff = now - timedelta(days=days)
        removed += db.session.execute(
            delete(AuditEvent).where(AuditEvent.organisation_id == org_id, AuditEvent.at < cutoff)
        ).rowcount
    if shortest is not None:
        cutoff = now - timedelta(days=shortest)
        removed += db.session.execute(
            delete(AuditEvent).where(AuditEvent.organisation_id.is_(None), AuditEvent.at < cutoff)
        ).rowcount
    if removed:
        record("audit_purge", user=None, removed=removed)
    db.session.commit()
    return removed


@event.listens_for(Session, "before_flush")
def _refuse_changes(session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditLogIsAppendOnly("audit events cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly("audit events cannot be deleted one by one")


_SQLITE_TRIGGER = DDL(
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)
_PG_FUNCTION = DDL(
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = DDL(
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
)


@event.listens_for(Table, "after_create")
def _protect_audit_table(table, connection, **_kw) -> None:
    """Whenever the audit_event table is created (the Alembic migration or create_all), the
    database gets a trigger refusing UPDATE. Listening on every Table, not the model's, is what
    makes it fire for the table the migration builds, so regenerating the migration keeps it."""
    if table.name != "audit_event":
        return
    if connection.dialect.name == "sqlite":
        connection.execute(_SQLITE_TRIGGER)
    elif connection.dialect.name == "postgresql":
        connection.execute(_PG_FUNCTION)
        connection.execute(_PG_TRIGGER)
