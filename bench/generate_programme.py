"""The programme part of the benchmark's data set (issue 19), called by bench.generate.

Every site holds about 30 sessions a week in term time: the open preschool every morning and
most afternoons, SFI, language cafés (one with a study and careers adviser on the first
Wednesday of the month), two parenting groups, information meetings every other week and
monthly, a monthly study visit, individual support conversations, a singing time, a study
circle and a kind the organisation added itself (rytmik). In summer only the morning open
preschool runs; between Christmas and the new year nothing does. Each site leaves out a few
of those activities, so sites differ.

Schedules are iCalendar rules per term, expanded by the app's own `occurrences` (holidays
skipped), and written out as session rows like the app writes them. About 3 % of sessions are
cancelled with a coded reason, a few are moved a day; held sessions before today have their
attendance (counts, new adults, conversations, languages). Today always has sessions: on a
day without any (a weekend, a holiday, the Christmas break) each site gets the sessions of its
last ordinary weekday again as one-off sessions, so the Today screen is timed on a working
day's load whatever day the benchmark runs.

Returns the held sessions per site, day and part of the day, so the visit generator can count
some visits as attending one (`Visit.session_id`).
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert

from app.choices import ActivityKind, OutreachPlace, SessionChange, SessionStatus
from app.choices import TranslationStatus as TS
from app.models import (
    Activity,
    ActivityKindRow,
    ActivitySchedule,
    ActivitySession,
    ActivityTranslation,
    AttendanceLanguage,
    InformationContact,
    SessionAttendance,
)
from app.programme.schedule import build_rule, occurrences

from .bulk import write_rows

BATCH = 50_000
CUSTOM_KIND = "custom_1"  # the kind an admin added, as app.programme.records.add_kind codes it
CUSTOM_NAMES = {"sv": "Rytmik", "en": "Music and movement", "ar": "إيقاع وحركة"}
MO, TU, WE, TH, FR = range(5)
WEEK = [MO, TU, WE, TH, FR]

# The translations an activity may have besides Swedish, with the odds that it has one.
TRANSLATED = [("en", 0.8), ("ar", 0.55), ("fa", 0.3), ("uk", 0.3)]
WELCOME = {
    "sv": "Välkommen! Ingen anmälan behövs.",
    "en": "Welcome! No need to sign up.",
    "ar": "أهلًا وسهلًا! لا حاجة إلى التسجيل.",
    "fa": "خوش آمدید! نیازی به ثبت‌نام نیست.",
    "uk": "Ласкаво просимо! Реєстрація не потрібна.",
}
SIGN_UP = {
    "sv": "Anmäl dig till personalen på öppna förskolan.",
    "en": "Sign up with the staff at the open preschool.",
    "ar": "سجّل اسمك لدى العاملين في الروضة المفتوحة.",
    "fa": "نزد کارکنان پیش‌دبستانی باز ثبت‌نام کنید.",
    "uk": "Запишіться у працівників відкритого садка.",
}


@dataclass(frozen=True)
class Template:
    """One activity every site may hold, with its schedule."""

    kind: str
    names: dict[str, str]  # locale -> name; "sv" always
    pattern: str  # app.programme.schedule.Pattern
    weekdays: list[int]
    start: time
    end: time
    room: str = ""
    nth: int | None = None
    service: str | None = None  # a service slug of bench.generate.SERVICES
    partner: str = ""
    capacity: int | None = None
    needs_registration: bool = False
    swedish_only: bool = False  # held in Swedish (SFI): else in the site's main languages
    summer: bool = False  # runs in the summer too
    always: bool = False  # every site holds it


def _t(h: int, m: int = 0) -> time:
    return time(h, m)


TEMPLATES = [
    Template(
        ActivityKind.OPEN_SESSION,
        {
            "sv": "Öppen förskola, förmiddag",
            "en": "Open preschool, morning",
            "ar": "الروضة المفتوحة، صباحًا",
            "fa": "پیش‌دبستانی باز، صبح",
            "uk": "Відкритий садок, ранок",
        },
        "weekly",
        WEEK,
        _t(9),
        _t(12),
        summer=True,
        always=True,
    ),
    Template(
        ActivityKind.OPEN_SESSION,
        {
            "sv": "Öppen förskola, eftermiddag",
            "en": "Open preschool, afternoon",
            "ar": "الروضة المفتوحة، بعد الظهر",
            "fa": "پیش‌دبستانی باز، بعدازظهر",
            "uk": "Відкритий садок, після обіду",
        },
        "weekly",
        [MO, TU, WE, TH],
        _t(13),
        _t(16),
        always=True,
    ),
    Template(
        ActivityKind.SFI,
        {
            "sv": "SFI på öppna förskolan",
            "en": "SFI at the open preschool",
            "ar": "دروس SFI في الروضة المفتوحة",
            "fa": "SFI در پیش‌دبستانی باز",
            "uk": "SFI у відкритому садку",
        },
        "weekly",
        [MO, WE, TH],
        _t(9, 30),
        _t(11, 30),
        room="Studierummet",
        service="sfi",
        partner="SFI-skolan",
        capacity=15,
        needs_registration=True,
        swedish_only=True,
    ),
    Template(
        ActivityKind.LANGUAGE_CAFE,
        {
            "sv": "Språkcafé",
            "en": "Language café",
            "ar": "مقهى اللغة",
            "fa": "کافه زبان",
            "uk": "Мовне кафе",
        },
        "weekly",
        [TU, TH],
        _t(13, 30),
        _t(15),
        room="Köket",
    ),
    Template(
        ActivityKind.LANGUAGE_CAFE,
        {
            "sv": "Språkcafé med studie- och yrkesvägledare",
            "en": "Language café with a study and careers adviser",
            "ar": "مقهى اللغة مع مرشد الدراسة والمهنة",
            "fa": "کافه زبان با مشاور تحصیلی و شغلی",
            "uk": "Мовне кафе з радником з навчання та кар'єри",
        },
        "monthly",
        [WE],
        _t(13, 30),
        _t(15),
        room="Köket",
        nth=1,
        service="studie-och-yrkesvagledning",
    ),
    Template(
        ActivityKind.PARENTING_GROUP,
        {
            "sv": "Föräldraskap i Sverige, grupp 1",
            "en": "Parenting in Sweden, group 1",
            "ar": "التربية في السويد، المجموعة 1",
            "fa": "فرزندپروری در سوئد، گروه ۱",
            "uk": "Батьківство у Швеції, група 1",
        },
        "weekly",
        [TU],
        _t(13),
        _t(15),
        room="Samtalsrummet",
        service="foraldraskap",
        capacity=10,
        needs_registration=True,
    ),
    Template(
        ActivityKind.PARENTING_GROUP,
        {
            "sv": "Föräldraskap i Sverige, grupp 2",
            "en": "Parenting in Sweden, group 2",
            "ar": "التربية في السويد، المجموعة 2",
            "fa": "فرزندپروری در سوئد، گروه ۲",
            "uk": "Батьківство у Швеції, група 2",
        },
        "weekly",
        [TH],
        _t(13),
        _t(15),
        room="Samtalsrummet",
        service="foraldraskap",
        capacity=10,
        needs_registration=True,
    ),
    Template(
        ActivityKind.INFORMATION_MEETING,
        {
            "sv": "Arbetsförmedlingen informerar",
            "en": "The Public Employment Service informs",
            "ar": "مكتب العمل يقدّم معلومات",
            "fa": "اطلاع‌رسانی اداره کار",
            "uk": "Служба зайнятості інформує",
        },
        "biweekly",
        [WE],
        _t(10),
        _t(11),
        room="Samtalsrummet",
        service="arbetsformedlingen",
        partner="Arbetsförmedlingen",
    ),
    Template(
        ActivityKind.INFORMATION_MEETING,
        {
            "sv": "SFI-skolan informerar",
            "en": "The SFI school informs",
            "ar": "مدرسة SFI تقدّم معلومات",
            "fa": "اطلاع‌رسانی مدرسه SFI",
            "uk": "Школа SFI інформує",
        },
        "monthly",
        [FR],
        _t(10),
        _t(11),
        room="Samtalsrummet",
        nth=-1,
        service="sfi",
        partner="SFI-skolan",
    ),
    Template(
        ActivityKind.STUDY_VISIT,
        {
            "sv": "Studiebesök på biblioteket",
            "en": "Visit to the library",
            "ar": "زيارة إلى المكتبة",
            "fa": "بازدید از کتابخانه",
            "uk": "Відвідування бібліотеки",
        },
        "monthly",
        [TU],
        _t(9, 30),
        _t(11, 30),
        room="Biblioteket",
        nth=2,
        capacity=12,
        needs_registration=True,
    ),
    Template(
        ActivityKind.SUPPORT_CONVERSATION,
        {
            "sv": "Enskilda stödsamtal",
            "en": "Individual support conversations",
            "ar": "محادثات دعم فردية",
            "fa": "گفتگوهای حمایتی فردی",
            "uk": "Індивідуальні розмови підтримки",
        },
        "weekly",
        [MO, WE, FR],
        _t(13),
        _t(16),
        room="Samtalsrummet",
    ),
    Template(
        ActivityKind.OTHER,
        {
            "sv": "Sångstund",
            "en": "Singing time",
            "ar": "وقت الغناء",
            "fa": "زمان آواز",
            "uk": "Час співів",
        },
        "weekly",
        WEEK,
        _t(11),
        _t(11, 30),
        room="Rörelserummet",
    ),
    Template(
        CUSTOM_KIND,
        {
            "sv": "Rytmik för de minsta",
            "en": "Music and movement for the youngest",
            "ar": "إيقاع وحركة للصغار",
            "fa": "ریتم و حرکت برای کوچک‌ترها",
            "uk": "Ритміка для найменших",
        },
        "weekly",
        [WE, FR],
        _t(10),
        _t(10, 45),
        room="Rörelserummet",
    ),
    Template(
        ActivityKind.OTHER,
        {
            "sv": "Studiecirkel: svenska i vardagen",
            "en": "Study circle: Swedish in everyday life",
            "ar": "حلقة دراسية: السويدية في الحياة اليومية",
            "fa": "حلقه مطالعه: سوئدی در زندگی روزمره",
            "uk": "Навчальний гурток: шведська в повсякденні",
        },
        "weekly",
        [MO, WE],
        _t(13),
        _t(14, 30),
        room="Studierummet",
        partner="Studieförbundet",
        capacity=12,
        needs_registration=True,
    ),
]

# (lowest adults, highest adults, children per adult, conversations per adult) by kind.
CROWD = {
    ActivityKind.OPEN_SESSION: (5, 18, 1.3, 0.1),
    ActivityKind.SFI: (5, 14, 0.3, 0.0),
    ActivityKind.LANGUAGE_CAFE: (4, 12, 0.6, 0.05),
    ActivityKind.PARENTING_GROUP: (5, 10, 0.4, 0.15),
    ActivityKind.INFORMATION_MEETING: (4, 20, 0.5, 0.05),
    ActivityKind.STUDY_VISIT: (3, 10, 1.2, 0.0),
    ActivityKind.SUPPORT_CONVERSATION: (1, 4, 0.4, 1.0),
    ActivityKind.OTHER: (3, 10, 1.2, 0.0),
    CUSTOM_KIND: (3, 9, 1.4, 0.0),
}
CANCEL_REASONS = [
    (SessionChange.STAFF_ILLNESS, 45),
    (SessionChange.PARTNER_CANCELLED, 20),
    (SessionChange.ROOM_UNAVAILABLE, 12),
    (SessionChange.WEATHER, 8),
    (SessionChange.OTHER, 15),
]
PLACES = [
    (OutreachPlace.SFI_SCHOOL, 30),
    (OutreachPlace.CHILD_HEALTH, 22),
    (OutreachPlace.LIBRARY, 14),
    (OutreachPlace.FAITH_COMMUNITY, 8),
    (OutreachPlace.HOUSING_AREA, 16),
    (OutreachPlace.HOME_VISIT, 4),
    (OutreachPlace.OTHER, 6),
]


def _movable(template: Template) -> set[int]:
    """The weekdays a session of `template` may move from: the next day has no session of
    it, nor of another activity in the same room at an overlapping time."""
    found = set()
    for weekday in template.weekdays:
        if weekday >= TH:
            continue  # moved within the week only
        clash = any(
            other.room == template.room
            and weekday + 1 in other.weekdays
            and other.start < template.end
            and template.start < other.end
            for other in TEMPLATES
        )
        if not clash:
            found.add(weekday)
    return found


MOVABLE = {id(t): _movable(t) for t in TEMPLATES}


def weighted(pairs):
    """(values, cumulative weights) for `pick`."""
    return [v for v, _w in pairs], list(itertools.accumulate(w for _v, w in pairs))


def pick(rng: random.Random, table) -> str:
    values, cumulative = table
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


CANCEL_TABLE = weighted(CANCEL_REASONS)
PLACE_TABLE = weighted(PLACES)


def terms(first: date, last: date) -> list[tuple[date, date, bool]]:
    """(start, end, is_summer) of every term overlapping first..last, cut to first..last:
    spring 8 January to 14 June, summer to 16 August, autumn to 20 December; closed over
    Christmas."""
    found = []
    for year in range(first.year, last.year + 1):
        for start, end, summer in (
            (date(year, 1, 8), date(year, 6, 14), False),
            (date(year, 6, 15), date(year, 8, 16), True),
            (date(year, 8, 17), date(year, 12, 20), False),
        ):
            if end >= first and start <= last:
                found.append((max(start, first), min(end, last), summer))
    return found


@dataclass
class Held:
    """Held sessions per (site, day): ids of those starting before noon, and after."""

    morning: dict
    afternoon: dict

    def of(self, site_id: int, day: date, morning: bool) -> list[int]:
        return (self.morning if morning else self.afternoon).get((site_id, day), ())


@dataclass
class Buffers:
    sessions: list
    attendance: list
    languages: list

    def flush(self, conn, force: bool = False) -> None:
        if self.sessions and (force or len(self.sessions) >= BATCH):
            write_rows(conn, ActivitySession.__table__, self.sessions)
            write_rows(conn, SessionAttendance.__table__, self.attendance)
            write_rows(conn, AttendanceLanguage.__table__, self.languages)
            self.sessions, self.attendance, self.languages = [], [], []


def insert_programme(engine, rng, plan, world, site_languages, service_ids: dict) -> tuple:
    """Activities, translations, schedules, sessions and attendance; returns (counts, Held)."""
    today = plan.today
    first = today - timedelta(days=plan.programme_days - 1)
    # Planned two months ahead (the public programme shows two weeks, the feed a few more).
    last = today + timedelta(days=60)
    held = Held({}, {})
    counts = {"activities": 0, "schedules": 0, "sessions": 0, "attendance": 0}
    session_ids = itertools.count(1)
    staff = world.staff_by_site
    buffers = Buffers([], [], [])
    conn = engine.connect()
    conn.begin()
    try:
        conn.execute(
            insert(ActivityKindRow.__table__).values(
                organisation_id=world.org_id, code=CUSTOM_KIND, names=CUSTOM_NAMES, is_active=True
            )
        )
        activity_id = schedule_id = 0
        kinds: dict[int, str] = {}
        for site_id in world.site_ids:
            activities, texts, schedules = [], [], []
            codes, cumulative = site_languages[site_id]
            # The site's three most spoken languages besides Swedish (its weights' ranking).
            weights = [b - a for a, b in zip([0.0, *cumulative], cumulative, strict=False)]
            main = [c for _w, c in sorted(zip(weights, codes, strict=True), reverse=True)]
            main = [c for c in main if c != "sv"][:3]
            by_day: dict[date, list[dict]] = {}
            for template in TEMPLATES:
                if not template.always and rng.random() < 0.1:
                    continue  # this site does not hold it
                activity_id += 1
                counts["activities"] += 1
                kinds[activity_id] = str(template.kind)
                activities.append(
                    _activity_row(activity_id, world, site_id, template, main, service_ids)
                )
                texts += _texts(rng, activity_id, template)
                rule = build_rule(template.pattern, template.weekdays, template.nth)
                for start, end, summer in terms(first, last):
                    if summer and not template.summer:
                        continue
                    schedule_id += 1
                    counts["schedules"] += 1
                    schedules.append(
                        {
                            "id": schedule_id,
                            "activity_id": activity_id,
                            "rule": rule,
                            "starts_on": start,
                            "ends_on": end,
                            "start_time": template.start,
                            "end_time": template.end,
                            "skip_holidays": True,
                            "created_at": datetime.combine(start - timedelta(days=20), _t(8)),
                        }
                    )
                    for day in occurrences(rule, start, end):
                        row = _session_row(
                            rng,
                            next(session_ids),
                            world,
                            site_id,
                            activity_id,
                            schedule_id,
                            day,
                            template,
                        )
                        by_day.setdefault(row["on_date"], []).append(row)
            if today not in by_day:
                _sessions_for_today(by_day, today, session_ids)
            # The site's activities and schedules before their sessions (foreign keys).
            conn.execute(insert(Activity.__table__), activities)
            conn.execute(insert(ActivityTranslation.__table__), texts)
            if schedules:
                conn.execute(insert(ActivitySchedule.__table__), schedules)
            for day, rows in by_day.items():
                for row in rows:
                    buffers.sessions.append(row)
                    counts["sessions"] += 1
                    if row["status"] == SessionStatus.CANCELLED:
                        continue
                    morning = row["start_time"] < _t(12)
                    (held.morning if morning else held.afternoon).setdefault(
                        (site_id, day), []
                    ).append(row["id"])
                    if day < today and rng.random() < 0.96:  # a few are never recorded
                        counts["attendance"] += 1
                        kind = kinds[row["activity_id"]]
                        _attendance(
                            rng, buffers, row, kind, staff[site_id], site_languages[site_id]
                        )
            buffers.flush(conn)
        buffers.flush(conn, force=True)
        conn.commit()
    finally:
        conn.close()
    return counts, held


def _activity_row(activity_id, world, site_id, template: Template, main, service_ids) -> dict:
    return {
        "id": activity_id,
        "organisation_id": world.org_id,
        "site_id": site_id,
        "kind": str(template.kind),
        "service_id": service_ids.get(template.service),
        "partner_name": template.partner,
        "languages": ["sv"] if template.swedish_only else ["sv", *main],
        "room": template.room,
        "capacity": template.capacity,
        "needs_registration": template.needs_registration,
        "is_active": True,
        "created_at": datetime(2023, 1, 2, 8, 0),
    }


def _texts(rng: random.Random, activity_id: int, template: Template) -> list[dict]:
    """The Swedish name and description, and some translations (most reviewed)."""
    note = SIGN_UP if template.needs_registration else WELCOME
    rows = []
    for locale, odds in [("sv", 1.0), *TRANSLATED]:
        if rng.random() >= odds:
            continue
        rows.append(
            {
                "activity_id": activity_id,
                "locale": locale,
                "name": template.names[locale],
                "description": f"{template.names[locale]}. {note[locale]}",
                "status": TS.REVIEWED if locale == "sv" or rng.random() < 0.8 else TS.DRAFT,
                "updated_at": datetime(2023, 1, 2, 8, 0),
            }
        )
    return rows


def _session_row(rng, session_id, world, site_id, activity_id, schedule_id, day, template) -> dict:
    status, reason, moved_from = SessionStatus.SCHEDULED, None, None
    r = rng.random()
    if r < 0.03:
        status, reason = SessionStatus.CANCELLED, pick(rng, CANCEL_TABLE)
    elif r < 0.035 and day.weekday() in MOVABLE[id(template)]:  # to the next day, with why
        moved_from, day = day, day + timedelta(days=1)
        reason = pick(rng, CANCEL_TABLE)
    return {
        "id": session_id,
        "organisation_id": world.org_id,
        "site_id": site_id,
        "activity_id": activity_id,
        "schedule_id": schedule_id,
        "on_date": day,
        "start_time": template.start,
        "end_time": template.end,
        "room": template.room,
        "status": status,
        "change_reason": reason,
        "moved_from": moved_from,
        "updated_at": datetime.combine(day - timedelta(days=1), _t(15)),
    }


def _sessions_for_today(by_day: dict, today: date, session_ids) -> None:
    """Today without sessions: the nearest ordinary weekday's again, as one-off sessions."""
    for day in sorted(by_day, key=lambda d: (abs((d - today).days), d)):
        rows = [r for r in by_day[day] if r["status"] == SessionStatus.SCHEDULED]
        if len(rows) >= 5:
            by_day[today] = [
                {
                    **row,
                    "id": next(session_ids),
                    "schedule_id": None,
                    "on_date": today,
                    "moved_from": None,
                    "change_reason": None,
                }
                for row in rows
            ]
            return


