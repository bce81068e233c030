"""The follow-up area's writes: planning a referral's follow-ups when it closes as started, and
recording a follow-up's coded result (with, after an interruption, a new referral in the same
step). Each runs in the caller's transaction; the caller audits nothing more and commits.

A follow-up is anonymous like the referral it follows: it holds codes and dates only, so it
stays when the contact details are erased, and the statistics and project reports count it.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from itertools import pairwise

from dateutil.relativedelta import relativedelta
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import audit, privacy
from ..choices import (
    FollowUpResult,
    FollowUpStatus,
    InterruptionReason,
    Outcome,
    ReferralStatus,
    SfiLevel,
)
from ..extensions import db
from ..models import FollowUp, Organisation, Referral, User, utcnow
from ..workdays import STOCKHOLM, is_working_day, local_today

DEFAULT_MONTHS = (3, 6, 12)
# The longest interval an organisation may set: three years after the start.
MAX_MONTHS = 36
MAX_INTERVALS = 6


class FollowUpRefused(ValueError):
    """A step the state of the follow-up, its referral or its consent does not allow (409)."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class FollowUpInvalid(ValueError):
    """A result that does not hang together; `field` names the form field the message
    belongs to (422)."""

    def __init__(self, field: str, message) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


# ------------------------------------------------------------------------------- planning


def parse_months(raw: str | None) -> list[int] | None:
    """The months in "3, 6, 12": 1 to MAX_INTERVALS whole months from 1 to MAX_MONTHS, strictly
    increasing; None when the text is not such a list. The admin's settings form refuses what
    this refuses, so an organisation's setting always parses."""
    parts = [p.strip() for p in (raw or "").split(",")]
    if not 1 <= len(parts) <= MAX_INTERVALS or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    months = [int(p) for p in parts]
    if not all(1 <= m <= MAX_MONTHS for m in months) or any(b <= a for a, b in pairwise(months)):
        return None
    return months


def intervals(org: Organisation) -> list[int]:
    """The organisation's follow-up months ("3,6,12" → [3, 6, 12]); the defaults if the stored
    text does not parse (it was written past the form), rather than failing a close."""
    return parse_months(org.follow_up_months) or list(DEFAULT_MONTHS)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day in Sweden, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(closed_on: date, months: int) -> date:
    """`months` calendar months after the close (31 August + 6 months is the last day of
    February), moved forward to the next working day."""
    return next_working_day(closed_on + relativedelta(months=months))


def local_close_date(referral: Referral) -> date:
    """The day the referral closed on Sweden's calendar (closed_at is stored in UTC)."""
    if referral.closed_at is None:
        return local_today()
    return referral.closed_at.replace(tzinfo=UTC).astimezone(STOCKHOLM).date()


def plan(referral: Referral, closed_on: date | None = None) -> list[FollowUp]:
    """One open follow-up per interval of the organisation, for a referral that closed as
    started, due that many calendar months after `closed_on` (default: the day it closed).
    Idempotent: an interval already planned for the referral is skipped. Returns the
    follow-ups added now."""
    if referral.status != ReferralStatus.CLOSED or referral.outcome != Outcome.STARTED:
        return []
    org = db.session.get(Organisation, referral.organisation_id)
    closed_on = closed_on or local_close_date(referral)
    planned = {
        f.months for f in db.session.new if isinstance(f, FollowUp) and f.referral is referral
    }
    if referral.id is not None:
        # No autoflush: the caller's pending change to the referral is flushed with its own
        # commit, where a concurrent change is caught as stale, not in the middle of a step.
        with db.session.no_autoflush:
            planned |= set(
                db.session.scalars(
                    select(FollowUp.months).where(FollowUp.referral_id == referral.id)
                )
            )
    added = []
    for months in intervals(org):
        if months in planned:
            continue
        follow_up = FollowUp(
            organisation_id=referral.organisation_id,
            referral=referral,
            service_id=referral.service_id,
            site_id=referral.site_id,
            months=months,
            due_date=due_date(closed_on, months),
            status=FollowUpStatus.OPEN,
        )
        db.session.add(follow_up)
        added.append(follow_up)
    return added


# ------------------------------------------------------------------------------- recording


def refusal(follow_up: FollowUp):
    """Why no result may be recorded for this follow-up now, or None if one may."""
    referral = follow_up.referral
    if follow_up.status == FollowUpStatus.DONE:
        return _l("Uppföljningen är redan gjord. Resultatet ändras inte.")
    if follow_up.status == FollowUpStatus.CANCELLED or referral.consent.withdrawn_at is not None:
        return _l("Samtycket är återkallat, så uppföljningen är inställd.")
    if referral.status != ReferralStatus.CLOSED or referral.outcome != Outcome.STARTED:
        return _l("Hänvisningen ledde inte till en start. Det finns inget att följa upp.")
    return None


