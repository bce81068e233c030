"""(area: programme) Reads of the programme: the names of kinds and activities in the reader's
language (one rule, the services' fallback), the sessions of some sites between two dates with
their names in the same query (all of them, or each site's first few, numbered in SQL), the
sessions a user may act on, and the clash check of a room."""

from dataclasses import dataclass
from datetime import date, time

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import selectinload

from ..choices import ActivityKind, SessionStatus
from ..extensions import db
from ..i18n import fallback_locales
from ..models import (
    Activity,
    ActivityKindRow,
    ActivitySession,
    ActivityTranslation,
    Site,
    User,
    Visit,
)
from ..scope import one_or_404, site_ids
from ..visits.queries import local_day_start_utc
from ..workdays import local_today


def activity_text_column(field: str, locale: str) -> ColumnElement[str]:
    """An activity's name or description in `locale`, else in Swedish, as a column of a query
    over `Activity` (correlated lookups on the (activity, locale) unique index)."""
    column = getattr(ActivityTranslation, field)
    candidates = [
        select(column)
        .where(ActivityTranslation.activity_id == Activity.id, ActivityTranslation.locale == code)
        .scalar_subquery()
        for code in fallback_locales(locale)
    ]
    return func.coalesce(*candidates, "").label(field)


def activity_locale_column(locale: str) -> ColumnElement[str]:
    """The locale the name above was found in, so a page marks Swedish text as Swedish."""
    candidates = [
        select(ActivityTranslation.locale)
        .where(ActivityTranslation.activity_id == Activity.id, ActivityTranslation.locale == code)
        .scalar_subquery()
        for code in fallback_locales(locale)
    ]
    return func.coalesce(*candidates, "sv").label("text_locale")


def kind_labels(organisation_id: int, locale: str) -> dict[str, str]:
    """Every kind's name in `locale`: the built-in kinds' translated labels, then the kinds the
    organisation added (their name in `locale`, else Swedish). The one lookup every page and
    export uses."""
    labels = {kind.value: kind.label for kind in ActivityKind}
    rows = db.session.scalars(
        select(ActivityKindRow).where(ActivityKindRow.organisation_id == organisation_id)
    )
    for row in rows:
        names = row.names or {}
        labels[row.code] = next(
            (names[code] for code in fallback_locales(locale) if names.get(code)), row.code
        )
    return labels


def kind_choices(
    organisation_id: int, locale: str, keep: str | None = None
) -> list[tuple[str, str]]:
    """The kinds an admin may pick: built-in ones, then active added ones (and `keep`, the
    current kind of an activity being edited, even if it was retired)."""
    active = set(
        db.session.scalars(
            select(ActivityKindRow.code).where(
                ActivityKindRow.organisation_id == organisation_id, ActivityKindRow.is_active
            )
        )
    )
    labels = kind_labels(organisation_id, locale)
    builtin = [k.value for k in ActivityKind]
    added = sorted(
        (c for c in labels if c not in builtin and (c in active or c == keep)),
        key=lambda c: labels[c].lower(),
    )
    return [(code, labels[code]) for code in builtin + added]


def pictogram(kind: str) -> str:
    """The pictogram file of a kind; an added kind shows the "other" one."""
    value = kind if kind in {k.value for k in ActivityKind} else ActivityKind.OTHER.value
    return f"img/activities/{value}.svg"


@dataclass(frozen=True)
class SessionRow:
    session: ActivitySession
    name: str
    description: str
    text_locale: str
    kind: str
    site_name: str
    languages: list[str]
    needs_registration: bool
    partner_name: str

    @property
    def cancelled(self) -> bool:
        return self.session.status == SessionStatus.CANCELLED


# The order sessions are listed in, everywhere: by day, by time, then by activity.
SESSION_ORDER = (ActivitySession.on_date, ActivitySession.start_time, ActivitySession.activity_id)


def sessions_query(locale: str, with_attendance: bool = True) -> Select:
    query = (
        select(
            ActivitySession,
            activity_text_column("name", locale),
            activity_text_column("description", locale),
            activity_locale_column(locale),
            Activity.kind,
            Site.name.label("site_name"),
            Activity.languages,
            Activity.needs_registration,
            Activity.partner_name,
        )
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .join(Site, Site.id == ActivitySession.site_id)
        .where(Activity.is_active)
        .order_by(*SESSION_ORDER)
    )
    # Whether attendance is recorded shows on the Today screen: one query, not one a row.
    # Visitors never see it, so the public programme does not read it.
    return query.options(selectinload(ActivitySession.attendance)) if with_attendance else query


