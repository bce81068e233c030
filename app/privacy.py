"""The privacy line. The only module that reads or writes contact details.

It records consent with the contact details it covers, shows them (writing an audit event for
every read), erases them on withdrawal or when retention ends, and leaves everything else about
a referral in place, anonymous, for the statistics. Views ask this module; they never query
`ContactDetails` themselves.

Contact details are encrypted here before they reach the database and decrypted only on an
audited read: each field is an AES-GCM ciphertext under a key of app.crypto, with the row, the
field and the key id as associated data, so a ciphertext copied to another row or field does
not open. The phone is also stored as a keyed hash of its E.164 form, which is what the
register extract compares. `rotate_keys` moves every row to a new key and destroys the keys no
backup within the retention can need any more (crypto-shredding).

Retention. Contact details are erased at once when consent is withdrawn, at once when a
referral is closed as expired (left open longer than max_open_days), and otherwise when every
referral of the consent is closed and the last close is more than retention_days_after_close
ago. A visitor who also agreed to be contacted again about how it went (a follow-up consent,
`Consent.follow_up_text_id`) keeps them longer: while any follow-up of her referrals is still
open, or was recorded less than retention_days_after_close ago, and never longer than
follow_up_max_days after the last close, whatever the follow-ups' dates (the organisation's
maximum). Withdrawal ends that too: open follow-ups are cancelled in the same transaction, and
those already recorded stay, anonymous, as the referrals do.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from flask import current_app
from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from . import audit, crypto
from .choices import FollowUpStatus, MessageChannel, MessageStatus, Outcome, ReferralStatus
from .extensions import db
from .models import (
    Consent,
    ConsentText,
    ContactDetails,
    FollowUp,
    Organisation,
    OutboxMessage,
    Referral,
    ReferralEvent,
    Service,
    Site,
    User,
    utcnow,
)
from .workdays import add_working_days, local_today

# No 0/O or 1/I/L: a code read aloud over the phone or copied from paper must not be misread.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class ContactInput:
    first_name: str
    phone_e164: str | None = None
    email: str | None = None
    best_time: str | None = None


@dataclass(frozen=True)
class TargetFacts:
    """The target-group facts asked at the contact step, coded and optional (None: not
    answered). Not contact details: they stay on each referral, anonymous, after erasure."""

    gender: str | None = None  # choices.Gender
    has_child_0_6: bool | None = None
    parental_leave: bool | None = None
    sfi_interrupted_before: bool | None = None

    @classmethod
    def of(cls, referral: Referral) -> "TargetFacts":
        """The facts a referral holds: every referral of one consent holds the same."""
        return cls(
            referral.gender,
            referral.has_child_0_6,
            referral.parental_leave,
            referral.sfi_interrupted_before,
        )


@dataclass(frozen=True)
class ContactView:
    first_name: str
    phone_e164: str | None
    email: str | None
    best_time: str | None


# ContactInput's fields and the columns holding their ciphertexts.
SEALED_COLUMNS = {
    "first_name": "first_name_enc",
    "phone_e164": "phone_enc",
    "email": "email_enc",
    "best_time": "best_time_enc",
}
PHONE_PURPOSE = "contact_details.phone_e164"


def _associated_data(consent_id: int, field: str, key_id: str) -> bytes:
    """What a ciphertext is bound to: its table, row, field and key."""
    return f"contact_details/{consent_id}/{field}/{key_id}".encode()


def sealed_columns(consent_id: int, contact: ContactInput, key: crypto.Key) -> dict:
    """The contact_details column values for `contact`, encrypted under `key`.

    Also used by migration 0005 and the bench's generator, which write rows in bulk.
    """
    values: dict = {"consent_id": consent_id, "key_id": key.id}
    for field, column in SEALED_COLUMNS.items():
        plain = getattr(contact, field)
        values[column] = (
            None
            if plain is None
            else key.encrypt(plain, _associated_data(consent_id, field, key.id))
        )
    values["phone_hmac"] = (
        key.keyed_hash(PHONE_PURPOSE, contact.phone_e164) if contact.phone_e164 else None
    )
    return values


def opened_columns(consent_id: int, key: crypto.Key, values: dict) -> ContactInput:
    """The inverse of `sealed_columns`: column values (ciphertexts) back to the contact."""
    return ContactInput(
        **{
            field: None
            if values[column] is None
            else key.decrypt(values[column], _associated_data(consent_id, field, key.id))
            for field, column in SEALED_COLUMNS.items()
        }
    )


def _open(row: ContactDetails) -> ContactInput:
    key = crypto.keyring().get(row.key_id)
    return opened_columns(
        row.consent_id, key, {c: getattr(row, c) for c in SEALED_COLUMNS.values()}
    )


def normalise_phone(raw: str, region: str = "SE") -> str:
    """E.164 form of a phone number, or ValueError if it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError("invalid phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError("invalid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def new_reference_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def record_consent(
    *,
    site: Site,
    services: list[Service],
    consent_text: ConsentText,
    method: str,
    contact: ContactInput,
    language: str,
    interpreter_needed: bool,
    by: User,
    follow_up_text: ConsentText | None = None,
    facts: TargetFacts | None = None,
    message_channel: str | None = None,
) -> Consent:
    """One consent, its contact details and one referral per service, in the caller's transaction.

    `follow_up_text`: the follow-up text the visitor also agreed to, if she did (she may then be
    contacted again later, and her contact details are kept until the last follow-up); `facts`
    are stored on every referral; `message_channel` (choices.MessageChannel) is how she chose
    to hear about her referral, None for no messages."""
    org = site.organisation
    facts = facts or TargetFacts()
    consent = Consent(
        organisation_id=org.id,
        site_id=site.id,
        consent_text_id=consent_text.id,
        locale_shown=consent_text.locale,
        method=method,
        data_processing_agreed=True,
        disclosure_agreed=True,
        reference_code=new_reference_code(),
        recorded_by_id=by.id,
        follow_up_text_id=follow_up_text.id if follow_up_text else None,
        message_channel=message_channel,
    )
    db.session.add(consent)
    db.session.flush()
    db.session.add(ContactDetails(**sealed_columns(consent.id, contact, crypto.keyring().current)))
    referrals = [
        new_referral(
            consent,
            service.id,
            language=language,
            interpreter_needed=interpreter_needed,
            facts=facts,
            by=by,
        )
        for service in services
    ]
    db.session.flush()
    for referral in referrals:
        audit.record(
            "referral_created",
            "referral",
            referral.id,
            user=by,
            consent_id=consent.id,
            service_id=referral.service_id,
        )
    audit.record(
        "consent_given",
        "consent",
        consent.id,
        user=by,
        text_version=consent_text.version,
        locale=consent_text.locale,
        method=method,
        services=[s.id for s in services],
        follow_up=follow_up_text is not None,
        follow_up_version=follow_up_text.version if follow_up_text else None,
    )
    return consent


def new_referral(
    consent: Consent,
    service_id: int,
    *,
    language: str,
    interpreter_needed: bool,
    facts: TargetFacts,
    by: User,
) -> Referral:
    """One new referral on `consent` (which covers the service and its disclosure), added to
    the session: status new, first contact due in the organisation's working days, a "created"
    event. The caller flushes and audits. Made here for a new consent, and by the follow-up
    area when an interrupted start is referred again."""
    org = db.session.get(Organisation, consent.organisation_id)
    today = local_today()
    due = add_working_days(today, org.first_contact_working_days)
    referral = Referral(
        organisation_id=consent.organisation_id,
        site_id=consent.site_id,
        service_id=service_id,
        consent=consent,
        language=language,
        interpreter_needed=interpreter_needed,
        created_by_id=by.id,
        due_date=due,
        follow_up_date=due,
        ack_due_date=add_working_days(today, org.partner_ack_working_days),
        gender=facts.gender,
        has_child_0_6=facts.has_child_0_6,
        parental_leave=facts.parental_leave,
        sfi_interrupted_before=facts.sfi_interrupted_before,
    )
    referral.events.append(ReferralEvent(by_id=by.id, kind="created", to_status=ReferralStatus.NEW))
    db.session.add(referral)
    return referral


def contact_details(
    consent: Consent, *, by: User, action: str = "contact_read"
) -> ContactView | None:
    """The contact details behind a consent, with an audit event for the read."""
    row = db.session.get(ContactDetails, consent.id)
    audit.record(action, "consent", consent.id, user=by, found=row is not None)
    if row is None:
        return None
    contact = _open(row)
    return ContactView(contact.first_name, contact.phone_e164, contact.email, contact.best_time)


def has_contact_details(consent_ids: list[int]) -> set[int]:
    """Which of these consents still hold contact details (a yes/no, never the details)."""
    if not consent_ids:
        return set()
    return set(
        db.session.scalars(
            select(ContactDetails.consent_id).where(ContactDetails.consent_id.in_(consent_ids))
        )
    )


def find_for_extract(org: Organisation, reference_code: str, phone_raw: str) -> Consent | None:
    """The consent matching a receipt's code and the visitor's phone, for a register extract.

    Both must match; a wrong phone number gives the same answer as an unknown code.
    """
    code = reference_code.strip().upper().replace(" ", "")
    if len(code) == 8:
        code = f"{code[:4]}-{code[4:]}"
    consent = db.session.scalar(
        select(Consent).where(Consent.organisation_id == org.id, Consent.reference_code == code)
    )
    if consent is None:
        return None
    try:
        phone = normalise_phone(phone_raw)
    except ValueError:
        return None
    row = db.session.get(ContactDetails, consent.id)
    if row is None or row.phone_hmac is None:
        return None
    # The hash under the row's own key: right after a rotation began, a row may still be
    # under the previous key, and it must be found all the same.
    expected = crypto.keyring().get(row.key_id).keyed_hash(PHONE_PURPOSE, phone)
    if not secrets.compare_digest(row.phone_hmac, expected):
        return None
    return consent


def withdraw(consent: Consent, *, by: User) -> None:
    """Consent withdrawn: contact details erased at once, open referrals closed as withdrawn,
    open follow-ups cancelled (those recorded stay, anonymous)."""
    now = utcnow()
    consent.withdrawn_at = now
    consent.withdrawn_by_id = by.id
    for referral in consent.referrals:
        if referral.status != ReferralStatus.CLOSED:
            referral.close(Outcome.WITHDRAWN, by_id=by.id, at=now)
    cancelled = _cancel_open_follow_ups(consent)
    _erase(consent, now)
    audit.record(
        "consent_withdrawn", "consent", consent.id, user=by, follow_ups_cancelled=cancelled
    )
    db.session.commit()
    checkpoint_after_erasure()


def purge_expired(now: datetime | None = None) -> dict[str, int]:
    """Close referrals left open too long, then erase contact details whose time is up.

    Idempotent: a second run finds nothing to do. Safe from cron: one transaction per run, and
    on PostgreSQL the rows it changes are locked with SKIP LOCKED, so two overlapping runs (or a
    coordinator closing a referral at the same moment) never fight over one row.
    """
    now = now or utcnow()
    expired = erased = 0
    for org in db.session.scalars(select(Organisation).order_by(Organisation.id)).all():
        for referral in db.session.scalars(_stale_referrals(org, now)).all():
            referral.close(Outcome.EXPIRED, by_id=None, at=now)
            expired += 1
        db.session.flush()
        for consent in db.session.scalars(_consents_past_retention(org, now)).all():
            _erase(consent, now)
            erased += 1
    if expired or erased:
        audit.record("retention_purge", user=None, expired=expired, erased=erased)
    db.session.commit()
    if erased:
        checkpoint_after_erasure()
    return {"expired": expired, "erased": erased}


def _stale_referrals(org: Organisation, now: datetime):
    """Open referrals of `org` created more than max_open_days ago."""
    open_limit = now - timedelta(days=org.max_open_days)
    return (
        select(Referral)
        .where(
            Referral.organisation_id == org.id,
            Referral.status != ReferralStatus.CLOSED,
            Referral.created_at < open_limit,
        )
        .order_by(Referral.id)
        .with_for_update(skip_locked=True)
    )


def _consents_past_retention(org: Organisation, now: datetime):
    """Consents of `org` not yet erased whose referrals are all closed, the last one more than
    retention_days_after_close ago, or one of them closed as expired (a referral left open too
    long ends its contact details at once, it gets no second waiting period). A referral
    closed without a closed_at counts from its creation, and a consent without referrals from
    when it was given, so no row is kept forever because a date is missing.

    A follow-up consent (not withdrawn) holds them past that: while a follow-up of its
    referrals is open or was recorded less than retention_days_after_close ago, but never
    beyond follow_up_max_days after the last close. One query, the rules as EXISTS clauses."""
    close_limit = now - timedelta(days=org.retention_days_after_close)
    follow_up_limit = now - timedelta(days=org.follow_up_max_days)
    open_referrals = (
        select(Referral.id)
        .where(Referral.consent_id == Consent.id, Referral.status != ReferralStatus.CLOSED)
        .exists()
    )
    last_closed = (
        select(func.max(func.coalesce(Referral.closed_at, Referral.created_at)))
        .where(Referral.consent_id == Consent.id)
        .scalar_subquery()
    )
    last_close = func.coalesce(last_closed, Consent.given_at)
    expired = (
        select(Referral.id)
        .where(Referral.consent_id == Consent.id, Referral.outcome == Outcome.EXPIRED)
        .exists()
    )
    follow_up_pending = (
        select(FollowUp.id)
        .join(Referral, FollowUp.referral_id == Referral.id)
        .where(
            Referral.consent_id == Consent.id,
            or_(FollowUp.status == FollowUpStatus.OPEN, FollowUp.recorded_at >= close_limit),
        )
        .exists()
    )
    kept_for_follow_up = and_(
        Consent.follow_up_text_id.is_not(None),
        Consent.withdrawn_at.is_(None),
        follow_up_pending,
        last_close >= follow_up_limit,
    )
    return (
        select(Consent)
        .where(
            Consent.organisation_id == org.id,
            Consent.erased_at.is_(None),
            ~open_referrals,
            or_(expired, and_(last_close < close_limit, ~kept_for_follow_up)),
        )
        .order_by(Consent.id)
        .with_for_update(skip_locked=True)
    )


def _cancel_open_follow_ups(consent: Consent) -> int:
    """Every open follow-up of the consent's referrals cancelled, in one UPDATE; the version
    moves on, so a coordinator's form opened before the withdrawal cannot record it."""
    result = db.session.execute(
        update(FollowUp)
        .where(
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.referral_id.in_(select(Referral.id).where(Referral.consent_id == consent.id)),
        )
        .values(status=FollowUpStatus.CANCELLED, version=FollowUp.version + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _erase(consent: Consent, at: datetime) -> None:
    """Delete the row, not blank it: with secure_delete the bytes are overwritten on disk.
    The outbox goes with it: unsent messages cancelled, every message's recipient and text
    removed; and so does a time booked at the receiving service."""
    db.session.execute(delete(ContactDetails).where(ContactDetails.consent_id == consent.id))
    _erase_messages(consent)
    # Her booked time and place at the receiving service go too: about her, and needed by no
    # statistic. Through the ORM, as every change to a referral (the statistics' cache
    # version follows its events; tests/test_stats.py refuses a bulk UPDATE of referrals).
    booked = db.session.scalars(
        select(Referral).where(
            Referral.consent_id == consent.id,
            or_(Referral.appointment_at.is_not(None), Referral.appointment_place.is_not(None)),
        )
    )
    for referral in booked:
        referral.appointment_at = referral.appointment_place = None
    consent.erased_at = at


def checkpoint_after_erasure() -> None:
    """On SQLite, old page images stay in the WAL file until a checkpoint; truncate it so an
    erased name is gone from the disk too, not just from the database.

    Run on a raw connection in autocommit mode: inside a transaction (our BEGIN IMMEDIATE) the
    checkpoint could not copy every frame back and truncate the file.

    On PostgreSQL a deleted row stays in the table's file until VACUUM reclaims it, so the
    contact table and the outbox (whose erased messages are updated rows, the old versions
    dead tuples) are vacuumed (outside a transaction, as VACUUM must be). What it leaves (the
    freed space, the WAL) holds ciphertext only, unreadable once its key is destroyed. A role
    that does not own the table gets a warning from the server, not an error; and any failure
    here is logged, never raised: the erasure itself is committed already.
    """
    if db.engine.dialect.name == "postgresql":
        try:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f"VACUUM {ContactDetails.__tablename__}"))
                conn.execute(text(f"VACUUM {OutboxMessage.__tablename__}"))
        except DBAPIError:
            current_app.logger.warning("VACUUM after erasure failed", exc_info=True)
        return
    if db.engine.dialect.name != "sqlite":
        return
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.fetchall()
        cursor.close()
    finally:
        raw.close()


def rotate_keys(now: datetime | None = None, retention_days: int | None = None) -> dict:
    """Start a new key, re-encrypt every row under it, and destroy the keys retired longer ago
    than the backup retention (BACKUP_RETENTION_DAYS).

    Why that limit: a backup holds rows under the key that was current when it was taken. A
    key retired R days ago was last current R days ago, so once R exceeds the retention no
    kept backup can hold data under it, and destroying it costs nothing readable. From then on
    the rows it protected, in old backups, in the WAL or in freed space of a table, are noise
    (crypto-shredding): an old backup becomes unreadable on schedule, not by being found and
    deleted.

    The rows move in one transaction (with their phone hashes, recomputed under the new key),
    and so do the outbox's messages that still hold a recipient and text.
    A key is destroyed only when no row uses it any more, so a row written by a worker that
    had not yet seen the new key is never lost; the next rotation moves it.
    """
    now = now or utcnow()
    if retention_days is None:
        retention_days = int(current_app.config["BACKUP_RETENTION_DAYS"])
    with crypto.exclusive():
        new, retired = crypto.start_new_key(now)
        rows = db.session.scalars(
            select(ContactDetails).order_by(ContactDetails.consent_id).with_for_update()
        ).all()
        for row in rows:
            values = sealed_columns(row.consent_id, _open(row), new)
            for column, value in values.items():
                setattr(row, column, value)
        messages = _reseal_messages(new)
        db.session.flush()
        due = set(crypto.retired_before(now - timedelta(days=retention_days)))
        in_use = set(
            db.session.scalars(
                select(ContactDetails.key_id).where(ContactDetails.key_id.in_(due)).distinct()
            )
        ) | set(
            db.session.scalars(
                select(OutboxMessage.key_id).where(OutboxMessage.key_id.in_(due)).distinct()
            )
        )
        destroyed = sorted(due - in_use)
        audit.record(
            "keys_rotated",
            user=None,
            key=new.id,
            retired=retired.id,
            rows=len(rows),
            messages=messages,
            destroyed=destroyed,
            retention_days=retention_days,
        )
        db.session.commit()
        # After the commit: until then the rows may still need the keys.
        crypto.destroy(set(destroyed))
    return {
        "key": new.id,
        "rows": len(rows),
        "messages": messages,
        "destroyed": destroyed,
        "kept": sorted(in_use),
    }


# --------------------------------------------------------------------------- the outbox
# Messages to a visitor (app/outbox.py composes and sends them): the recipient (her phone or
# e-mail address, read from her contact details) and the text are personal data, so they are
# sealed here like the contact details, read here for sending, and removed here: at once after
# the message is sent or has failed for good, and with the consent's erasure (an unsent
# message is cancelled then). What stays of a message is anonymous: kind, channel, status,
# attempts, a coded error.

OUTBOX_FIELDS = {"recipient": "recipient_enc", "body": "body_enc"}


@dataclass(frozen=True)
class OutgoingMessage:
    """A claimed message opened for sending: plain values, so nothing reads the database
    while the provider is being called."""

    id: int
    organisation_id: int
    consent_id: int
    kind: str
    channel: str
    locale: str
    idempotency_key: str
    attempts: int
    recipient: str
    body: str


def audit_delivery(action: str, message: OutgoingMessage, **detail) -> None:
    """The audit event of one try at sending a message (by the system, not a user): which
    message, its kind and channel and the attempt, with coded details only."""
    audit.record(
        action,
        "outbox_message",
        message.id,
        user=None,
        organisation_id=message.organisation_id,
        kind=message.kind,
        channel=message.channel,
        attempt=message.attempts,
        **detail,
    )


def _outbox_associated_data(message_id: int, field: str, key_id: str) -> bytes:
    return f"outbox_message/{message_id}/{field}/{key_id}".encode()


def _seal_message(message: OutboxMessage, plain: dict[str, str], key: crypto.Key) -> None:
    message.key_id = key.id
    for field, column in OUTBOX_FIELDS.items():
        ad = _outbox_associated_data(message.id, field, key.id)
        setattr(message, column, key.encrypt(plain[field], ad))


def _open_message(message: OutboxMessage) -> dict[str, str]:
    key = crypto.keyring().get(message.key_id)
    return {
        field: key.decrypt(
            getattr(message, column), _outbox_associated_data(message.id, field, key.id)
        )
        for field, column in OUTBOX_FIELDS.items()
    }


def _message_recipient(consent: Consent) -> str | None:
    """Her phone (E.164) or e-mail address, as the channel she chose needs."""
    row = db.session.get(ContactDetails, consent.id)
    if row is None:
        return None
    contact = _open(row)
    if consent.message_channel == MessageChannel.SMS:
        return contact.phone_e164
    if consent.message_channel == MessageChannel.EMAIL:
        return contact.email
    return None


def queue_message(
    consent: Consent,
    *,
    kind: str,
    locale: str,
    idempotency_key: str,
    body: str,
    referral: Referral | None = None,
) -> OutboxMessage | None:
    """A message to the visitor on the channel she chose, sealed, in the caller's transaction
    (no commit: it is queued with the change it tells of, or not at all). The same key twice
    stores one message: the row there already is returned (checked first; the unique index
    backs the check when two requests race). None when there is nothing to send it to: no
    channel, the contact details erased, or no phone or e-mail for the channel."""
    existing = _message_by_key(idempotency_key)
    if existing is not None:
        return existing
    if consent.withdrawn_at is not None or consent.erased_at is not None:
        return None
    recipient = _message_recipient(consent)
    if not recipient:
        current_app.logger.warning(
            "No recipient for a %s message on consent %s (%s): nothing queued",
            kind,
            consent.id,
            consent.message_channel,
        )
        return None
    message = OutboxMessage(
        organisation_id=consent.organisation_id,
        consent_id=consent.id,
        referral_id=referral.id if referral is not None else None,
        kind=kind,
        channel=consent.message_channel,
        locale=locale,
        idempotency_key=idempotency_key,
        status=MessageStatus.QUEUED,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()  # the id, which the ciphertexts are bound to
    except IntegrityError:
        return _message_by_key(idempotency_key)  # another request queued it first
    _seal_message(message, {"recipient": recipient, "body": body}, crypto.keyring().current)
    audit.record(
        "message_queued",
        "referral" if referral is not None else "consent",
        referral.id if referral is not None else consent.id,
        organisation_id=consent.organisation_id,
        kind=kind,
        channel=message.channel,
        message_id=message.id,
    )
    return message


def _message_by_key(idempotency_key: str) -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )


def open_claimed_message(message_id: int) -> OutgoingMessage | None:
    """A message claimed for sending (status sending), opened; None when it is no longer
    there to send (cancelled by a withdrawal between the claim and now)."""
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    if (
        message is None
        or message.status != MessageStatus.SENDING
        or message.recipient_enc is None
        or message.body_enc is None
    ):
        return None
    plain = _open_message(message)
    return OutgoingMessage(
        id=message.id,
        organisation_id=message.organisation_id,
        consent_id=message.consent_id,
        kind=message.kind,
        channel=message.channel,
        locale=message.locale,
        idempotency_key=message.idempotency_key,
        attempts=message.attempts,
        recipient=plain["recipient"],
        body=plain["body"],
    )


def _finish_message(message: OutgoingMessage, **values) -> bool:
    """A claimed message leaves `sending` with its recipient and text removed (minimisation:
    nothing is sent from it any more). Conditional: a message cancelled meanwhile stays so."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.status == MessageStatus.SENDING)
        .values(recipient_enc=None, body_enc=None, key_id=None, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def message_sent(message: OutgoingMessage, *, provider_ref: str | None, at: datetime) -> bool:
    """The provider took it: sent, its recipient and text gone. In the caller's transaction."""
    done = _finish_message(
        message, status=MessageStatus.SENT, sent_at=at, provider_ref=provider_ref, last_error=None
    )
    if done:
        audit_delivery("message_sent", message)
    return done


def message_failed(message: OutgoingMessage, *, reason: str, at: datetime) -> bool:
    """Refused for good (`reason` is coded, never the number or the provider's words), or
    given up after the last retry: failed, its recipient and text gone."""
    done = _finish_message(message, status=MessageStatus.FAILED, last_error=reason[:120])
    if done:
        audit_delivery("message_failed", message, reason=reason[:120], final=True)
    return done


def _erase_messages(consent: Consent) -> None:
    """The consent's unsent messages cancelled, and every one's recipient and text removed."""
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.consent_id == consent.id,
            OutboxMessage.status.in_([MessageStatus.QUEUED, MessageStatus.SENDING]),
        )
        .values(status=MessageStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.consent_id == consent.id,
            or_(OutboxMessage.recipient_enc.is_not(None), OutboxMessage.body_enc.is_not(None)),
        )
        .values(recipient_enc=None, body_enc=None, key_id=None)
        .execution_options(synchronize_session=False)
    )
    # Rows of this consent already in the session would otherwise still show the old values.
    for message in db.session.identity_map.values():
        if isinstance(message, OutboxMessage) and message.consent_id == consent.id:
            db.session.expire(message)


def _reseal_messages(key: crypto.Key) -> int:
    """Every message still holding a recipient and text moved under `key` (rotate_keys)."""
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.key_id.is_not(None))
        .order_by(OutboxMessage.id)
        .with_for_update()
    ).all()
    for message in messages:
        _seal_message(message, _open_message(message), key)
    return len(messages)
