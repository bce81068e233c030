"""(area: programme) A site's programme as a calendar a visitor subscribes to on her phone:
RFC 5545 built with the icalendar library, times on Sweden's wall clock with the zone's
VTIMEZONE, one VEVENT per session whose UID stays the same when the session is moved or
cancelled, so a calendar updates the event instead of adding a second one."""

from datetime import UTC, date, time, timedelta

from flask_babel import gettext as _
from icalendar import Calendar, Event

from ..models import Site
from .queries import SessionRow
from .schedule import local_moment
from .weekly import Programme, change_note, languages_note

PRODID = "-//Bro//Programme//SV"
REFRESH = timedelta(hours=12)


def session_uid(row: SessionRow, host: str) -> str:
    return f"session-{row.session.id}@{host}"


def describe(row: SessionRow, kind: str, page_url: str) -> str:
    lines = [change_note(row), kind, row.description.strip(), languages_note(row)]
    if row.needs_registration:
        lines.append(_("Anmälan behövs. Fråga personalen."))
    lines.append(page_url)
    return "\n\n".join(line for line in lines if line)


def calendar(
    site: Site,
    programme: Programme,
    *,
    host: str,
    page_url: str,
    first: date,
    last: date,
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    name = _("%(site)s: program", site=site.name)
    cal.add("name", name)  # RFC 7986
    cal.add("x-wr-calname", name)  # what most calendar apps read
    cal.add("x-wr-timezone", "Europe/Stockholm")
    cal.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT12H")
    cal.add("url", page_url)
    location = ", ".join(part for part in (site.name, site.address) if part)
    for week in programme.weeks:
        for day in week.days:
            for row in day.sessions:
                cal.add_component(event(row, programme, location, host, page_url))
    # The zone's rules for the feed's dates only: a VTIMEZONE of a few lines, not 70 years.
    cal.add_missing_timezones(first_date=first - timedelta(days=1), last_date=last)
    return cal.to_ical()


def event(row: SessionRow, programme: Programme, location: str, host: str, page_url: str) -> Event:
    session = row.session
    kind = programme.labels.get(row.kind, row.kind)
    summary = row.name or kind
    if row.cancelled:
        summary = _("Inställd: %(name)s", name=summary)
    item = Event()
    item.add("uid", session_uid(row, host))
    changed = session.updated_at
    stamp = changed.replace(tzinfo=UTC) if changed else local_moment(session.on_date, time())
    item.add("dtstamp", stamp)
    item.add("last-modified", stamp)
    item.add("dtstart", local_moment(session.on_date, session.start_time))
    item.add("dtend", local_moment(session.on_date, session.end_time))
    item.add("summary", summary)
    item.add("description", describe(row, kind, page_url))
    item.add("location", location)
    item.add("status", "CANCELLED" if row.cancelled else "CONFIRMED")
    item.add("transp", "TRANSPARENT")  # an open activity: the visitor is not "busy"
    item.add("url", page_url)
    return item
