"""Reporting periods: what the dashboard's period field means in dates, and trend buckets."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

MAX_YEARS = 5
# The dates a period may name. Python's calendar ends at 9999-12-31, and a period's end and
# the links to the next and previous periods are computed from the date typed: a bound far
# inside the calendar keeps that arithmetic in range (and no open preschool counted before).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


class Bucket(StrEnum):
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    @property
    def slug(self) -> str:
        return f"{self.start.isoformat()}--{self.end.isoformat()}"

    def shifted(self, steps: int) -> "Period":
        """The same kind of period `steps` earlier (negative) or later; custom keeps its length."""
        if self.kind is PeriodKind.CUSTOM:
            length = (self.end - self.start).days + 1
            start = self.start + timedelta(days=length * steps)
            return Period(self.kind, start, start + timedelta(days=length - 1))
        if self.kind is PeriodKind.WEEK:
            return preset(self.kind, self.start + timedelta(weeks=steps))
        months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[self.kind]
        return preset(self.kind, add_months(self.start, months * steps))


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def preset(kind: PeriodKind, anchor: date) -> Period:
    """The week (Monday to Sunday), month, quarter or year that contains `anchor`."""
    if kind is PeriodKind.WEEK:
        start = anchor - timedelta(days=anchor.weekday())
        return Period(kind, start, start + timedelta(days=6))
    if kind is PeriodKind.MONTH:
        start = anchor.replace(day=1)
        return Period(kind, start, add_months(start, 1) - timedelta(days=1))
    if kind is PeriodKind.QUARTER:
        start = date(anchor.year, (anchor.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, start, add_months(start, 3) - timedelta(days=1))
    if kind is PeriodKind.YEAR:
        return Period(kind, date(anchor.year, 1, 1), date(anchor.year, 12, 31))
    raise ValueError(kind)


def too_long(start: date, end: date) -> bool:
    """More than five years from start to end (a leap day start counts from 1 March)."""
    try:
        limit = start.replace(year=start.year + MAX_YEARS)
    except ValueError:  # 29 February
        limit = date(start.year + MAX_YEARS, 3, 1)
    return end >= limit


def default_bucket(period: Period) -> Bucket:
    """Weeks for up to a quarter, months beyond: a trend of about 5 to 60 bars."""
    return Bucket.WEEK if (period.end - period.start).days <= 92 else Bucket.MONTH
