"""(area: programme) The dates of a schedule: an iCalendar recurrence rule (RFC 5545 RRULE)
expanded by python-dateutil on the wall-clock calendar of Sweden, so a session at 10:00 stays
at 10:00 across the change to and from summer time, and Swedish public holidays are skipped
unless the schedule says otherwise.

A rule is made from what an admin picks (every week, every other week, the n:th weekday of the
month) by `build_rule`, stored as text, and read back by `occurrences`."""

from datetime import date, datetime, time
from enum import StrEnum
from itertools import islice

from dateutil.rrule import rrulestr

from ..workdays import STOCKHOLM, is_public_holiday

# Two years of a session every weekday: more from one schedule is a mistyped rule.
MAX_SESSIONS = 520
MAX_YEARS = 2
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # date.weekday() order


class Pattern(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


def build_rule(pattern: str, weekdays: list[int], nth: int | None = None) -> str:
    """The RRULE for `pattern` on `weekdays` (0 = Monday); `nth` (1–4, or -1 for the last)
    picks the week of the month for a monthly rule ("first Tuesday" is nth=1, weekdays=[1])."""
    days = ",".join(WEEKDAYS[d] for d in sorted(set(weekdays)))
    if pattern == Pattern.WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={days}"
    if pattern == Pattern.BIWEEKLY:
        return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={days}"
    if pattern == Pattern.MONTHLY:
        return "FREQ=MONTHLY;BYDAY=" + ",".join(
            f"{nth:+d}{WEEKDAYS[d]}" for d in sorted(set(weekdays))
        )
    raise ValueError(pattern)


def occurrences(
    rule: str, starts_on: date, ends_on: date, skip_holidays: bool = True
) -> list[date]:
    """The dates `rule` gives from `starts_on` to `ends_on`, both included, holidays left out
    when `skip_holidays`; at most MAX_SESSIONS + 1 (one more tells the caller it is too many)."""
    start = datetime.combine(starts_on, time())
    until = datetime.combine(ends_on, time.max)
    recurrence = rrulestr(rule, dtstart=start)
    found: list[date] = []
    # Holidays are skipped after expansion, so look a little further than the cap.
    for moment in islice(recurrence.xafter(start, inc=True), (MAX_SESSIONS + 1) * 2):
        if moment > until:
            break
        day = moment.date()
        if skip_holidays and is_public_holiday(day):
            continue
        found.append(day)
        if len(found) > MAX_SESSIONS:
            break
    return found


def local_moment(day: date, at: time) -> datetime:
    """A session's start or end as an aware datetime in Sweden (for calendar feeds)."""
    return datetime.combine(day, at, tzinfo=STOCKHOLM)


def parse_rule(rule: str) -> tuple[str, list[int], int | None]:
    """(pattern, weekdays, nth) of a rule `build_rule` made: what a form shows again."""
    parts = dict(part.split("=", 1) for part in rule.split(";") if "=" in part)
    days = parts.get("BYDAY", "").split(",") if parts.get("BYDAY") else []
    if parts.get("FREQ") == "MONTHLY":
        nth = int(days[0][:-2]) if days else 1
        return Pattern.MONTHLY.value, [WEEKDAYS.index(d[-2:]) for d in days], nth
    pattern = Pattern.BIWEEKLY if parts.get("INTERVAL") == "2" else Pattern.WEEKLY
    return pattern.value, [WEEKDAYS.index(d) for d in days], None
