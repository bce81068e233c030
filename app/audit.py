"""The audit log: append-only events of who did what to which record. Never contact details.

Append-only is enforced three times: the ORM refuses to update or delete an `AuditEvent`
instance; the database itself refuses UPDATE, TRUNCATE (PostgreSQL) and any DELETE of an event
still within its organisation's `audit_retention_days` (triggers created together with the
table and by migration 0006, on SQLite and PostgreSQL alike); and the only DELETE is the
retention purge below. In production the app's database role owns nothing, so it cannot
drop or disable those triggers (README, "Production deployment").

Tamper-evident: every event carries a SHA-256 hash over its content and the hash of the event
before it in its organisation's chain (events without an organisation have a chain of their
own: the purge gives them a retention of their own). One chain per organisation, because
retention is per organisation: the purge then only ever removes the beginning of a chain, and
writers of different organisations never wait for each other. The hashes are computed here
alone, when the transaction commits; `flask audit-verify` walks the chains.

Every action code is listed in `ACTION_LABELS` with its label for the audit screen (the filter
and the table show the label, the CSV export the raw code); a test scans app/ for codes
passed to `record` that are missing there.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from flask import Flask, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import DDL, Connection, Table, delete, event, func, inspect, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditChain, AuditEvent, Organisation, utcnow

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
    # single sign-on through the organisation's identity provider (app/auth/sso.py)
    "sso_login": _l("Loggade in via organisationens konto"),
    "sso_refused": _l("Inloggning via organisationens konto nekad"),
    "sso_linked": _l("Konto kopplat till organisationens inloggning"),
    "sso_user_created": _l("Konto skapat vid inloggning via organisationen"),
    "sso_groups_applied": _l("Roll och förskolor satta från grupper"),
    "sso_logout": _l("Loggade ut även hos organisationens inloggning"),
    "sso_settings_updated": _l("Inställningar för organisationens inloggning ändrade"),
    # privacy: consents, contact details, referrals
    "consent_given": _l("Samtycke lämnat"),
    "consent_refused": _l("Samtycke nekat, intresse räknat anonymt"),
    "contact_read": _l("Visade kontaktuppgifter"),
    "register_extract": _l("Visade registerutdrag"),
    "register_extract_refused": _l("Registerutdrag utan träff"),
    "consent_withdrawn": _l("Samtycke återkallat"),
    "referral_created": _l("Hänvisning skapad"),
    "referral_updated": _l("Hänvisning ändrad"),
    "follow_up_recorded": _l("Uppföljning gjord"),
    # the receiving services and the messages to visitors (issue 21)
    "partner_contact_read": _l("Mottagaren visade kontaktuppgifter"),
    "partner_step": _l("Mottagaren registrerade ett steg"),
    "message_queued": _l("Meddelande till besökaren lagt i kö"),
    "message_sent": _l("Meddelande till besökaren skickat"),
    "message_failed": _l("Meddelande till besökaren kunde inte skickas"),
    "status_lookup": _l("Besökaren tittade på sin hänvisning"),
    "retention_purge": _l("Gallring av kontaktuppgifter"),
    "keys_rotated": _l("Nycklar bytta"),
    # visits
    "visit.update": _l("Besök ändrat"),
    "visit.delete": _l("Besök borttaget"),
    # the programme
    "activity.create": _l("Aktivitet skapad"),
    "activity.update": _l("Aktivitet ändrad"),
    "activity.schedule": _l("Schema för aktivitet sparat"),
    "activity.unschedule": _l("Schema för aktivitet borttaget"),
    "activity_kind.create": _l("Typ av aktivitet tillagd"),
    "session.cancel": _l("Tillfälle inställt"),
    "session.restore": _l("Inställt tillfälle blir av igen"),
    "session.move": _l("Tillfälle flyttat"),
    "session.attendance": _l("Närvaro registrerad"),
    "outreach.create": _l("Uppsökande kontakt registrerad"),
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
    "consent_text_audio_upload": _l("Uppläsning av samtyckestext sparad"),
    "consent_text_audio_remove": _l("Uppläsning av samtyckestext borttagen"),
    "catalogue_export": _l("Tjänstekatalogen exporterad"),
    "catalogue_import": _l("Tjänstekatalogen inläst"),
    "consent_text_created": _l("Samtyckestext skapad"),
    "consent_text_edited": _l("Samtyckestext ändrad"),
    "consent_text_published": _l("Samtyckestext publicerad"),
    "project_created": _l("Projekt skapat"),
    "project_updated": _l("Projekt ändrat"),
    "project_deleted": _l("Projekt borttaget"),
    "partner_created": _l("Mottagare skapad"),
    "partner_changed": _l("Mottagare ändrad"),
    # exports and the log itself
    "export": _l("Statistik exporterad"),
    "audit_exported": _l("Loggen exporterad"),
    "audit_purge": _l("Gallring av loggen"),
}
KNOWN_ACTIONS = list(ACTION_LABELS)


# What an event is about, named for the audit screen (the CSV keeps the code). A test scans
# app/ for object types passed to `record` that are missing here.
OBJECT_LABELS = {
    "user": _l("Användare"),
    "site": _l("Förskola"),
    "organisation": _l("Organisation"),
    "consent": _l("Samtycke"),
    "consent_text": _l("Samtyckestext"),
    "referral": _l("Hänvisning"),
    "follow_up": _l("Uppföljning"),
    "service": _l("Tjänst"),
    "visit": _l("Besök"),
    "stats": _l("Statistik"),
    "activity": _l("Aktivitet"),
    "activity_kind": _l("Typ av aktivitet"),
    "activity_session": _l("Tillfälle"),
    "information_contact": _l("Uppsökande kontakt"),
    "project": _l("Projekt"),
    "partner": _l("Mottagare"),
    "outbox_message": _l("Meddelande"),
}


def object_label(object_type: str | None):
    """The translated name of what an event is about; an unknown code is shown as it is."""
    return OBJECT_LABELS.get(object_type, object_type) if object_type else ""


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


def purge_old_events(now: datetime | None = None) -> int:
    """Delete events older than each organisation's audit retention; returns how many.

    Events without an organisation (failed sign-ins with an unknown e-mail) follow the
    shortest retention of any organisation, so nothing is kept longer than some rule allows.
    Each chain loses only its beginning: the events before its first one still within
    retention (an old event after a young one, which only a clock step back can make, waits
    for a later purge). The chain's anchor becomes the hash its first remaining event follows.
    """
    now = now or _database_now()
    retentions = dict(
        db.session.execute(select(Organisation.id, Organisation.audit_retention_days)).all()
    )
    if not retentions:
        db.session.commit()
        return 0
    cutoffs = {org_id: now - timedelta(days=days) for org_id, days in retentions.items()}
    cutoffs[NO_ORGANISATION] = now - timedelta(days=min(retentions.values()))
    connection = db.session.connection()
    # Every chain is locked first, in the order appends lock them, so nothing is appended to
    # a chain while its beginning is removed and its anchor moved.
    table = AuditChain.__table__
    connection.execute(select(table.c.chain).order_by(table.c.chain).with_for_update()).all()
    removed = sum(_purge_chain(connection, chain, cutoffs[chain]) for chain in sorted(cutoffs))
    if removed:
        record("audit_purge", user=None, removed=removed)
    db.session.commit()
    return removed


def _purge_chain(connection: Connection, chain: int, cutoff: datetime) -> int:
    events = AuditEvent.__table__
    mine = (
        events.c.organisation_id.is_(None)
        if chain == NO_ORGANISATION
        else events.c.organisation_id == chain
    )
    first_kept = connection.scalar(select(func.min(events.c.id)).where(mine, events.c.at >= cutoff))
    doomed = [mine, events.c.at < cutoff]
    if first_kept is not None:
        doomed.append(events.c.id < first_kept)
    removed = connection.execute(delete(events).where(*doomed)).rowcount
    if removed:
        first = connection.execute(
            select(events.c.prev_hash).where(mine).order_by(events.c.id).limit(1)
        ).first()
        chains = AuditChain.__table__
        # With nothing left, the next event will follow the head: that is the new anchor. An
        # event without a hash (written around the app) is left for audit-verify to name.
        anchor = (first.prev_hash or GENESIS) if first is not None else chains.c.head_hash
        connection.execute(update(chains).where(chains.c.chain == chain).values(anchor_hash=anchor))
    return removed


def _database_now() -> datetime:
    """The purge's "now". On PostgreSQL the database's own: the DELETE trigger measures
    retention from now() (the transaction's start, the same instant), so a clock difference
    between the app and the database server cannot make it refuse what the purge picked.
    SQLite runs in this process and reads the same clock after us; whole seconds keep our
    cutoff from passing its millisecond one."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.scalar(text("SELECT now() AT TIME ZONE 'UTC'"))
    return utcnow().replace(microsecond=0)


def _refuse_changes(session, _context, _instances) -> None:
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj):
            raise AuditLogIsAppendOnly("audit events cannot be changed")
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditLogIsAppendOnly("audit events cannot be deleted one by one")