def _attendance(rng, buffers: Buffers, session: dict, kind: str, staff: list[int], mix) -> None:
    low, high, children_each, talks_each = CROWD[kind]
    adults = rng.randint(low, high)
    women = sum(rng.random() < 0.8 for _ in range(adults))
    men = sum(rng.random() < 0.9 for _ in range(adults - women))
    children = round(adults * children_each * rng.uniform(0.5, 1.5))
    bands = [0, 0, 0]
    for _ in range(children):
        x = rng.random()
        bands[0 if x < 0.3 else (1 if x < 0.75 else 2)] += 1
    buffers.attendance.append(
        {
            "session_id": session["id"],
            "women": women,
            "men": men,
            "other_adults": adults - women - men,
            "children_0_1": bands[0],
            "children_1_3": bands[1],
            "children_3_6": bands[2],
            "new_people": sum(rng.random() < 0.1 for _ in range(adults)),
            "conversations": round(adults * talks_each * rng.uniform(0.5, 1.0)),
            "recorded_by_id": staff[int(rng.random() * len(staff))],
            "updated_at": datetime.combine(session["on_date"], session["end_time"]),
        }
    )
    codes, cumulative = mix
    spoken = {"sv"} if rng.random() < 0.7 else set()
    for _ in range(rng.randint(1, 3)):
        spoken.add(codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])])
    buffers.languages += [{"session_id": session["id"], "code": c} for c in sorted(spoken)]


def insert_contacts(engine, rng, plan, world, site_languages) -> int:
    """Outreach: about three information contacts a week per site, at a coded place."""
    today = plan.today
    first = today - timedelta(days=plan.programme_days - 1)
    rows = []
    for site_id in world.site_ids:
        codes, cumulative = site_languages[site_id]
        staff = world.staff_by_site[site_id]
        for offset in range((today - first).days + 1):
            day = first + timedelta(days=offset)
            if day.weekday() >= 5 or rng.random() >= 0.6:
                continue
            languages = {codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])]}
            if rng.random() < 0.3:
                languages.add(codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])])
            rows.append(
                {
                    "id": len(rows) + 1,
                    "site_id": site_id,
                    "on_date": day,
                    "place": pick(rng, PLACE_TABLE),
                    "people": min(50, 1 + int(rng.expovariate(0.4))),
                    "languages": sorted(languages),
                    "recorded_by_id": staff[int(rng.random() * len(staff))],
                    "created_at": datetime.combine(day, _t(14)),
                }
            )
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            write_rows(conn, InformationContact.__table__, rows[start : start + BATCH])
    return len(rows)
