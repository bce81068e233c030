"""Reads of the inbound queue: a partner user's referrals by tab, the tabs' counts in one
statement, and a referral's history as the receiving service may see it (who did a step is
"Bro" or a partner organisation, never a member of staff).

Scope: every read starts from app.scope.partner_referrals_query, so a referral of another
service, another organisation or a withdrawn or erased consent does not exist here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import joinedload

from ..choices import ReferralStatus
from ..extensions import db
from ..models import Partner, Referral, ReferralEvent, User, utcnow
from ..scope import partner_referral_for_user, partner_referrals_query
from .workflow import ack_overdue_clause

NEW, IN_PROGRESS, OVERDUE, CLOSED = "new", "in_progress", "overdue", "closed"
TABS = (NEW, IN_PROGRESS, OVERDUE, CLOSED)
TAB_LABELS = {
    NEW: _l("Nya"),
    IN_PROGRESS: _l("Pågående"),
    OVERDUE: _l("Ej kvitterade i tid"),
    CLOSED: _l("Avslutade"),
}
CLOSED_DAYS = 90  # the closed tab shows the last three months


def _tab_clause(tab: str, today: date):
    not_closed = Referral.status != ReferralStatus.CLOSED
    return {
        NEW: and_(not_closed, Referral.received_at.is_(None)),
        IN_PROGRESS: and_(not_closed, Referral.received_at.is_not(None)),
        OVERDUE: ack_overdue_clause(today),
        CLOSED: and_(
            Referral.status == ReferralStatus.CLOSED,
            Referral.closed_at >= utcnow() - timedelta(days=CLOSED_DAYS),
        ),
    }[tab]


def inbound_query(user: User, tab: str, today: date) -> Select:
    """The referrals of one tab: the oldest acknowledgement date first, the latest closed
    first on the closed tab."""
    query = partner_referrals_query(user).where(_tab_clause(tab, today))
    if tab == CLOSED:
        order = (Referral.closed_at.desc(), Referral.id.desc())
    else:
        order = (Referral.ack_due_date, Referral.created_at, Referral.id)
    return query.options(joinedload(Referral.site)).order_by(*order)


@dataclass
class TabCount:
    tab: str
    total: int

    @property
    def label(self) -> str:
        return str(TAB_LABELS[self.tab])


def tab_counts(user: User, today: date) -> list[TabCount]:
    """Every tab's count in one statement."""
    sums = [func.sum(case((_tab_clause(tab, today), 1), else_=0)) for tab in TABS]
    row = db.session.execute(partner_referrals_query(user).with_only_columns(*sums)).one()
    return [TabCount(tab, int(total or 0)) for tab, total in zip(TABS, row, strict=True)]


def referral_for_user(user: User, referral_id: int) -> Referral:
    return partner_referral_for_user(user, referral_id)


def timeline(referral: Referral) -> tuple[list[ReferralEvent], dict[int, str]]:
    """The referral's events, and for each event by a partner's user that partner's name:
    the receiving service sees who acted as "Bro" or an organisation, never a person."""
    rows = db.session.execute(
        select(ReferralEvent, User.partner_id)
        .outerjoin(User, User.id == ReferralEvent.by_id)
        .where(ReferralEvent.referral_id == referral.id)
        .order_by(ReferralEvent.at, ReferralEvent.id)
    ).all()
    partner_ids = {partner_id for _event, partner_id in rows if partner_id}
    names: dict[int, str] = {}
    if partner_ids:
        found = db.session.execute(
            select(Partner.id, Partner.name).where(Partner.id.in_(partner_ids))
        )
        names = {partner_id: name for partner_id, name in found}
    events = [event for event, _partner_id in rows]
    who = {event.id: names.get(partner_id) for event, partner_id in rows if partner_id}
    return events, who