# --- the database's own refusals -----------------------------------------------------------
# Retention in the DELETE trigger is the purge's rule: the organisation's days, the shortest of
# any organisation for an event without one; an unknown retention refuses (COALESCE … 0).
# SQLite compares julian days, not text: it needs no '%' (which DDL would take as a
# placeholder) and reads the fractional seconds stored in `at`.
_SQLITE_DDL = (
    DDL(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    ),
    DDL(
        "CREATE TRIGGER audit_event_retention BEFORE DELETE ON audit_event "
        "WHEN COALESCE(julianday(OLD.at) < julianday('now') - (CASE "
        "WHEN OLD.organisation_id IS NULL "
        "THEN (SELECT min(audit_retention_days) FROM organisation) "
        "ELSE (SELECT audit_retention_days FROM organisation WHERE id = OLD.organisation_id) "
        "END), 0) = 0 "
        "BEGIN SELECT RAISE(ABORT, 'audit_event rows are kept for their retention period'); END"
    ),
)
_SQLITE_DROP = (
    DDL("DROP TRIGGER IF EXISTS audit_event_append_only"),
    DDL("DROP TRIGGER IF EXISTS audit_event_retention"),
)
# PostgreSQL: the functions pin search_path (pg_temp last) and name the organisation table
# through the trigger's own schema, so a temporary table called "organisation", which any role
# may create and which would otherwise be found first, cannot lend a shorter retention.
_PG_DDL = (
    DDL(
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
        "LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_event is append-only'; END; $$"
    ),
    DDL(
        "CREATE OR REPLACE FUNCTION audit_event_retention() RETURNS trigger "
        "LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ "
        "DECLARE keep_days integer; "
        "BEGIN "
        "IF OLD.organisation_id IS NULL THEN "
        "EXECUTE 'SELECT min(audit_retention_days) FROM ' "
        "|| quote_ident(TG_TABLE_SCHEMA) || '.organisation' INTO keep_days; "
        "ELSE "
        "EXECUTE 'SELECT audit_retention_days FROM ' "
        "|| quote_ident(TG_TABLE_SCHEMA) || '.organisation WHERE id = $1' "
        "INTO keep_days USING OLD.organisation_id; "
        "END IF; "
        "IF NOT coalesce(OLD.at < (now() AT TIME ZONE 'UTC') - make_interval(days => keep_days), "
        "false) THEN "
        "RAISE EXCEPTION 'audit_event rows are kept for their retention period'; "
        "END IF; "
        "RETURN OLD; "
        "END; $$"
    ),
    DDL(
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    ),
    DDL(
        "CREATE TRIGGER audit_event_retention BEFORE DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_retention()"
    ),
    DDL(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    ),
)
_PG_DROP = (
    DDL("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event"),
    DDL("DROP TRIGGER IF EXISTS audit_event_retention ON audit_event"),
    DDL("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event"),
)