def sessions_between(
    site_ids_: list[int],
    first: date,
    last: date,
    locale: str,
    per_site: int | None = None,
    *,
    with_attendance: bool = True,
) -> list[SessionRow]:
    """Sessions of `site_ids_` from `first` to `last` (cancelled ones too), named in `locale`.
    With `per_site`, only each site's first `per_site` of them: the database numbers every
    site's sessions in the order they are listed (ROW_NUMBER, SQLite 3.25+ and PostgreSQL),
    so names and attendance are read for the rows shown only, in the same two statements.
    Without `with_attendance` (the public programme) attendance is not read: one statement."""
    if not site_ids_:
        return []
    within = (
        ActivitySession.site_id.in_(site_ids_),
        ActivitySession.on_date >= first,
        ActivitySession.on_date <= last,
    )
    query = sessions_query(locale, with_attendance).where(*within)
    if per_site is not None:
        numbered = (
            select(
                ActivitySession.id,
                func.row_number()
                .over(partition_by=ActivitySession.site_id, order_by=SESSION_ORDER)
                .label("place"),
            )
            .join(Activity, Activity.id == ActivitySession.activity_id)
            .where(Activity.is_active, *within)  # an inactive activity's session takes no place
            .subquery()
        )
        query = query.join(numbered, numbered.c.id == ActivitySession.id).where(
            numbered.c.place <= per_site
        )
    return [SessionRow(*row) for row in db.session.execute(query)]


def session_for_user(user: User, session_id: int) -> ActivitySession:
    """A session at one of the user's sites, or 404."""
    return one_or_404(
        select(ActivitySession).where(
            ActivitySession.id == session_id, ActivitySession.site_id.in_(site_ids(user))
        )
    )


def activity_for_user(user: User, activity_id: int) -> Activity:
    return one_or_404(
        select(Activity).where(Activity.id == activity_id, Activity.site_id.in_(site_ids(user)))
    )


def activities_query(user: User) -> Select:
    """The activities of the user's sites, the active ones first, for a paginated list."""
    return (
        select(Activity)
        .where(Activity.site_id.in_(site_ids(user)))
        .order_by(Activity.is_active.desc(), Activity.site_id, Activity.id)
    )


def room_key(room: str) -> str:
    return " ".join((room or "").split()).casefold()


def clashes(
    site_id: int,
    room: str,
    slots: list[tuple[date, time, time]],
    *,
    except_activity: int | None = None,
    except_session: int | None = None,
) -> list[ActivitySession]:
    """Planned sessions of other activities in the same room of the site whose time overlaps
    one of `slots` (day, start, end). One query over the slots' date range."""
    if not slots:
        return []
    days = {day for day, _start, _end in slots}
    query = select(ActivitySession).where(
        ActivitySession.site_id == site_id,
        ActivitySession.status == SessionStatus.SCHEDULED,
        ActivitySession.on_date >= min(days),
        ActivitySession.on_date <= max(days),
    )
    if except_activity is not None:
        query = query.where(ActivitySession.activity_id != except_activity)
    if except_session is not None:
        query = query.where(ActivitySession.id != except_session)
    wanted = room_key(room)
    by_day: dict[date, list[tuple[time, time]]] = {}
    for day, start, end in slots:
        by_day.setdefault(day, []).append((start, end))
    found = []
    for other in db.session.scalars(query):
        if room_key(other.room) != wanted:
            continue
        for start, end in by_day.get(other.on_date, ()):
            if start < other.end_time and other.start_time < end:
                found.append(other)
                break
    return found


@dataclass(frozen=True)
class Headcount:
    adults: int = 0
    children: int = 0
    groups: int = 0


def visits_counted(session_ids: list[int]) -> dict[int, Headcount]:
    """Per session, the visits counted as attending it: summed in SQL, one query."""
    if not session_ids:
        return {}
    rows = db.session.execute(
        select(
            Visit.session_id,
            func.sum(Visit.women + Visit.men + Visit.other_adults),
            func.sum(Visit.children_0_1 + Visit.children_1_3 + Visit.children_3_6),
            func.count(),
        )
        .where(Visit.session_id.in_(session_ids))
        .group_by(Visit.session_id)
    )
    return {sid: Headcount(int(a or 0), int(c or 0), int(g)) for sid, a, c, g in rows}


def visits_of_the_day(session: ActivitySession, user: User, limit: int = 25) -> list[Visit]:
    """The groups `user` recorded today at the session's site, on its day, counted to it or to
    no session yet, newest first: what they tap to count a group as attending (only the one who
    recorded a visit changes it, on the day, as with editing one)."""
    return list(
        db.session.scalars(
            select(Visit)
            .where(
                Visit.site_id == session.site_id,
                Visit.visit_date == session.on_date,
                Visit.recorded_by_id == user.id,
                Visit.created_at >= local_day_start_utc(local_today()),
                (Visit.session_id.is_(None)) | (Visit.session_id == session.id),
            )
            .order_by(Visit.created_at.desc(), Visit.id.desc())
            .limit(limit)
        )
    )
