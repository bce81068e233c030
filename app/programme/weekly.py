"""(area: programme) The visitors' weeks: the sessions of some sites between two days, named
in the reader's language, grouped per site, per week (Monday to Sunday) and per day. One
query for the sessions of every site, one for the kinds' names, whatever the number of
sessions: the public programme, a site's page and the poster all read them here. The index
of every site's programme reads only each site's next few (`next_sessions`)."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from babel.lists import format_list
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from .. import languages
from ..choices import SessionChange, SessionStatus
from ..i18n import current_locale
from ..models import Site
from ..workdays import local_today
from .queries import SessionRow, kind_labels, sessions_between

WEEKS_SHOWN = 2  # this week and next on the public pages
NEXT_SHOWN = 3  # a site's next sessions on the index of every site's programme
FEED_WEEKS = 8  # the calendar feed: from this week's Monday, eight weeks


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Day:
    on: date
    sessions: tuple[SessionRow, ...]


@dataclass(frozen=True)
class Week:
    first: date  # its Monday
    days: tuple[Day, ...]  # only the days with a session

    @property
    def last(self) -> date:
        return self.first + timedelta(days=6)

    @property
    def number(self) -> int:
        return self.first.isocalendar().week

    @property
    def size(self) -> int:
        return sum(len(day.sessions) for day in self.days)


@dataclass(frozen=True)
class Programme:
    site: Site
    weeks: tuple[Week, ...]
    labels: dict[str, str]  # kind code -> its name in the reader's language
    today: date

    @property
    def days(self) -> tuple[Day, ...]:
        """Every day with a session, across the weeks."""
        return tuple(day for week in self.weeks for day in week.days)

    @property
    def is_empty(self) -> bool:
        return not any(week.days for week in self.weeks)

    def has_fallback(self, locale: str) -> bool:
        """Whether a session's text is shown in Swedish for want of one in `locale`."""
        return any(
            row.text_locale != locale
            for week in self.weeks
            for day in week.days
            for row in day.sessions
        )


def change_note(row: SessionRow) -> str:
    """Why a session was cancelled or moved, in the reader's language ("" when it was not)."""
    session = row.session
    reason = change_reason(row)
    if row.cancelled:
        status = SessionStatus.CANCELLED.label
        return _("Inställd. Skäl: %(reason)s", reason=reason) if reason else status
    if session.moved_from is not None:
        moved = _("Flyttad från %(day)s", day=format_date(session.moved_from, "EEEE d MMMM"))
        return f"{moved}. {_('Skäl: %(reason)s', reason=reason)}" if reason else moved
    return ""


def change_reason(row: SessionRow) -> str:
    """The coded reason's label; a code no longer in the list shows as "Annat skäl"."""
    code = row.session.change_reason
    if not code:
        return ""
    known = {c.value for c in SessionChange}
    return SessionChange(code if code in known else SessionChange.OTHER).label


def languages_note(row: SessionRow) -> str:
    if not row.languages:
        return ""
    return _languages_note(tuple(row.languages), current_locale())


@lru_cache(maxsize=512)
def _languages_note(codes: tuple[str, ...], locale: str) -> str:
    """Each set of languages named once per UI language: a week repeats the same few."""
    names = [languages.name(code, locale) for code in codes]
    return _("Språk: %(languages)s", languages=format_list(names, locale=get_locale()))


def group_weeks(rows: list[SessionRow], first_monday: date, weeks: int) -> tuple[Week, ...]:
    by_day: dict[date, list[SessionRow]] = defaultdict(list)
    for row in rows:
        by_day[row.session.on_date].append(row)
    found = []
    for n in range(weeks):
        monday = first_monday + timedelta(weeks=n)
        days = (monday + timedelta(days=i) for i in range(7))
        found.append(Week(monday, tuple(Day(d, tuple(by_day[d])) for d in days if by_day.get(d))))
    return tuple(found)


def programmes(
    sites: list[Site], locale: str, first: date, last: date, per_site: int | None = None
) -> list[Programme]:
    """Each site's sessions from `first` to `last` (cancelled ones too, so visitors see them),
    or only its first `per_site` of them, in weeks from the Monday of `first`; in the order
    of `sites`. For visitors: the sessions' attendance is not read."""
    if not sites:
        return []
    labels = kind_labels(sites[0].organisation_id, locale)
    rows = sessions_between(
        [s.id for s in sites], first, last, locale, per_site, with_attendance=False
    )
    per_site: dict[int, list[SessionRow]] = defaultdict(list)
    for row in rows:
        per_site[row.session.site_id].append(row)
    monday = monday_of(first)
    weeks = (monday_of(last) - monday).days // 7 + 1
    today = local_today()
    return [
        Programme(site, group_weeks(per_site[site.id], monday, weeks), labels, today)
        for site in sites
    ]


def coming_weeks(
    sites: list[Site], locale: str, weeks: int = WEEKS_SHOWN, per_site: int | None = None
) -> list[Programme]:
    """From today to the Sunday `weeks` weeks on: what a visitor can still come to (at most
    `per_site` sessions of each site, the first ones)."""
    today = local_today()
    last = monday_of(today) + timedelta(weeks=weeks, days=-1)
    return programmes(sites, locale, today, last, per_site)


def next_sessions(sites: list[Site], locale: str, count: int = NEXT_SHOWN) -> list[Programme]:
    """Each site's next `count` sessions, today's included, within this week and next: the
    index of every site's programme, light on a phone; a site's own page shows them all."""
    return coming_weeks(sites, locale, per_site=count)


def one_week(site: Site, locale: str, monday: date) -> Programme:
    """The whole week from `monday` (the poster: a week on the wall, Monday to Sunday)."""
    return programmes([site], locale, monday, monday + timedelta(days=6))[0]
