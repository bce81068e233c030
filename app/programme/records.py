"""(area: programme) Writes of the programme, each in the caller's one transaction (the view
commits once): an activity and its texts, a schedule and the sessions written out from it, a
session cancelled, moved or restored, attendance, a visit counted as attending, an outreach
contact. Every change by staff is audited; none holds anything that names a person."""

from dataclasses import dataclass
from datetime import date, time

from flask_babel import format_date, format_time
from flask_babel import gettext as _
from sqlalchemy import delete, select

from .. import audit
from ..choices import SessionStatus, TranslationStatus
from ..extensions import db
from ..i18n import DEFAULT_LOCALE
from ..models import (
    Activity,
    ActivityKindRow,
    ActivitySchedule,
    ActivitySession,
    ActivityTranslation,
    AttendanceLanguage,
    InformationContact,
    SessionAttendance,
    Site,
    User,
    Visit,
)
from ..workdays import local_today
from .forms import COUNT_FIELDS
from .queries import clashes
from .schedule import MAX_SESSIONS, build_rule, occurrences


class Refused(Exception):
    """A change that breaks a rule only the database can check (a clash, too many dates): the
    view shows `message` beside `field` and stores nothing."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def clash_refusal(other: ActivitySession) -> Refused:
    """The message for a clash names the other session, so staff know what to move."""
    name = next((t.name for t in other.activity.translations if t.locale == DEFAULT_LOCALE), "")
    return Refused(
        "start_time",
        _(
            "Lokalen är redan bokad då: %(name)s, %(day)s kl. %(start)s–%(end)s.",
            name=name,
            day=format_date(other.on_date, "EEEE d MMMM"),
            start=format_time(other.start_time, "HH:mm"),
            end=format_time(other.end_time, "HH:mm"),
        ),
    )


def set_text(activity: Activity, locale: str, name: str, description: str, reviewed: bool) -> None:
    row = next((t for t in activity.translations if t.locale == locale), None)
    if row is None:
        row = ActivityTranslation(locale=locale, name=name)
        activity.translations.append(row)
    row.name = name
    row.description = description or ""
    row.status = TranslationStatus.REVIEWED if reviewed else TranslationStatus.DRAFT


def apply_form(activity: Activity, form) -> None:
    activity.site_id = form.site_id.data
    activity.kind = form.kind.data
    activity.service_id = form.service_id.data or None
    activity.partner_name = (form.partner_name.data or "").strip()
    activity.languages = list(form.languages.data or [])
    activity.room = " ".join((form.room.data or "").split())
    activity.capacity = form.capacity.data
    activity.needs_registration = bool(form.needs_registration.data)
    activity.is_active = bool(form.is_active.data)
    # The Swedish text is the source: written by the admin, so reviewed.
    set_text(activity, DEFAULT_LOCALE, form.name.data, form.description.data, True)


def add_activity(organisation_id: int, form) -> Activity:
    activity = Activity(organisation_id=organisation_id)
    apply_form(activity, form)
    activity.is_active = True  # the new form does not ask: an activity starts out running
    db.session.add(activity)
    db.session.flush()
    audit.record("activity.create", "activity", activity.id, site_id=activity.site_id)
    return activity


def update_activity(activity: Activity, form) -> None:
    moved_site = activity.site_id != form.site_id.data
    if moved_site and db.session.scalar(
        select(ActivitySession.id).where(ActivitySession.activity_id == activity.id).limit(1)
    ):
        raise Refused(
            "site_id",
            _("Aktiviteten har redan tillfällen. Skapa en ny aktivitet för den andra förskolan."),
        )
    apply_form(activity, form)
    audit.record("activity.update", "activity", activity.id, site_id=activity.site_id)


def add_kind(organisation_id: int, name: str) -> ActivityKindRow:
    taken = set(
        db.session.scalars(
            select(ActivityKindRow.code).where(ActivityKindRow.organisation_id == organisation_id)
        )
    )
    number = len(taken) + 1
    while f"custom_{number}" in taken:
        number += 1
    row = ActivityKindRow(
        organisation_id=organisation_id, code=f"custom_{number}", names={DEFAULT_LOCALE: name}
    )
    db.session.add(row)
    db.session.flush()
    audit.record("activity_kind.create", "activity_kind", row.id)
    return row


@dataclass(frozen=True)
class Slot:
    on_date: date
    start_time: time
    end_time: time


def planned_slots(form) -> list[Slot]:
    """The sessions a validated schedule form asks for."""
    if form.is_once:
        days = [form.starts_on.data]
    else:
        rule = build_rule(form.pattern.data, form.weekday_numbers(), int(form.nth.data))
        days = occurrences(rule, form.starts_on.data, form.ends_on.data, form.skip_holidays.data)
    return [Slot(day, form.start_time.data, form.end_time.data) for day in days]


def add_schedule(activity: Activity, form) -> list[ActivitySession]:
    """A schedule and its sessions, or `Refused` (nothing stored) when its rule gives no date,
    too many, or a session that clashes with another activity in the same room."""
    slots = planned_slots(form)
    if not slots:
        raise Refused(
            "weekdays", _("Schemat ger inga datum mellan första och sista dagen. Ändra dagarna.")
        )
    if len(slots) > MAX_SESSIONS:
        raise Refused(
            "ends_on",
            _(
                "Schemat ger fler än %(max)s tillfällen. Välj en tidigare sista dag.",
                max=MAX_SESSIONS,
            ),
        )
    clash = clashes(
        activity.site_id,
        activity.room,
        [(s.on_date, s.start_time, s.end_time) for s in slots],
        except_activity=activity.id,
    )
    if clash:
        raise clash_refusal(clash[0])
    schedule = None
    if not form.is_once:
        schedule = ActivitySchedule(
            rule=build_rule(form.pattern.data, form.weekday_numbers(), int(form.nth.data)),
            starts_on=form.starts_on.data,
            ends_on=form.ends_on.data,
            start_time=form.start_time.data,
            end_time=form.end_time.data,
            skip_holidays=bool(form.skip_holidays.data),
        )
        activity.schedules.append(schedule)
        db.session.flush()
    existing = set(
        db.session.execute(
            select(ActivitySession.on_date, ActivitySession.start_time).where(
                ActivitySession.activity_id == activity.id
            )
        ).all()
    )
    sessions = [
        ActivitySession(
            organisation_id=activity.organisation_id,
            site_id=activity.site_id,
            activity_id=activity.id,
            schedule_id=schedule.id if schedule else None,
            on_date=slot.on_date,
            start_time=slot.start_time,
            end_time=slot.end_time,
            room=activity.room,
        )
        for slot in slots
        if (slot.on_date, slot.start_time) not in existing
    ]
    db.session.add_all(sessions)
    audit.record(
        "activity.schedule",
        "activity",
        activity.id,
        site_id=activity.site_id,
        sessions=len(sessions),
    )
    return sessions


def remove_schedule(schedule: ActivitySchedule) -> int:
    """End a schedule from today: its coming sessions without attendance go; held ones stay."""
    today = local_today()
    recorded = select(SessionAttendance.session_id)
    result = db.session.execute(
        delete(ActivitySession)
        .where(
            ActivitySession.schedule_id == schedule.id,
            ActivitySession.on_date >= today,
            ActivitySession.id.not_in(recorded),
        )
        .execution_options(synchronize_session=False)
    )
    audit.record("activity.unschedule", "activity", schedule.activity_id, removed=result.rowcount)
    db.session.delete(schedule)
    return result.rowcount


def cancel(session: ActivitySession, reason: str) -> None:
    session.status = SessionStatus.CANCELLED
    session.change_reason = reason
    audit.record("session.cancel", "activity_session", session.id, site_id=session.site_id)


def restore(session: ActivitySession) -> None:
    clash = clashes(
        session.site_id,
        session.room,
        [(session.on_date, session.start_time, session.end_time)],
        except_session=session.id,
    )
    if clash:
        raise clash_refusal(clash[0])
    session.status = SessionStatus.SCHEDULED
    session.change_reason = None if session.moved_from is None else session.change_reason
    audit.record("session.restore", "activity_session", session.id, site_id=session.site_id)


def move(session: ActivitySession, on_date: date, start: time, end: time, reason: str) -> None:
    clash = clashes(
        session.site_id, session.room, [(on_date, start, end)], except_session=session.id
    )
    if clash:
        raise clash_refusal(clash[0])
    if session.moved_from is None and on_date != session.on_date:
        session.moved_from = session.on_date
    session.on_date = on_date
    session.start_time = start
    session.end_time = end
    session.change_reason = reason
    session.status = SessionStatus.SCHEDULED
    audit.record("session.move", "activity_session", session.id, site_id=session.site_id)


def attendance_refusal(session: ActivitySession) -> str | None:
    """Why attendance cannot be recorded for `session` (a translated sentence), or None."""
    if session.status == SessionStatus.CANCELLED:
        return _("Tillfället är inställt. Närvaro kan inte registreras.")
    if session.on_date > local_today():
        return _("Tillfället har inte varit än. Registrera närvaron samma dag eller senare.")
    return None


def record_attendance(session: ActivitySession, form, *, by: User) -> SessionAttendance:
    """Set a session's attendance from a validated form (a second save corrects the first)."""
    row = session.attendance
    if row is None:
        row = SessionAttendance(session_id=session.id)
        session.attendance = row
    for name in (*COUNT_FIELDS, "new_people", "conversations"):
        setattr(row, name, getattr(form, name).data or 0)
    row.recorded_by_id = by.id
    wanted = set(form.languages.data or ())
    for language in list(row.languages):
        if language.code not in wanted:
            row.languages.remove(language)
    have = {language.code for language in row.languages}
    for code in sorted(wanted - have):
        row.languages.append(AttendanceLanguage(code=code))
    audit.record("session.attendance", "activity_session", session.id, site_id=session.site_id)
    return row


def count_visit(visit: Visit, session: ActivitySession | None) -> None:
    """Count a visit as attending `session` (or no session): same site and day only."""
    if session is not None and (
        session.site_id != visit.site_id
        or session.on_date != visit.visit_date
        or session.status == SessionStatus.CANCELLED
    ):
        raise Refused(
            "session_id", _("Besöket och tillfället är inte samma dag på samma förskola.")
        )
    visit.session_id = session.id if session else None


def add_contact(site: Site, form, *, by: User) -> InformationContact:
    contact = InformationContact(
        site_id=site.id,
        on_date=form.on_date.data,
        place=form.place.data,
        people=form.people.data,
        languages=list(form.languages.data or []),
        recorded_by_id=by.id,
    )
    db.session.add(contact)
    db.session.flush()
    audit.record("outreach.create", "information_contact", contact.id, site_id=site.id)
    return contact