def protect_audit_table(connection: Connection) -> None:
    """Create (or re-create) the triggers that keep audit_event append-only."""
    unprotect_audit_table(connection)
    for statement in {"sqlite": _SQLITE_DDL, "postgresql": _PG_DDL}.get(
        connection.dialect.name, ()
    ):
        connection.execute(statement)


def unprotect_audit_table(connection: Connection) -> None:
    """Drop those triggers: only for a migration that must rewrite rows, and the tests' reset.
    The app's own database role cannot do this in production: it does not own the table."""
    for statement in {"sqlite": _SQLITE_DROP, "postgresql": _PG_DROP}.get(
        connection.dialect.name, ()
    ):
        connection.execute(statement)


def _protect_audit_table(table, connection, **_kw) -> None:
    """Whenever the audit_event table is created (the Alembic migration or create_all), the
    database gets its triggers. Listening on every Table, not the model's, is what makes it
    fire for the table the migration builds, so regenerating the migration keeps it."""
    if table.name == "audit_event":
        protect_audit_table(connection)


# --- the hash chain ------------------------------------------------------------------------
GENESIS = "0" * 64  # what a chain's first event follows until a purge moves the anchor
NO_ORGANISATION = 0  # the chain of events without an organisation (organisation ids start at 1)
HASH_VERSION = 1  # part of what is hashed, so a later change of the canonical form can be told
_HASHED = ("at", "organisation_id", "user_id", "action", "object_type", "object_id", "ip", "detail")
_HELD = "audit_events_to_append"  # Session.info: new events waiting for the commit
_APPENDING = "audit_appending"  # Session.info: the commit is flushing the held events itself


