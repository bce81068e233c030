"""Queries of the follow-up queues: which services and referrals a coordinator may see, the
filtered and sorted queue, the tab counts (one GROUP BY), a referral's timeline, its receiving
side (the partner organisations, app.partners) and the messages sent to the visitor (app.outbox:
their anonymous columns only, never the sealed recipient or text).

Scope: a coordinator sees the services they are assigned to (`User.services`), an admin every
service of the organisation. Anything else is answered with 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.orm import joinedload

from ..choices import ReferralStatus, Role
from ..extensions import db
from ..models import (
    Partner,
    Referral,
    ReferralEvent,
    Service,
    Site,
    User,
    partner_services,
    service_coordinators,
)
from ..partners.workflow import ack_date_passed, ack_overdue_clause
from ..scope import one_or_404, services_query
from ..workdays import local_today

OPEN_STATUSES = (ReferralStatus.NEW, ReferralStatus.CONTACTED, ReferralStatus.IN_PROGRESS)
# Tabs in order; "open" is every status but closed.
TABS = ("open", *OPEN_STATUSES, ReferralStatus.CLOSED)
# The last tab lists the service's open follow-ups (app.followup), not referrals.
FOLLOW_UP_TAB = "follow_up"


def queue_services(user: User) -> Select:
    """Services whose queue this user works: their own as a coordinator, all as an admin."""
    query = services_query(user)
    if user.role != Role.ADMIN:
        query = query.join(
            service_coordinators, service_coordinators.c.service_id == Service.id
        ).where(service_coordinators.c.user_id == user.id)
    return query


def queue_service_for_user(user: User, service_id: int) -> Service:
    return one_or_404(queue_services(user).where(Service.id == service_id))


def referral_for_user(user: User, referral_id: int) -> Referral:
    """A referral in one of the user's queues, with what its row shows; else 404."""
    allowed = queue_services(user).with_only_columns(Service.id).order_by(None)
    return one_or_404(
        select(Referral)
        .where(Referral.id == referral_id, Referral.service_id.in_(allowed))
        .options(*row_options())
    )


def row_options(service_loaded: bool = False) -> tuple:
    """What a queue row shows, loaded with the row: no query per row. Rows of one queue find
    their service (already loaded) in the session, without a query; the services' names are
    read for the whole page at once (app.names)."""
    rows = (joinedload(Referral.site), joinedload(Referral.assignee))
    if service_loaded:
        return rows
    return (*rows, joinedload(Referral.service))


def deadline_expr():
    """SQL twin of `workflow.next_deadline`: the first-contact date until someone has reached
    the visitor (if it is earlier than the follow-up date), then the follow-up date."""
    follow_up = func.coalesce(Referral.follow_up_date, Referral.due_date)
    return case(
        (
            and_(Referral.first_contact_at.is_(None), Referral.due_date < follow_up),
            Referral.due_date,
        ),
        else_=follow_up,
    )


def overdue_expr(today: date):
    return and_(Referral.status != ReferralStatus.CLOSED, deadline_expr() < today)


@dataclass
class QueueFilter:
    tab: str = "open"
    site_id: int | None = None
    language: str | None = None
    interpreter: bool = False
    overdue: bool = False
    mine: bool = False

    def args(self) -> dict:
        """The filter as URL parameters (for links that keep it)."""
        values = {
            "tab": self.tab,
            "site_id": self.site_id,
            "language": self.language,
            "interpreter": "1" if self.interpreter else None,
            "overdue": "1" if self.overdue else None,
            "mine": "1" if self.mine else None,
        }
        return {k: v for k, v in values.items() if v}


def queue_query(service: Service, flt: QueueFilter, user: User, today: date) -> Select:
    """The referrals of a queue tab, filtered, soonest deadline first."""
    query = select(Referral).where(Referral.service_id == service.id)
    if flt.tab == "open":
        query = query.where(Referral.status.in_(OPEN_STATUSES))
    else:
        query = query.where(Referral.status == flt.tab)
    if flt.site_id:
        query = query.where(Referral.site_id == flt.site_id)
    if flt.language:
        query = query.where(Referral.language == flt.language)
    if flt.interpreter:
        query = query.where(Referral.interpreter_needed.is_(True))
    if flt.overdue:
        query = query.where(overdue_expr(today))
    if flt.mine:
        query = query.where(Referral.assignee_id == user.id)
    if flt.tab == ReferralStatus.CLOSED:
        order = (Referral.closed_at.desc(), Referral.id.desc())
    else:
        order = (deadline_expr(), Referral.created_at, Referral.id)
    return query.options(*row_options(service_loaded=True)).order_by(*order)


@dataclass
class TabCount:
    tab: str
    total: int
    overdue: int
    # Waiting for the receiving service's acknowledgement past its date (app.partners).
    ack_overdue: int = 0

    @property
    def label(self) -> str:
        if self.tab == "open":
            return _("Öppna")
        if self.tab == FOLLOW_UP_TAB:
            return _("Uppföljning")
        return ReferralStatus(self.tab).label


