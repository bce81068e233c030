"""The follow-up workflow of a referral: which status may follow which, and what each step
records. The rules live here, in one table, so the views, the tests and the demo seed agree.

Every step appends a coded `ReferralEvent` (who, when, optional reason; never free text) and
bumps `Referral.version` through the mapper's version column, so a concurrent change is refused.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l

from ..choices import AttemptResult, Outcome, ReferralStatus
from ..followup import records as follow_ups
from ..models import Organisation, Referral, ReferralEvent, User, utcnow
from ..workdays import add_working_days, local_today

NEW, CONTACTED, IN_PROGRESS, CLOSED = (
    ReferralStatus.NEW,
    ReferralStatus.CONTACTED,
    ReferralStatus.IN_PROGRESS,
    ReferralStatus.CLOSED,
)

# The whole workflow. A status not listed as a target is refused.
# - NEW → IN_PROGRESS: the first call already booked a start or sent an application.
# - NEW → CLOSED: e.g. wrong service, or the visitor says no before any work starts.
# - IN_PROGRESS → CONTACTED: a booking fell through and the coordinator is talking again.
# - CLOSED is final: a closed referral's contact details are on their way to erasure, so
#   reopening would mean working on data that retention has promised to delete. A new need
#   is a new referral with a new consent.
ALLOWED: dict[str, frozenset[str]] = {
    NEW: frozenset({CONTACTED, IN_PROGRESS, CLOSED}),
    CONTACTED: frozenset({IN_PROGRESS, CLOSED}),
    IN_PROGRESS: frozenset({CONTACTED, CLOSED}),
    CLOSED: frozenset(),
}

# Outcomes a coordinator may choose when closing. WITHDRAWN and EXPIRED are set only by
# app.privacy (withdrawal erases contact details at once; expiry is the retention purge).
MANUAL_OUTCOMES: tuple[Outcome, ...] = (
    Outcome.STARTED,
    Outcome.DECLINED,
    Outcome.UNREACHABLE,
    Outcome.NOT_ELIGIBLE,
)

FOLLOW_UP_WORKING_DAYS = 5


class WorkflowError(ValueError):
    """A step the rules refuse; `field` names the form field the message belongs to."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def default_follow_up(today: date | None = None) -> date:
    return add_working_days(today or local_today(), FOLLOW_UP_WORKING_DAYS)


def is_allowed(from_status: str, to_status: str) -> bool:
    return to_status in ALLOWED.get(from_status, frozenset())


def next_deadline(referral: Referral) -> date | None:
    """The date the next step is due: the first-contact deadline while nobody has reached the
    visitor (unless an earlier follow-up was set), then the follow-up date. Mirrors
    `queries.deadline_expr` in SQL."""
    if referral.status == CLOSED:
        return None
    follow_up = referral.follow_up_date or referral.due_date
    if referral.first_contact_at is None and referral.due_date < follow_up:
        return referral.due_date
    return follow_up


def is_overdue(referral: Referral, today: date | None = None) -> bool:
    deadline = next_deadline(referral)
    return deadline is not None and deadline < (today or local_today())


def suggests_unreachable(referral: Referral, org: Organisation) -> bool:
    """After the organisation's number of failed attempts, suggest closing as unreachable."""
    return referral.status != CLOSED and referral.failed_attempts >= org.unreachable_after_attempts


def _mark_first_contact(referral: Referral, at: datetime) -> None:
    if referral.first_contact_at is None:
        referral.first_contact_at = at


def change_status(
    referral: Referral,
    to_status: str,
    *,
    by: User,
    outcome: str | None = None,
    reason_code: str | None = None,
    follow_up_date: date | None = None,
) -> ReferralEvent:
    """Move a referral one step; an outcome is required exactly when the step closes it."""
    if not is_allowed(referral.status, to_status):
        raise WorkflowError("to_status", _l("Det steget går inte från nuvarande status."))
    if to_status == CLOSED and not outcome:
        raise WorkflowError("outcome", _l("Välj ett utfall när du avslutar."))
    if to_status != CLOSED and outcome:
        raise WorkflowError("outcome", _l("Ett utfall anges bara när du avslutar."))
    if outcome and outcome not in MANUAL_OUTCOMES:
        raise WorkflowError("outcome", _l("Välj ett utfall i listan."))
    now = utcnow()
    if to_status == CLOSED:
        event = referral.close(outcome, by_id=by.id, at=now, reason_code=reason_code or None)
        if outcome == Outcome.STARTED:
            follow_ups.plan(referral)  # what happened afterwards is asked months later
        return event
    event = ReferralEvent(
        by_id=by.id,
        at=now,
        kind="status",
        from_status=referral.status,
        to_status=to_status,
        reason_code=reason_code or None,
    )
    referral.events.append(event)
    referral.status = to_status
    referral.reason_code = reason_code or None
    if to_status in (CONTACTED, IN_PROGRESS):
        _mark_first_contact(referral, now)
    referral.follow_up_date = follow_up_date or default_follow_up()
    event.on_date = referral.follow_up_date
    return event


def log_attempt(
    referral: Referral, *, by: User, channel: str, result: str, on_date: date
) -> ReferralEvent:
    """A contact attempt. A failed one counts towards "unreachable"; reaching a new referral's
    visitor is its first contact, so it moves to CONTACTED in the same step."""
    if referral.status == CLOSED:
        raise WorkflowError("result", _l("Hänvisningen är avslutad."))
    now = utcnow()
    event = ReferralEvent(
        by_id=by.id, at=now, kind="attempt", channel=channel, result=result, on_date=on_date
    )
    referral.events.append(event)
    if result == AttemptResult.REACHED:
        _mark_first_contact(referral, now)
        if referral.status == NEW:
            change_status(referral, CONTACTED, by=by)
    else:
        referral.failed_attempts = (referral.failed_attempts or 0) + 1
    return event


def assign(referral: Referral, assignee: User | None, *, by: User) -> ReferralEvent:
    """Give the referral to a coordinator (or to nobody)."""
    event = ReferralEvent(
        by_id=by.id,
        at=utcnow(),
        kind="assigned",
        assignee_id=assignee.id if assignee else None,
    )
    referral.events.append(event)
    referral.assignee_id = assignee.id if assignee else None
    return event


def set_follow_up(referral: Referral, day: date, *, by: User) -> ReferralEvent:
    if referral.status == CLOSED:
        raise WorkflowError("follow_up_date", _l("Hänvisningen är avslutad."))
    event = ReferralEvent(by_id=by.id, at=utcnow(), kind="follow_up", on_date=day)
    referral.events.append(event)
    referral.follow_up_date = day
    return event