def chain_of(organisation_id: int | None) -> int:
    """The chain an event of this organisation belongs to."""
    return organisation_id or NO_ORGANISATION


def event_hash(values: Mapping[str, Any], prev_hash: str | None) -> str:
    """SHA-256 (hex) of an event's content and the hash of the event before it.

    The content is canonical JSON (sorted keys, no spaces, UTF-8) of the columns in `_HASHED`,
    `at` in ISO 8601 with microseconds (naive UTC, as stored). The id is left out: the chain
    itself fixes each event's place, and the id is only known after the INSERT.
    """
    content = {name: values[name] for name in _HASHED}
    at = content["at"]
    content["at"] = at.isoformat(timespec="microseconds") if at is not None else None
    content["prev"] = prev_hash
    content["v"] = HASH_VERSION
    canonical = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def install_listeners() -> None:
    """Register the audit log's hooks, once per process (create_app's listener step): the
    trigger DDL with the table, the ORM's refusal to change events, and the chain's hooks.

        That step runs after app.stats.cache has registered its before-commit hook, so the chain's
        lock is the last one a transaction takes, when it waits for nothing else: no deadlock can
        form around it (a transaction that first locked a chain and then wanted an organisation row
        could meet one holding that row and waiting for the chain).
    """
    for target, name, listener in (
        (Table, "after_create", _protect_audit_table),
        (Session, "before_flush", _refuse_changes),
        (Session, "before_flush", _hold_back_new_events),
        (Session, "before_commit", _append_held_events),
        (Session, "after_transaction_end", _forget_held_events),
    ):
        if not event.contains(target, name, listener):
            event.listen(target, name, listener)


def _hold_back_new_events(session: Session, _context, _instances) -> None:
    """Keep new events out of every flush until the commit appends them: a row inserted any
    earlier could only get its hash by an UPDATE, which the database refuses, and its id would
    not follow the order in which concurrent transactions reach the chain."""
    if session.info.get(_APPENDING):
        return
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    new.sort(key=lambda obj: inspect(obj).insert_order)
    for obj in new:
        session.expunge(obj)
    session.info.setdefault(_HELD, []).extend(new)


def _append_held_events(session: Session) -> None:
    """Hash the transaction's events and insert them at the end of their chains, just before
    COMMIT: the chain rows are locked for the commit itself only (as the statistics' version
    is, app.stats.cache), and concurrent writers append one after the other, never forking."""
    session.flush()  # anything still pending reaches _hold_back_new_events first
    held = session.info.pop(_HELD, None)
    if not held:
        return
    for obj in held:
        _normalise(obj)
    connection = session.connection()
    heads = _lock_chains(connection, {chain_of(obj.organisation_id) for obj in held})
    session.info[_APPENDING] = True
    try:
        for obj in held:
            chain = chain_of(obj.organisation_id)
            obj.prev_hash = heads[chain]
            obj.hash = heads[chain] = event_hash(_values(obj), obj.prev_hash)
            session.add(obj)
        session.flush()
    finally:
        session.info.pop(_APPENDING, None)
    newest = {chain_of(obj.organisation_id): obj.id for obj in held}
    chains = AuditChain.__table__
    for chain, head_id in newest.items():
        connection.execute(
            update(chains)
            .where(chains.c.chain == chain)
            .values(head_id=head_id, head_hash=heads[chain])
        )


def _forget_held_events(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a rollback, a close)
        session.info.pop(_HELD, None)


def _normalise(obj: AuditEvent) -> None:
    """Give the event the values the database will hand back, so the hash made now is the one
    the verifier makes from the stored row: `at` set now (naive UTC), ids as integers, the
    detail as its JSON round trip (tuples become lists, keys strings)."""
    user = obj.__dict__.get("user")  # a relationship set instead of user_id; never loaded here
    if user is not None and obj.user_id is None:
        obj.user_id = user.id
    at = obj.at or utcnow()
    obj.at = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo is not None else at
    for name in ("organisation_id", "user_id", "object_id"):
        value = getattr(obj, name)
        if value is not None:
            setattr(obj, name, int(value))
    if obj.detail is not None:
        obj.detail = json.loads(json.dumps(obj.detail))


def _values(obj: AuditEvent) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in _HASHED}