def tab_counts(service: Service, today: date | None = None) -> list[TabCount]:
    """Per-status totals and overdue counts of a whole queue, in one statement. Closed
    referrals (most of a queue after a few years) are only counted, from ix_referral_queue
    alone; only the open ones are read to see which are overdue."""
    today = today or local_today()
    open_rows = (
        select(
            Referral.status,
            func.count(),
            func.sum(case((overdue_expr(today), 1), else_=0)),
            func.sum(case((ack_overdue_clause(today), 1), else_=0)),
        )
        .where(Referral.service_id == service.id, Referral.status.in_(OPEN_STATUSES))
        .group_by(Referral.status)
    )
    closed = select(
        literal(ReferralStatus.CLOSED.value), func.count(), literal(0), literal(0)
    ).where(Referral.service_id == service.id, Referral.status == ReferralStatus.CLOSED)
    rows = db.session.execute(union_all(open_rows, closed)).all()
    by_status = {
        status: (int(total), int(overdue or 0), int(ack or 0))
        for status, total, overdue, ack in rows
    }
    counts = [TabCount(s, *by_status.get(s, (0, 0, 0))) for s in TABS[1:]]
    still_open = [c for c in counts if c.tab != ReferralStatus.CLOSED]
    return [
        TabCount(
            "open",
            sum(c.total for c in still_open),
            sum(c.overdue for c in still_open),
            sum(c.ack_overdue for c in still_open),
        ),
        *counts,
    ]


def site_choices(service: Service) -> list[tuple[int, str]]:
    """Sites of the service's organisation, for the filter."""
    return list(
        db.session.execute(
            select(Site.id, Site.name)
            .where(Site.organisation_id == service.organisation_id)
            .order_by(Site.name)
        )
    )


def language_choices(service: Service) -> list[str]:
    """Contact languages that occur in this queue."""
    return list(
        db.session.scalars(
            select(Referral.language)
            .where(Referral.service_id == service.id)
            .distinct()
            .order_by(Referral.language)
        )
    )


def coordinators_of(service: Service) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(service_coordinators, service_coordinators.c.user_id == User.id)
            .where(service_coordinators.c.service_id == service.id, User.is_enabled)
            .order_by(User.name)
        )
    )


def my_tasks_query(user: User, today: date) -> Select:
    """Open referrals assigned to the user in their queues, due today or overdue."""
    allowed = queue_services(user).with_only_columns(Service.id).order_by(None)
    return (
        select(Referral)
        .where(
            Referral.assignee_id == user.id,
            Referral.service_id.in_(allowed),
            Referral.status != ReferralStatus.CLOSED,
            deadline_expr() <= today,
        )
        .options(*row_options())
        .order_by(deadline_expr(), Referral.id)
    )


def timeline(referral: Referral) -> tuple[list[ReferralEvent], dict[int, str]]:
    """A referral's events with the names they mention, in two queries whatever its length.
    A step by a receiving service's user names its partner organisation (loaded with it)."""
    events = list(
        db.session.scalars(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral.id)
            .options(joinedload(ReferralEvent.by).joinedload(User.partner))
            .order_by(ReferralEvent.at, ReferralEvent.id)
        )
    )
    ids = {e.assignee_id for e in events if e.assignee_id}
    names = {}
    if ids:
        rows = db.session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names = {user_id: name for user_id, name in rows}
    return events, names


@dataclass
class ServiceCounts:
    new: int = 0
    open: int = 0
    overdue: int = 0
    ack_overdue: int = 0  # not acknowledged by the receiving service in time


def service_overview(service_ids: list[int], today: date) -> dict[int, ServiceCounts]:
    """New, open and overdue referrals per service, for many services in one GROUP BY."""
    if not service_ids:
        return {}
    rows = db.session.execute(
        select(
            Referral.service_id,
            func.sum(case((Referral.status == ReferralStatus.NEW, 1), else_=0)),
            func.count(),
            func.sum(case((overdue_expr(today), 1), else_=0)),
            func.sum(case((ack_overdue_clause(today), 1), else_=0)),
        )
        .where(Referral.service_id.in_(service_ids), Referral.status != ReferralStatus.CLOSED)
        .group_by(Referral.service_id)
    ).all()
    counts = {service_id: ServiceCounts() for service_id in service_ids}
    for service_id, new, total, overdue, ack in rows:
        counts[service_id] = ServiceCounts(
            int(new or 0), int(total), int(overdue or 0), int(ack or 0)
        )
    return counts


# ---------------------------------------------------------------- the receiving side


def ack_overdue_ids(referrals, today: date) -> set[int]:
    """Which of these referrals wait for the receiving service's acknowledgement past its
    date (`partners.workflow.ack_overdue_clause`): one statement for a page of rows, where
    `is_ack_overdue` would ask once per row, and none when no row's own date has passed."""
    referral_ids = {r.id for r in referrals if ack_date_passed(r, today)}
    if not referral_ids:
        return set()
    return set(
        db.session.scalars(
            select(Referral.id).where(Referral.id.in_(referral_ids), ack_overdue_clause(today))
        )
    )


def receiving_partners(referral: Referral) -> list[str]:
    """Names of the active partner organisations that receive the referral's service."""
    return list(
        db.session.scalars(
            select(Partner.name)
            .join(partner_services, partner_services.c.partner_id == Partner.id)
            .where(
                partner_services.c.service_id == referral.service_id,
                Partner.organisation_id == referral.organisation_id,
                Partner.is_active,
            )
            .order_by(Partner.name)
        )
    )
