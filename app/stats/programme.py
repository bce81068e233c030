"""(area: stats) The programme's and outreach's figures: sessions held and cancelled, who came
to them (by activity kind, site, week or month, and language), the individual conversations,
the people informed elsewhere and the groups that then came.

Every figure is counted in the database, two statements for the whole section whatever the
data. One reads the sessions of the period (`organisation_id = … AND on_date BETWEEN …`, the
index ix_activity_session_org_date; with a chosen site `site_id = …` on
ix_activity_session_site_date) with their attendance and the visits counted as attending them
(Visit.session_id; their counts from ix_visit_session_counts alone), once, as a common table
expression, and groups it twice: by kind, site, bucket, status and reason, and by the
languages spoken at the held ones. The other reads the information contacts by bucket and
place (ix_information_contact_site_date). The groups that came after outreach and the visits at
outreach places are in the visit summaries (app.stats.summary) and come with the visit figures.

A session is *held* when it was not cancelled and its day has come (today included); only held
sessions' attendance is counted. A session's attendance is its SessionAttendance row plus the
visits counted as attending it (their adults, children, and the adults of a new group as new
people), as the session page adds them.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, literal, null, select, union, union_all

from ..choices import SessionChange, SessionStatus
from ..extensions import db
from ..models import (
    Activity,
    ActivitySession,
    AttendanceLanguage,
    InformationContact,
    SessionAttendance,
    Visit,
    VisitLanguage,
)
from .periods import Bucket
from .queries import Filters, as_date, bucket_start

PEOPLE = ("adults", "children", "new_people", "conversations")


@dataclass(frozen=True)
class SessionGroup:
    """Sessions of one kind, site, bucket and state, with what their attendance adds up to."""

    kind: str
    site_id: int
    bucket: date
    held: bool
    cancelled: bool
    reason: str | None  # the SessionChange of a cancelled session
    sessions: int
    with_new: int  # held sessions where at least one new person came
    adults: int
    children: int
    new_people: int
    conversations: int


def _session_scope(f: Filters) -> list:
    conditions = [
        ActivitySession.organisation_id == f.organisation_id,
        ActivitySession.on_date.between(f.period.start, f.period.end),
    ]
    if f.site_id is not None:
        conditions.append(ActivitySession.site_id == f.site_id)
    return conditions


def _held(today: date):
    return and_(ActivitySession.status != SessionStatus.CANCELLED, ActivitySession.on_date <= today)


def _per_session(f: Filters, bucket: Bucket, today: date):
    """Common table expressions of the period's sessions: the visits counted as attending them
    (one row per visit: few) and one row per session with its kind, site, bucket, state and
    attendance (that visits' figures added). Both are read twice by `session_figures`, and a
    CTE read twice is computed once."""
    s = ActivitySession
    in_period = select(s.id).where(*_session_scope(f)).scalar_subquery()
    adults_of_visit = Visit.women + Visit.men + Visit.other_adults
    visits = (
        select(
            Visit.id.label("visit_id"),
            Visit.session_id.label("session_id"),
            adults_of_visit.label("adults"),
            (Visit.children_0_1 + Visit.children_1_3 + Visit.children_3_6).label("children"),
            case((Visit.is_new.is_(True), adults_of_visit), else_=0).label("new_people"),
        )
        .where(Visit.session_id.is_not(None), Visit.session_id.in_(in_period))
        .cte("counted_visit")
    )
    counted = (
        select(
            visits.c.session_id,
            *[
                func.sum(visits.c[name]).label(name)
                for name in ("adults", "children", "new_people")
            ],
        )
        .group_by(visits.c.session_id)
        .subquery()
    )
    a = SessionAttendance
    zero = literal(0)
    adults = func.coalesce(a.women + a.men + a.other_adults, zero) + func.coalesce(
        counted.c.adults, zero
    )
    children = func.coalesce(a.children_0_1 + a.children_1_3 + a.children_3_6, zero)
    children = children + func.coalesce(counted.c.children, zero)
    new_people = func.coalesce(a.new_people, zero) + func.coalesce(counted.c.new_people, zero)
    cancelled = s.status == SessionStatus.CANCELLED
    sessions = (
        select(
            s.id.label("id"),
            Activity.kind.label("kind"),
            s.site_id.label("site_id"),
            bucket_start(s.on_date, bucket).label("bucket"),
            case((_held(today), 1), else_=0).label("held"),
            case((cancelled, 1), else_=0).label("cancelled"),
            case((cancelled, func.coalesce(s.change_reason, SessionChange.OTHER.value))).label(
                "reason"
            ),
            adults.label("adults"),
            children.label("children"),
            new_people.label("new_people"),
            func.coalesce(a.conversations, zero).label("conversations"),
        )
        .select_from(s)
        .join(Activity, Activity.id == s.activity_id)
        .outerjoin(a, a.session_id == s.id)
        .outerjoin(counted, counted.c.session_id == s.id)
        .where(*_session_scope(f))
        .cte("per_session")
    )
    return visits, sessions


@dataclass(frozen=True)
class LanguageGroup:
    code: str
    sessions: int
    adults: int
    children: int
    new_people: int
    conversations: int


def session_figures(
    f: Filters, bucket: Bucket, today: date
) -> tuple[list[SessionGroup], list[LanguageGroup]]:
    """One statement, two answers, each a few hundred rows however many sessions:

    - the period's sessions grouped by kind, site, bucket, state and reason (20 sites × 8 kinds
      × 12 months at most, times the few states), with the attendance of the held ones;
    - the held sessions per language spoken at them (recorded with the attendance, or spoken
      by a visit counted as attending), with their attendance: a session counts under each of
      its languages; most sessions first.
    """
    if not f.site_ids:
        return [], []
    visits, p = _per_session(f, bucket, today)
    held = p.c.held == 1
    keys = (p.c.kind, p.c.site_id, p.c.bucket, p.c.held, p.c.cancelled, p.c.reason)
    by_state = select(
        literal("state").label("part"),
        *keys,
        func.count().label("sessions"),
        func.sum(case((and_(held, p.c.new_people > 0), 1), else_=0)).label("with_new"),
        *[func.sum(case((held, p.c[name]), else_=0)).label(name) for name in PEOPLE],
    ).group_by(*keys)
    spoken = union(
        select(AttendanceLanguage.session_id.label("session_id"), AttendanceLanguage.code).join(
            p, p.c.id == AttendanceLanguage.session_id
        ),
        select(visits.c.session_id, VisitLanguage.code).join(
            VisitLanguage, VisitLanguage.visit_id == visits.c.visit_id
        ),
    ).subquery()
    nothing = null()  # the columns a language has not (a NULL each, no parameter)
    by_language = (
        select(
            literal("language").label("part"),
            spoken.c.code,
            nothing,
            nothing,
            nothing,
            nothing,
            nothing,
            func.count(),
            nothing,
            *[func.sum(p.c[name]) for name in PEOPLE],
        )
        .join(p, p.c.id == spoken.c.session_id)
        .where(held)
        .group_by(spoken.c.code)
    )
    groups, spoken_at = [], []
    for row in db.session.execute(union_all(by_state, by_language)):
        people = {name: int(row._mapping[name] or 0) for name in PEOPLE}
        if row.part == "language":
            spoken_at.append(LanguageGroup(row.kind, int(row.sessions), **people))
            continue
        groups.append(
            SessionGroup(
                kind=row.kind,
                site_id=row.site_id,
                bucket=as_date(row.bucket),
                held=bool(row.held),
                cancelled=bool(row.cancelled),
                reason=row.reason,
                sessions=int(row.sessions),
                with_new=int(row.with_new or 0),
                **people,
            )
        )
    spoken_at.sort(key=lambda lg: (-lg.sessions, lg.code))
    return groups, spoken_at


def informed(f: Filters, bucket: Bucket) -> list[tuple[date, str, int]]:
    """People informed about the open preschool elsewhere, per bucket and place: one
    statement on ix_information_contact_site_date."""
    if not f.site_ids:
        return []
    c = InformationContact
    key = bucket_start(c.on_date, bucket).label("bucket")
    rows = db.session.execute(
        select(key, c.place, func.sum(c.people).label("people"))
        .where(c.site_id.in_(f.site_ids), c.on_date.between(f.period.start, f.period.end))
        .group_by(key, c.place)
    )
    return [(as_date(row.bucket), row.place, int(row.people or 0)) for row in rows]
