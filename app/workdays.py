"""Working days in Sweden: weekends and Swedish holidays (the `holidays` library) are not."""

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

STOCKHOLM = ZoneInfo("Europe/Stockholm")


@cache
def _swedish_holidays(year: int) -> holidays.HolidayBase:
    # Public holidays plus the de facto ones municipal offices close on (Midsummer Eve,
    # Christmas Eve, New Year's Eve). The library also lists every Sunday; harmless here.
    return holidays.country_holidays("SE", years=year, categories=("public", "de_facto"))


@cache
def _public_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(
        "SE", years=year, categories=("public", "de_facto"), include_sundays=False
    )


def is_public_holiday(day: date) -> bool:
    """A Swedish public holiday or one of the eves offices close on; an ordinary Sunday is not."""
    return day in _public_holidays(day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _swedish_holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself is not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def local_today() -> date:
    """Today in Sweden, whatever the server's clock zone."""
    return datetime.now(UTC).astimezone(STOCKHOLM).date()
