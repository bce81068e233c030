"""Sample programme for `flask seed-demo`: at each demo site an open preschool three mornings a
week, SFI at the open preschool (linked to the SFI service), a weekly language café and a
monthly one with a study and careers adviser, a "Föräldraskap i Sverige" group and an
information meeting with Arbetsförmedlingen every other week; texts in every UI language
(`seed/demo_activities.json`, drafts). Schedules run from four weeks back to twelve ahead,
so this week, next week and the calendar feed all have sessions; one coming session is
cancelled and one moved, each with its reason; past sessions have their attendance."""

import json
import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path

from sqlalchemy import select

from ..choices import ActivityKind, SessionChange, SessionStatus, TranslationStatus
from ..extensions import db
from ..i18n import DEFAULT_LOCALE
from ..models import (
    Activity,
    ActivitySchedule,
    ActivitySession,
    ActivityTranslation,
    AttendanceLanguage,
    Organisation,
    Service,
    SessionAttendance,
    Site,
)
from ..workdays import is_working_day, local_today
from .queries import clashes
from .schedule import Pattern, build_rule, occurrences
from .weekly import monday_of

TEXTS = Path(__file__).resolve().parent / "seed" / "demo_activities.json"
SMALL_ROOM = "Lilla rummet"
CAFE = "Caféet"


@dataclass(frozen=True)
class Plan:
    text: str  # key in TEXTS
    kind: ActivityKind
    pattern: Pattern
    weekdays: tuple[int, ...]  # 0 = Monday
    start: time
    end: time
    room: str = ""
    languages: tuple[str, ...] = ("sv",)
    service: str | None = None  # the slug of the service it is linked to
    partner: str = ""
    capacity: int | None = None
    needs_registration: bool = False
    weeks_back: int = 4
    weeks_ahead: int = 12


def plans(shift: int, group_languages: tuple[str, ...]) -> list[Plan]:
    """One site's programme; `shift` moves the weekdays so the two sites differ."""

    def day(n: int) -> int:
        return (n + shift) % 5

    return [
        Plan(
            "open",
            ActivityKind.OPEN_SESSION,
            Pattern.WEEKLY,
            (day(0), day(2), day(4)),
            time(9),
            time(12),
            languages=("sv", *group_languages),
        ),
        Plan(
            "sfi",
            ActivityKind.SFI,
            Pattern.WEEKLY,
            (day(1), day(3)),
            time(13),
            time(15),
            room=SMALL_ROOM,
            service="sfi",
            partner="SFI-skolan",
        ),
        Plan(
            "cafe",
            ActivityKind.LANGUAGE_CAFE,
            Pattern.WEEKLY,
            (day(2),),
            time(13, 30),
            time(15),
            room=CAFE,
        ),
        Plan(
            "adviser",
            ActivityKind.LANGUAGE_CAFE,
            Pattern.MONTHLY,
            (day(3),),
            time(10),
            time(11, 30),
            room=CAFE,
            languages=("sv", "ar", "so"),
            service="guidance",
            partner="Studie- och yrkesvägledningen",
        ),
        Plan(
            "parenting",
            ActivityKind.PARENTING_GROUP,
            Pattern.WEEKLY,
            (day(0),),
            time(13),
            time(15),
            room=SMALL_ROOM,
            languages=group_languages,
            service="parenting",
            capacity=10,
            needs_registration=True,
            weeks_back=2,
            weeks_ahead=8,
        ),
        Plan(
            "employment",
            ActivityKind.INFORMATION_MEETING,
            Pattern.BIWEEKLY,
            (day(3),),
            time(10),
            time(11, 30),
            room=SMALL_ROOM,
            languages=("sv", "ar"),
            service="employment",
            partner="Arbetsförmedlingen",
        ),
    ]


def seed_demo_programme(org: Organisation) -> None:
    texts = json.loads(TEXTS.read_text(encoding="utf-8"))
    services = {
        s.slug: s.id
        for s in db.session.scalars(select(Service).where(Service.organisation_id == org.id))
    }
    today = local_today()
    sites = sorted(org.sites, key=lambda s: s.name)
    planned = {
        (n, plan.text): add_activity(site, plan, texts[plan.text], services)
        for n, site in enumerate(sites)
        for plan in plans(n, (("ar",), ("so", "ti"))[n % 2])
    }
    db.session.flush()  # once for every activity and schedule: their ids, for the sessions
    made = {
        key: (activity, add_sessions(activity, schedule))
        for key, (activity, schedule) in planned.items()
    }
    db.session.flush()
    for n, site in enumerate(sites):
        if n == 0:
            change_one(made[n, "cafe"], today, SessionChange.STAFF_ILLNESS, cancel=True)
        else:
            change_one(made[n, "sfi"], today, SessionChange.ROOM_UNAVAILABLE, cancel=False)
        rng = random.Random(f"programme-{org.slug}-{site.name}")  # noqa: S311 (demo data)
        for (m, _text), (activity, sessions) in made.items():
            for session in sessions if m == n else ():
                if session.on_date < today and session.status == SessionStatus.SCHEDULED:
                    session.attendance = attendance(rng, activity)


