"""The audit log: append-only events of who did what to which record. Never contact details.

Append-only is enforced three times: the ORM refuses to update or delete an `AuditEvent`
instance, the database itself refuses UPDATE on `audit_event` (a trigger created together
with the table, on SQLite and PostgreSQL alike), and the only DELETE is the retention purge
below, which removes whole events older than the organisation's `audit_retention_days`.

Actions written by each area (the audit screen filters on these codes):
- auth / two-factor: login, login_failed, logout, totp_enrolled, totp_failed, totp_reset
- privacy: consent_given, contact_read (every read of contact details), consent_withdrawn,
  retention_purge, audit_purge
- admin users: user_created, user_updated, user_disabled, user_enabled
- admin sites: site_created, site_updated
- admin settings: settings_updated
- audit screen: audit_exported (every export)
- other areas add theirs (referral changes, service and consent-text edits, exports) and
  list them in `KNOWN_ACTIONS` so the filter offers them.
"""

from datetime import timedelta

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import DDL, Table, delete, event, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditEvent, Organisation, utcnow

KNOWN_ACTIONS = [
    "login",
    "login_failed",
    "logout",
    "totp_enrolled",
    "totp_failed",
    "totp_reset",
    "consent_given",
    "contact_read",
    "consent_withdrawn",
    "referral_created",
    "referral_updated",
    "retention_purge",
    "audit_purge",
    "user_created",
    "user_updated",
    "user_disabled",
    "user_enabled",
    "site_created",
    "site_updated",
    "settings_updated",
    "audit_exported",
]


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