def _lock_chains(connection: Connection, chains: set[int]) -> dict[int, str]:
    """Lock the chains' rows in ascending order, the same in every transaction, and return
    their head hashes. A chain's first event creates its row; a concurrent first event of the
    same chain meets the unique key and waits for this one (DO NOTHING, then the lock)."""
    table = AuditChain.__table__
    wanted = sorted(chains)
    query = (
        select(table.c.chain, table.c.head_hash)
        .where(table.c.chain.in_(wanted))
        .order_by(table.c.chain)
        .with_for_update()
    )
    heads = dict(connection.execute(query).all())
    missing = [chain for chain in wanted if chain not in heads]
    if missing:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        connection.execute(
            insert(table)
            .values([{"chain": c, "anchor_hash": GENESIS, "head_hash": GENESIS} for c in missing])
            .on_conflict_do_nothing()
        )
        heads = dict(connection.execute(query).all())
    return heads


# --- verifying -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainCheck:
    """What a walk of the chains found: events checked, the first broken link, the heads."""

    events: int
    broken_at: int | None = None  # the event id (or the chain head's) where the chain breaks
    problem: str | None = None
    heads: tuple[tuple[int, int | None, str], ...] = ()  # (chain, newest event id, its hash)

    @property
    def whole(self) -> bool:
        return self.problem is None


def verify_chain(connection: Connection, batch_size: int = 1000) -> ChainCheck:
    """Walk every event in id order, in keyset batches (memory stays bounded by the batch and
    one hash per chain), and stop at the first broken link. Run it in one snapshot (REPEATABLE
    READ on PostgreSQL) so events committed meanwhile do not look like a broken tail."""
    chains = {row.chain: row for row in connection.execute(select(AuditChain.__table__))}
    events = AuditEvent.__table__
    columns = [events.c.id, events.c.prev_hash, events.c.hash] + [
        events.c[name] for name in _HASHED
    ]
    last: dict[int, tuple[int, str]] = {}  # chain → (id, hash) of the last event seen
    count, after = 0, 0
    while True:
        rows = connection.execute(
            select(*columns).where(events.c.id > after).order_by(events.c.id).limit(batch_size)
        ).all()
        if not rows:
            break
        for row in rows:
            count += 1
            problem = _link_problem(row, chains, last)
            if problem:
                return ChainCheck(count, row.id, problem)
            last[chain_of(row.organisation_id)] = (row.id, row.hash)
        after = rows[-1].id
    for chain, head in sorted(chains.items()):
        tail_id, tail_hash = last.get(chain, (None, head.anchor_hash))
        if tail_hash != head.head_hash:
            where = f"event {tail_id}" if tail_id else "its anchor"
            return ChainCheck(
                count,
                head.head_id,
                f"chain {chain} ends at {where}, but its newest event was {head.head_id}: "
                "events at its end are missing",
            )
    heads = tuple((chain, head.head_id, head.head_hash) for chain, head in sorted(chains.items()))
    return ChainCheck(count, heads=heads)


def _link_problem(row, chains: Mapping[int, Any], last: Mapping[int, tuple[int, str]]) -> str:
    chain = chain_of(row.organisation_id)
    if row.hash is None:
        return "it has no hash (it was written around the app)"
    if event_hash(row._mapping, row.prev_hash) != row.hash:
        return "its content does not match its hash: it was changed after it was written"
    if chain not in chains:
        return f"its chain ({chain}) has no head row"
    if chain in last:
        prev_id, prev_hash = last[chain]
        if row.prev_hash != prev_hash:
            return (
                f"it does not follow event {prev_id}, the one before it in chain {chain}: "
                "an event between them is missing or was moved"
            )
    elif row.prev_hash != chains[chain].anchor_hash:
        return (
            f"it does not follow the anchor of chain {chain}: "
            "events before it were removed other than by the retention purge"
        )
    return ""


def register_commands(app: Flask) -> None:
    """`flask audit-verify`."""

    @app.cli.command("audit-verify")
    @click.option("--batch-size", default=1000, show_default=True, type=click.IntRange(min=1))
    def audit_verify(batch_size: int) -> None:
        """Check the audit log's hash chains; exit status 1 at the first broken link.

        A whole log prints each chain's newest event and hash: kept outside the database (a
        ticket, the operations log), they also reveal a rewrite of a whole chain later.
        """
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                result = verify_chain(connection, batch_size)
        if not result.whole:
            raise click.ClickException(
                f"Audit chain broken at event {result.broken_at}: {result.problem} "
                f"({result.events} events read)"
            )
        click.echo(f"Audit chain whole: {result.events} events checked.")
        for chain, head_id, head_hash in result.heads:
            click.echo(f"  chain {chain}: newest event {head_id}, hash {head_hash}")
