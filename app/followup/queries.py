"""Reads of the follow-ups: scoped like the referrals they follow (a follow-up of a service
outside the user's queues, or of another organisation, is not found), the open ones of a
service by due date, the tab's counts in one statement, and what a follow-up's page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from ..choices import FollowUpStatus
from ..extensions import db
from ..models import FollowUp, Referral, Service, User
from ..queue.queries import QueueFilter, queue_services
from ..scope import one_or_404
from ..workdays import local_today


def _allowed_services(user: User) -> Select:
    return queue_services(user).with_only_columns(Service.id).order_by(None)


def follow_up_for_user(user: User, follow_up_id: int) -> FollowUp:
    """A follow-up in one of the user's queues, with its referral, consent and site; else 404."""
    return one_or_404(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.service_id.in_(_allowed_services(user)))
        .options(
            joinedload(FollowUp.referral).joinedload(Referral.consent),
            joinedload(FollowUp.referral).joinedload(Referral.site),
        )
    )


def overdue_expr(today: date):
    return (FollowUp.status == FollowUpStatus.OPEN) & (FollowUp.due_date < today)


def open_for_service(service: Service, flt: QueueFilter | None, user: User, today: date) -> Select:
    """The open follow-ups of a service's queue, the one due first on top, with what a row shows
    (its referral's language and interpreter, its site) loaded in the same statement. The
    queue's filters apply as they do to referrals; "mine" is the referrals given to the user."""
    query = (
        select(FollowUp)
        .join(FollowUp.referral)
        .where(FollowUp.service_id == service.id, FollowUp.status == FollowUpStatus.OPEN)
    )
    if flt is not None:
        if flt.site_id:
            query = query.where(FollowUp.site_id == flt.site_id)
        if flt.language:
            query = query.where(Referral.language == flt.language)
        if flt.interpreter:
            query = query.where(Referral.interpreter_needed.is_(True))
        if flt.overdue:
            query = query.where(FollowUp.due_date < today)
        if flt.mine:
            query = query.where(Referral.assignee_id == user.id)
    return query.options(
        contains_eager(FollowUp.referral), joinedload(FollowUp.referral, Referral.site)
    ).order_by(FollowUp.due_date, FollowUp.id)


@dataclass
class OpenCount:
    total: int = 0
    overdue: int = 0


def open_count(service: Service, today: date | None = None) -> OpenCount:
    """The service's open follow-ups and how many of them are overdue, in one statement from
    ix_follow_up_queue."""
    today = today or local_today()
    total, overdue = db.session.execute(
        select(func.count(), func.sum(case((FollowUp.due_date < today, 1), else_=0))).where(
            FollowUp.service_id == service.id, FollowUp.status == FollowUpStatus.OPEN
        )
    ).one()
    return OpenCount(int(total or 0), int(overdue or 0))


def due_for_user(user: User, today: date) -> Select:
    """Open follow-ups in the user's queues due today or earlier (the "today" page's list)."""
    return (
        select(FollowUp)
        .join(FollowUp.referral)
        .where(
            FollowUp.service_id.in_(_allowed_services(user)),
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.due_date <= today,
        )
        .options(contains_eager(FollowUp.referral), joinedload(FollowUp.referral, Referral.site))
        .order_by(FollowUp.due_date, FollowUp.id)
    )


def of_referral(referral_id: int) -> list[FollowUp]:
    """Every follow-up of one referral, in the order they fall due (the page's earlier results)."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .where(FollowUp.referral_id == referral_id)
            .order_by(FollowUp.months, FollowUp.id)
        )
    )