def re_refer_refusal(follow_up: FollowUp, has_details: bool | None = None):
    """Why no new referral can be made on the follow-up's consent, or None if it can: the
    consent must stand and still hold contact details (whoever takes the new referral must
    be able to reach her), and the service must not already have an open referral on it."""
    referral = follow_up.referral
    consent = referral.consent
    if has_details is None:
        has_details = consent.id in privacy.has_contact_details([consent.id])
    if consent.withdrawn_at is not None or not has_details:
        return _l("Kontaktuppgifterna finns inte kvar. En ny hänvisning behöver ett nytt samtycke.")
    already_open = db.session.scalar(
        select(Referral.id).where(
            Referral.consent_id == consent.id,
            Referral.service_id == referral.service_id,
            Referral.status != ReferralStatus.CLOSED,
        )
    )
    if already_open is not None:
        return _l("Det finns redan en öppen hänvisning till tjänsten.")
    return None


def check_result(
    result: str | None, sfi_level: str | None, reason_code: str | None, re_refer: bool
) -> None:
    """The coded result hangs together: a course level only with completed, a reason exactly
    with interrupted, a new referral only after an interruption."""
    if result not in set(FollowUpResult):
        raise FollowUpInvalid("result", _l("Välj ett resultat."))
    if sfi_level:
        if result != FollowUpResult.COMPLETED:
            raise FollowUpInvalid("sfi_level", _l("Kursen anges bara när hon har gått klart."))
        if sfi_level not in set(SfiLevel):
            raise FollowUpInvalid("sfi_level", _l("Välj en kurs i listan."))
    if result == FollowUpResult.INTERRUPTED:
        if not reason_code:
            raise FollowUpInvalid("reason_code", _l("Välj varför hon avbröt."))
        if reason_code not in set(InterruptionReason):
            raise FollowUpInvalid("reason_code", _l("Välj en orsak i listan."))
    elif reason_code:
        raise FollowUpInvalid("reason_code", _l("En orsak anges bara när hon har avbrutit."))
    if re_refer and result != FollowUpResult.INTERRUPTED:
        raise FollowUpInvalid("re_refer", _l("En ny hänvisning görs bara efter ett avbrott."))


def record(
    follow_up: FollowUp,
    *,
    result: str,
    sfi_level: str | None = None,
    reason_code: str | None = None,
    re_refer: bool = False,
    by: User,
) -> FollowUp:
    """Record the follow-up's coded result, once. Raises FollowUpRefused when the follow-up
    may not be recorded (done, cancelled, consent withdrawn, referral not started, or no new
    referral possible) and FollowUpInvalid when the result does not hang together; nothing
    is changed then."""
    reason = refusal(follow_up)
    if reason is not None:
        raise FollowUpRefused(reason)
    check_result(result, sfi_level or None, reason_code or None, re_refer)
    if re_refer and (reason := re_refer_refusal(follow_up)) is not None:
        raise FollowUpRefused(reason)
    follow_up.status = FollowUpStatus.DONE
    follow_up.result = result
    follow_up.sfi_level = sfi_level or None
    follow_up.reason_code = reason_code or None
    follow_up.recorded_at = utcnow()
    follow_up.recorded_by_id = by.id
    if re_refer:
        follow_up.new_referral_id = refer_again(follow_up.referral, by=by).id
    audit.record(
        "follow_up_recorded",
        "follow_up",
        follow_up.id,
        user=by,
        referral_id=follow_up.referral_id,
        months=follow_up.months,
        result=result,
        sfi_level=follow_up.sfi_level,
        reason_code=follow_up.reason_code,
        new_referral_id=follow_up.new_referral_id,
    )
    return follow_up


def refer_again(referral: Referral, *, by: User) -> Referral:
    """A new referral to the same service on the same consent (it covers that service and its
    disclosure), made as a new consent makes one (app.privacy.new_referral), with the same
    visitor's target-group facts, and its audit event."""
    new = privacy.new_referral(
        referral.consent,
        referral.service_id,
        language=referral.language,
        interpreter_needed=referral.interpreter_needed,
        facts=privacy.TargetFacts.of(referral),
        by=by,
    )
    db.session.flush()
    audit.record(
        "referral_created",
        "referral",
        new.id,
        user=by,
        consent_id=referral.consent_id,
        service_id=referral.service_id,
        after_referral_id=referral.id,
    )
    return new
