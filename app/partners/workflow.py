"""The receiving service's side of a referral: when it is overdue for acknowledgement, and
(below) which step may follow which and what each records.

Only a referral whose service is received by an active partner organisation can be overdue
for acknowledgement: a service nobody receives has nobody to acknowledge it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, select

from .. import audit, outbox
from ..choices import DeclineReason, EventKind, Outcome, PartnerStep, ReasonCode, ReferralStatus
from ..extensions import db
from ..models import Partner, Referral, ReferralEvent, User, partner_services, utcnow
from ..queue import workflow as queue
from ..queue.workflow import WorkflowError
from ..workdays import STOCKHOLM, local_today

__all__ = [
    "ALLOWED",
    "WorkflowError",
    "ack_date_passed",
    "ack_overdue_clause",
    "is_ack_overdue",
    "record_step",
]


def _received_by_active_partner(service_id, organisation_id) -> ColumnElement[bool]:
    """EXISTS an active partner of the organisation receiving the service (columns of the
    outer Referral in a query, or one referral's values)."""
    query = (
        select(partner_services.c.service_id)
        .join(Partner, Partner.id == partner_services.c.partner_id)
        .where(
            partner_services.c.service_id == service_id,
            Partner.organisation_id == organisation_id,
            Partner.is_active,
        )
    )
    return exists(query.correlate(Referral))


def ack_overdue_clause(today: date) -> ColumnElement[bool]:
    """`is_ack_overdue` as a boolean clause on Referral, for queries (the same rule)."""
    return and_(
        Referral.status != ReferralStatus.CLOSED,
        Referral.received_at.is_(None),
        Referral.ack_due_date.is_not(None),
        Referral.ack_due_date < today,
        _received_by_active_partner(Referral.service_id, Referral.organisation_id),
    )


def ack_date_passed(referral: Referral, today: date | None = None) -> bool:
    """The referral's own part of `is_ack_overdue`: not closed, not acknowledged, and its
    acknowledgement date has passed (whether an active partner receives it is asked apart)."""
    return (
        referral.status != ReferralStatus.CLOSED
        and referral.received_at is None
        and referral.ack_due_date is not None
        and referral.ack_due_date < (today or local_today())
    )


def is_ack_overdue(referral: Referral, today: date | None = None) -> bool:
    """Not closed, not acknowledged, and its acknowledgement date has passed, for a service an
    active partner receives. Mirrors `ack_overdue_clause` in SQL."""
    if not ack_date_passed(referral, today):
        return False
    received = _received_by_active_partner(referral.service_id, referral.organisation_id)
    return bool(db.session.scalar(select(received)))


# ---------------------------------------------------------------- the steps

RECEIVED, CONTACTED, BOOKED, STARTED, DECLINED = (
    PartnerStep.RECEIVED,
    PartnerStep.CONTACTED,
    PartnerStep.BOOKED,
    PartnerStep.STARTED,
    PartnerStep.DECLINED,
)

# The whole workflow of the receiving side, keyed by the referral's last partner step (None:
# not yet received). A step not listed is refused; a closed referral allows nothing, whoever
# closed it. Any step also acknowledges the referral.
# - BOOKED -> BOOKED: the time moved, the visitor is told again.
# - BOOKED -> CONTACTED: the booking fell through and the service is talking to her again.
ALLOWED: dict[str | None, frozenset[str]] = {
    None: frozenset({RECEIVED, CONTACTED, BOOKED, DECLINED}),
    RECEIVED: frozenset({CONTACTED, BOOKED, DECLINED}),
    CONTACTED: frozenset({BOOKED, STARTED, DECLINED}),
    BOOKED: frozenset({BOOKED, CONTACTED, STARTED, DECLINED}),
    STARTED: frozenset(),
    DECLINED: frozenset(),
}

# A decline closes the referral with the outcome the statistics count for its reason.
DECLINE_OUTCOMES: dict[str, str] = {
    DeclineReason.NOT_ELIGIBLE: Outcome.NOT_ELIGIBLE,
    DeclineReason.NO_PLACE: Outcome.NO_PLACE,
    DeclineReason.COULD_NOT_REACH: Outcome.UNREACHABLE,
    DeclineReason.OTHER: Outcome.DECLINED_BY_SERVICE,
}


def allowed_steps(referral: Referral) -> frozenset[str]:
    """The steps the receiving service may record now."""
    if referral.status == ReferralStatus.CLOSED:
        return frozenset()
    return ALLOWED.get(referral.partner_step, frozenset())


def appointment_utc(day: date, at: time) -> datetime:
    """A time booked on Sweden's wall clock, as the naive UTC the database stores."""
    local = datetime.combine(day, at, tzinfo=STOCKHOLM)
    return local.astimezone(UTC).replace(tzinfo=None)


def record_step(
    referral: Referral,
    step: str,
    *,
    by: User,
    reason: str | None = None,
    day: date | None = None,
    at: time | None = None,
    place: str | None = None,
) -> ReferralEvent:
    """Record one step of the receiving service, move the referral in the coordinators' queue
    as the step means, and audit it; in the caller's transaction. A refused step raises
    WorkflowError and changes nothing."""
    if step not in allowed_steps(referral):
        raise WorkflowError("step", _l("Det steget går inte att göra nu."))
    if step == DECLINED and reason not in DECLINE_OUTCOMES:
        raise WorkflowError("reason", _l("Välj en orsak i listan."))
    if step == BOOKED and (day is None or at is None or not place):
        raise WorkflowError("day", _l("Fyll i datum, tid och plats."))
    now = utcnow()
    if referral.received_at is None:
        referral.received_at = now
    event = ReferralEvent(
        by_id=by.id,
        at=now,
        kind=EventKind.PARTNER,
        result=step,
        reason_code=reason if step == DECLINED else None,
        on_date=day if step == BOOKED else None,
    )
    referral.events.append(event)
    referral.partner_step = step
    _move_queue(referral, step, by=by, reason=reason, day=day)
    if step == BOOKED:
        referral.appointment_at = appointment_utc(day, at)
        referral.appointment_place = place
        referral.follow_up_date = day
        db.session.flush()  # the message names the event
        outbox.queue_booking(referral, event)
    audit.record(
        "partner_step",
        "referral",
        referral.id,
        user=by,
        step=step,
        reason=reason if step == DECLINED else None,
    )
    return event


def _move_queue(referral: Referral, step: str, *, by: User, reason: str | None, day) -> None:
    """What the step means in the coordinators' queue and the statistics."""
    status = referral.status
    if step == CONTACTED and queue.is_allowed(status, ReferralStatus.CONTACTED):
        queue.change_status(referral, ReferralStatus.CONTACTED, by=by)
    elif step == BOOKED and status != ReferralStatus.IN_PROGRESS:
        queue.change_status(
            referral,
            ReferralStatus.IN_PROGRESS,
            by=by,
            reason_code=ReasonCode.BOOKED,
            follow_up_date=day,
        )
    elif step == STARTED:
        queue.change_status(referral, ReferralStatus.CLOSED, by=by, outcome=Outcome.STARTED)
    elif step == DECLINED:
        referral.close(DECLINE_OUTCOMES[reason], by_id=by.id, at=utcnow(), reason_code=reason)
