"""(area: visits) What the visit screens read: day and week totals, the most used languages,
one's own entries of today, the remembered site. All counting is SQL on the site/date indexes
(ix_visit_site_date, ix_visit_language_site_date_code)."""

from datetime import UTC, date, datetime, time, timedelta

from flask import abort
from sqlalchemy import case, distinct, func, select

from .. import languages
from ..extensions import db
from ..models import Site, User, Visit, VisitLanguage
from ..scope import sites_query
from ..workdays import STOCKHOLM, local_today

TOP_LANGUAGES = 6
TOP_LANGUAGE_DAYS = 90


def local_day_start_utc(day: date) -> datetime:
    """Midnight in Stockholm as the naive UTC time stored in created_at."""
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM).astimezone(UTC).replace(tzinfo=None)


def _adults():
    return Visit.women + Visit.men + Visit.other_adults


def _children():
    return Visit.children_0_1 + Visit.children_1_3 + Visit.children_3_6


def day_totals(site_id: int, day: date):
    """Groups, adults, children, new visitors and distinct languages of one day: one query."""
    language_count = (
        select(func.count(distinct(VisitLanguage.code)))
        .where(VisitLanguage.site_id == site_id, VisitLanguage.visit_date == day)
        .scalar_subquery()
    )
    return db.session.execute(
        select(
            func.count(Visit.id).label("groups"),
            func.coalesce(func.sum(_adults()), 0).label("adults"),
            func.coalesce(func.sum(_children()), 0).label("children"),
            func.coalesce(func.sum(case((Visit.is_new, 1), else_=0)), 0).label("new"),
            language_count.label("languages"),
        ).where(Visit.site_id == site_id, Visit.visit_date == day)
    ).one()


def week_rows(site_id: int, monday: date) -> tuple[list[dict], dict]:
    """One row per day of the week (empty days included) and the week's totals."""
    sunday = monday + timedelta(days=6)
    per_day = db.session.execute(
        select(
            Visit.visit_date,
            func.count(Visit.id),
            func.sum(_adults()),
            func.sum(_children()),
            func.sum(case((Visit.is_new, 1), else_=0)),
        )
        .where(Visit.site_id == site_id, Visit.visit_date.between(monday, sunday))
        .group_by(Visit.visit_date)
    ).all()
    in_week = (VisitLanguage.site_id == site_id, VisitLanguage.visit_date.between(monday, sunday))
    languages_per_day = dict(
        db.session.execute(
            select(VisitLanguage.visit_date, func.count(distinct(VisitLanguage.code)))
            .where(*in_week)
            .group_by(VisitLanguage.visit_date)
        ).all()
    )
    week_languages = db.session.scalar(
        select(func.count(distinct(VisitLanguage.code))).where(*in_week)
    )
    found = {row[0]: row[1:] for row in per_day}
    rows = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        groups, adults, children, new = found.get(day, (0, 0, 0, 0))
        rows.append(
            {
                "day": day,
                "groups": groups,
                "adults": int(adults or 0),
                "children": int(children or 0),
                "new": int(new or 0),
                "languages": languages_per_day.get(day, 0),
            }
        )
    totals = {k: sum(r[k] for r in rows) for k in ("groups", "adults", "children", "new")}
    totals["languages"] = week_languages or 0
    return rows, totals


def top_language_codes(site_id: int, today: date) -> list[str]:
    """The site's most used languages of the last 90 days, padded with the common defaults."""
    used = db.session.scalars(
        select(VisitLanguage.code)
        .where(
            VisitLanguage.site_id == site_id,
            VisitLanguage.visit_date.between(today - timedelta(days=TOP_LANGUAGE_DAYS), today),
        )
        .group_by(VisitLanguage.code)
        .order_by(func.count().desc(), VisitLanguage.code)
        .limit(TOP_LANGUAGES)
    ).all()
    known = languages.known_codes()
    codes = [c for c in used if c in known]
    codes += [c for c in languages.DEFAULT_TOP if c not in codes]
    return codes[:TOP_LANGUAGES]


def own_visit_of_today(site: Site, visit_id: int, user: User) -> Visit:
    """A visit this user recorded today at this site. Anything else is 404: another user's
    entry or an older one is simply not there to edit, as with records of other sites."""
    visit = db.session.scalar(
        select(Visit).where(
            Visit.id == visit_id,
            Visit.site_id == site.id,
            Visit.recorded_by_id == user.id,
            Visit.created_at >= local_day_start_utc(local_today()),
        )
    )
    if visit is None:
        abort(404)
    return visit


def remembered_site(user: User) -> Site | None:
    """The site the user last worked at, else their first site."""
    if user.last_site_id:
        site = db.session.scalar(sites_query(user).where(Site.id == user.last_site_id))
        if site is not None:
            return site
    return db.session.scalar(sites_query(user).limit(1))
