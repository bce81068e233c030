"""(area: programme) A schedule in words, in the reader's language: "Varje vecka: tisdag och
torsdag, 10:00–12:00, från 2 mars 2026 till 30 juni 2026"."""

from babel.lists import format_list
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from ..models import ActivitySchedule
from .forms import NTH_CHOICES, WEEKDAY_CHOICES
from .schedule import Pattern, parse_rule


def describe(schedule: ActivitySchedule) -> str:
    pattern, weekdays, nth = parse_rule(schedule.rule)
    day_names = dict(WEEKDAY_CHOICES)
    days = format_list([str(day_names[str(d)]) for d in weekdays], locale=get_locale())
    if pattern == Pattern.MONTHLY:
        how = _("Den %(nth)s %(days)s i månaden", nth=dict(NTH_CHOICES)[str(nth)], days=days)
    elif pattern == Pattern.BIWEEKLY:
        how = _("Varannan vecka: %(days)s", days=days)
    else:
        how = _("Varje vecka: %(days)s", days=days)
    return _(
        "%(how)s, %(start)s–%(end)s, från %(first)s till %(last)s",
        how=how,
        start=schedule.start_time.strftime("%H:%M"),
        end=schedule.end_time.strftime("%H:%M"),
        first=format_date(schedule.starts_on, "d MMMM y"),
        last=format_date(schedule.ends_on, "d MMMM y"),
    )