def add_activity(
    site: Site, plan: Plan, text: dict, services: dict[str, int]
) -> tuple[Activity, ActivitySchedule]:
    activity = Activity(
        organisation_id=site.organisation_id,
        site_id=site.id,
        kind=plan.kind.value,
        service_id=services.get(plan.service) if plan.service else None,
        partner_name=plan.partner,
        languages=list(plan.languages),
        room=plan.room,
        capacity=plan.capacity,
        needs_registration=plan.needs_registration,
    )
    for locale, (name, description) in text.items():
        status = TranslationStatus.REVIEWED if locale == DEFAULT_LOCALE else TranslationStatus.DRAFT
        activity.translations.append(
            ActivityTranslation(locale=locale, name=name, description=description, status=status)
        )
    monday = monday_of(local_today())
    schedule = ActivitySchedule(
        rule=build_rule(plan.pattern, list(plan.weekdays), monthly_nth(plan, local_today())),
        starts_on=monday - timedelta(weeks=plan.weeks_back),
        ends_on=monday + timedelta(weeks=plan.weeks_ahead, days=-1),
        start_time=plan.start,
        end_time=plan.end,
        skip_holidays=True,
    )
    activity.schedules.append(schedule)
    db.session.add(activity)
    return activity, schedule


def add_sessions(activity: Activity, schedule: ActivitySchedule) -> list[ActivitySession]:
    """The schedule's sessions written out, as `records.add_schedule` does."""
    sessions = [
        ActivitySession(
            organisation_id=activity.organisation_id,
            site_id=activity.site_id,
            activity_id=activity.id,
            schedule_id=schedule.id,
            on_date=day,
            start_time=schedule.start_time,
            end_time=schedule.end_time,
            room=activity.room,
        )
        for day in occurrences(schedule.rule, schedule.starts_on, schedule.ends_on)
    ]
    db.session.add_all(sessions)
    return sessions


def monthly_nth(plan: Plan, today: date) -> int | None:
    """For a monthly plan, the week of the month of its weekday's next working day from today,
    so the demo's monthly session is always in this week's or next week's programme."""
    if plan.pattern != Pattern.MONTHLY:
        return None
    day = today
    while day.weekday() != plan.weekdays[0] or not is_working_day(day):
        day += timedelta(days=1)
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def change_one(
    made: tuple[Activity, list[ActivitySession]], today: date, reason: str, *, cancel: bool
) -> None:
    """Cancel, or move to a later working day of the same week, the activity's first session
    after today, as staff would (`records.cancel` / `records.move`, without a user to audit)."""
    _activity, sessions = made
    coming = [s for s in sessions if s.on_date > today]
    if not coming:
        return
    session = coming[0]
    if cancel:
        session.status = SessionStatus.CANCELLED
        session.change_reason = reason
        return
    for later in range(1, 4):
        day = session.on_date + timedelta(days=later)
        if not is_working_day(day) or clashes(
            session.site_id,
            session.room,
            [(day, session.start_time, session.end_time)],
            except_session=session.id,
        ):
            continue
        session.moved_from = session.on_date
        session.on_date = day
        session.change_reason = reason
        return


def attendance(rng: random.Random, activity: Activity) -> SessionAttendance:
    """Plausible counts: a handful of parents, most of them mothers, children by age band."""
    women = rng.randint(3, 9)
    men = rng.choice((0, 0, 1, 1, 2))
    row = SessionAttendance(
        women=women,
        men=men,
        other_adults=0,
        children_0_1=rng.randint(0, 4),
        children_1_3=rng.randint(1, 6),
        children_3_6=rng.randint(0, 3),
        new_people=rng.choice((0, 0, 1, 1, 2)),
        conversations=rng.randint(1, 4) if activity.kind != ActivityKind.SFI else 0,
    )
    spoken = {"sv", *rng.sample(("ar", "so", "ti", "fa", "uk", "ckb"), 2)}
    spoken.update(code for code in activity.languages if code != "sv")
    row.languages = [AttendanceLanguage(code=code) for code in sorted(spoken)]
    return row
