"""The receiving service's side of a referral: when it is overdue for acknowledgement, and
(below) which step may follow which and what each records.

Only a referral whose service is received by an active partner organisation can be overdue
for acknowledgement: a service nobody receives has nobody to acknowledge it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, select

from ..choices import ReferralStatus
from ..extensions import db
from ..models import Partner, Referral, partner_services
from ..workdays import local_today


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


def is_ack_overdue(referral: Referral, today: date | None = None) -> bool:
    """Not closed, not acknowledged, and its acknowledgement date has passed, for a service an
    active partner receives. Mirrors `ack_overdue_clause` in SQL."""
    if (
        referral.status == ReferralStatus.CLOSED
        or referral.received_at is not None
        or referral.ack_due_date is None
        or referral.ack_due_date >= (today or local_today())
    ):
        return False
    received = _received_by_active_partner(referral.service_id, referral.organisation_id)
    return bool(db.session.scalar(select(received)))
