"""(area: info) Opening hours per weekday, of a site and of a service: one shape, one parser
for what an admin types, one way to show them.

Stored (Site.weekly_hours, Service.weekly_hours) as a list of [weekday, opens, closes], weekday
1 = Monday to 7 = Sunday (ISO), times "HH:MM" on a 24-hour clock, sorted. None means nobody
has given the hours, and pages say nothing rather than calling the place closed; once hours
are given, a day without any is shown as closed.

An admin types one day at a time: "9–12", "09:00-12:00" or "9.00–12.00, 13–16".
"""

import re
from dataclasses import dataclass

from babel.dates import get_day_names

from ..i18n import current_locale

WEEKDAYS = range(1, 8)
MAX_PERIODS = 3  # a morning, an afternoon and an evening: more is a typing mistake
TIME = r"([01]?\d|2[0-4])(?:[:.]([0-5]\d))?"
PERIOD_RE = re.compile(rf"^{TIME}\s*[-–—]\s*{TIME}$")


class HoursError(ValueError):
    """A day's hours an admin typed that cannot be read; `code` names the problem."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _clock(hours: str, minutes: str | None) -> str:
    value = f"{int(hours):02d}:{minutes or '00'}"
    if value > "24:00":
        raise HoursError("format")
    return value


def parse_day(text: str) -> list[tuple[str, str]]:
    """The periods of one day typed by an admin, as ("HH:MM", "HH:MM") in order; [] for an
    empty field (closed). Raises HoursError("format" | "order" | "overlap" | "many")."""
    periods = []
    for part in filter(None, (p.strip() for p in re.split(r"[,;]", text or ""))):
        match = PERIOD_RE.match(part)
        if not match:
            raise HoursError("format")
        opens, closes = _clock(*match.group(1, 2)), _clock(*match.group(3, 4))
        if closes <= opens:
            raise HoursError("order")
        periods.append((opens, closes))
    periods.sort()
    if len(periods) > MAX_PERIODS:
        raise HoursError("many")
    if any(b[0] < a[1] for a, b in zip(periods, periods[1:], strict=False)):
        raise HoursError("overlap")
    return periods


def format_day(periods: list[tuple[str, str]]) -> str:
    """One day's periods as an admin types them again: "09:00–12:00, 13:00–16:00"."""
    return ", ".join(f"{opens}–{closes}" for opens, closes in periods)


def from_days(days: dict[int, list[tuple[str, str]]]) -> list[list] | None:
    """The stored shape of a week typed day by day; None when no day has hours."""
    stored = [[day, o, c] for day in WEEKDAYS for o, c in days.get(day, [])]
    return stored or None


def by_day(weekly_hours: list | None) -> dict[int, list[tuple[str, str]]]:
    """The stored shape as weekday -> its periods (every weekday, [] when closed)."""
    days: dict[int, list[tuple[str, str]]] = {day: [] for day in WEEKDAYS}
    for day, opens, closes in weekly_hours or []:
        if day in days:
            days[day].append((opens, closes))
    return days


def is_valid(weekly_hours) -> bool:
    """Whether a value (from an import) has the stored shape and reads back to itself."""
    if weekly_hours is None:
        return True
    if not isinstance(weekly_hours, list) or not all(
        isinstance(row, list)
        and len(row) == 3
        and type(row[0]) is int
        and all(isinstance(t, str) for t in row[1:])
        for row in weekly_hours
    ):
        return False
    try:
        days = {
            day: parse_day(format_day(periods)) for day, periods in by_day(weekly_hours).items()
        }
    except HoursError:
        return False
    return from_days(days) == (weekly_hours or None)


@dataclass(frozen=True)
class DayRow:
    weekday: int
    name: str  # the weekday's name in the reader's language
    periods: str  # "09:00–12:00, 13:00–16:00", or "" when closed


def week_rows(
    weekly_hours: list | None, locale: str | None = None, width: str = "wide"
) -> list[DayRow]:
    """Monday to Sunday (the Swedish week), days named in full or ("abbreviated") short in
    `locale`, by default the language being rendered (a visitor's part of a staff page is in
    hers); [] when no hours are given. Times stay on the 24-hour clock of the place's own
    signs and timetables."""
    if not weekly_hours:
        return []
    names = get_day_names(width, locale=(locale or current_locale()).replace("-", "_"))
    return [
        DayRow(day, names[day - 1], format_day(periods))
        for day, periods in by_day(weekly_hours).items()
    ]


def week_spans(
    weekly_hours: list | None, locale: str | None = None, width: str = "wide"
) -> list[DayRow]:
    """`week_rows` with days in a row that keep the same hours joined ("Monday–Friday"), so a
    week reads in two or three lines rather than seven, on the screen and on the handout."""
    spans: list[tuple[DayRow, DayRow]] = []
    for row in week_rows(weekly_hours, locale, width):
        if spans and spans[-1][1].periods == row.periods:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return [
        DayRow(
            first.weekday,
            first.name if first is last else f"{first.name}–{last.name}",
            first.periods,
        )
        for first, last in spans
    ]
