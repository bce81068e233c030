"""A realistic data set for the benchmark: one organisation, 20 sites, 50 users, the core
services, published consent texts, 1,000,000 visits over three years and 100,000 referrals with
consent, history and (for open referrals only) obviously fake contact details, encrypted as
the app stores them (app.privacy.sealed_columns) under the current key of the bench app's key
file: instance/keys/contact-keys.json unless a key file is given, the file the served app reads.

    python -m bench.generate [--quick] [--seed N] [--database-url URL]

Speed: the schema comes from the real migrations (Flask-Migrate `upgrade`); rows are then built
with plain `random` and written with SQLAlchemy Core `insert()` executemany in batches of
50,000, a few transactions per table. On a FRESH SQLite file (the default, bench/data/bench.db)
generation runs with `PRAGMA synchronous=OFF` and `journal_mode=OFF`: a crash mid-generation
leaves a broken file, which is simply generated again. The file is switched back to WAL at the
end, and `ANALYZE` gives the query planner real statistics, as `PRAGMA optimize` would on a
long-running installation. Those pragmas are never used against a database given with
--database-url other than a fresh file.

Reproducible: the same --seed on the same day gives the same rows (dates count back from today).
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Integer, create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import Connection, Engine

from app import crypto, privacy
from app.auth.passwords import hash_password
from app.choices import (
    AttemptChannel,
    AttemptResult,
    ConsentMethod,
    ConsentTextStatus,
    Outcome,
    OutreachPlace,
    PartOfDay,
    ReferralStatus,
    Role,
    Topic,
    TranslationStatus,
)
from app.extensions import db
from app.i18n import LOCALES
from app.models import (
    Activity,
    ActivitySession,
    AnonymousInterest,
    Consent,
    ConsentText,
    ContactDetails,
    FollowUp,
    InformationContact,
    Organisation,
    Project,
    Referral,
    ReferralEvent,
    Service,
    ServiceTranslation,
    SessionAttendance,
    Site,
    User,
    Visit,
    VisitLanguage,
    service_coordinators,
    site_memberships,
)
from app.stats import summary
from app.workdays import add_working_days, is_working_day, local_today

from . import (
    DEFAULT_DB,
    ORG_SLUG,
    PASSWORD,
    bench_app,
    head_revision,
    migrate,
    national,
    sqlite_url,
)
from . import generate_afterwards as afterwards
from . import generate_programme as programme_data
from .bulk import write_rows

# 2: builds the daily visit summaries; 3: every coordinator has a queue; 4: the programme
# (activities, sessions, attendance, visits counted to sessions, outreach); 5: schedules end
# two months ahead, not at the end of a term that may be half a year away; 6: what happened
# afterwards (target-group facts, follow-up consent and follow-ups, two projects)
GENERATOR_VERSION = 6
BATCH = 50_000
FULL = {"visits": 1_000_000, "referrals": 100_000}
YEARS = 3
SITES = 20
USERS = {Role.STAFF: 36, Role.COORDINATOR: 10, Role.ADMIN: 4}

# (slug, Swedish name, English name): the core catalogue every municipality starts from.
SERVICES = [
    ("sfi", "SFI – svenska för invandrare", "SFI – Swedish for immigrants"),
    ("samhallsorientering", "Samhällsorientering", "Civic orientation"),
    ("forskola", "Förskoleplats", "Preschool place"),
    ("arbetsformedlingen", "Arbetsförmedlingen", "Public employment service"),
    ("arbetsmarknadsenheten", "Arbetsmarknadsenheten", "Labour-market unit"),
    ("studie-och-yrkesvagledning", "Studie- och yrkesvägledning", "Study and career guidance"),
    ("foraldraskap", "Föräldraskap i Sverige", "Parenting in Sweden"),
]
SERVICE_WEIGHTS = [30, 12, 20, 14, 8, 8, 8]

# ISO 639 codes; each site gets its own mix from these base weights, so sites differ.
LANGUAGES = ["ar", "so", "ti", "fa", "prs", "uk", "sv", "en", "ckb", "kmr", "tr", "am", "pl", "ru"]
LANGUAGE_WEIGHTS = [26, 14, 10, 6, 6, 9, 12, 4, 4, 2, 2, 2, 1.5, 1.5]

# Probability that a visit group raises each topic (independent; many groups raise none).
TOPIC_ODDS = [
    (Topic.WORK, 0.14),
    (Topic.SFI, 0.16),
    (Topic.SOCIETY, 0.06),
    (Topic.PRESCHOOL, 0.11),
    (Topic.HEALTH, 0.08),
    (Topic.PARENTING, 0.13),
    (Topic.HOUSING, 0.05),
    (Topic.ECONOMY, 0.05),
    (Topic.OTHER, 0.03),
]
OUTREACH_PLACES = [p.value for p in OutreachPlace]
CLOSED_OUTCOMES = [Outcome.STARTED, Outcome.DECLINED, Outcome.UNREACHABLE, Outcome.NOT_ELIGIBLE]
CLOSED_WEIGHTS = [50, 16, 18, 10]
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # as app.privacy
CONSENT_BODY = {
    "sv": "Jag samtycker till att mina kontaktuppgifter sparas och lämnas till tjänsten jag valt.",
    "en": "I agree that my contact details are kept and given to the service I chose.",
}


@dataclass
class Plan:
    """How much to generate; `scaled` is the --quick variant (a tenth of the volume)."""

    visits: int = FULL["visits"]
    referrals: int = FULL["referrals"]
    seed: int = 1
    today: date = field(default_factory=local_today)
    # Days of programme (sessions, attendance, outreach) back from today: by default in
    # proportion to the visits, three years at full size (at least two weeks).
    programme: int | None = None
    # Organisations: the visits and referrals above are each one's (bench.national copies the
    # first on PostgreSQL).
    organisations: int = 1

    @property
    def interests(self) -> int:
        return self.referrals * 3 // 10

    @property
    def programme_days(self) -> int:
        if self.programme is not None:
            return self.programme
        return max(14, round(365 * YEARS * self.visits / FULL["visits"]))

    def key(self) -> dict:
        return {
            "generator": GENERATOR_VERSION,
            "schema": head_revision(),
            "visits": self.visits,
            "referrals": self.referrals,
            "seed": self.seed,
            "today": self.today.isoformat(),
            "programme_days": self.programme_days,
            "organisations": self.organisations,
        }


@dataclass
class World:
    """The ids of the fixed rows, which the bulk rows point at."""

    org_id: int = 0
    site_ids: list[int] = field(default_factory=list)
    staff_by_site: dict[int, list[int]] = field(default_factory=dict)
    coordinators_by_service: dict[int, list[int]] = field(default_factory=dict)
    service_ids: list[int] = field(default_factory=list)
    service_by_slug: dict[str, int] = field(default_factory=dict)
    consent_text_ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, list[int]] = field(default_factory=dict)


def generate(
    database_url: str,
    plan: Plan,
    fresh_file: bool = False,
    log=print,
    key_file: Path | None = None,
) -> dict:
    """Migrate `database_url`, fill it, and return the row counts and the seconds it took.

    Contact details are encrypted under the current key of `key_file` (default: the bench
    app's, in instance/keys/), so the served app can read them.
    """
    started = time.perf_counter()
    migrate(database_url)
    overrides = {"CONTACT_KEY_FILE": str(key_file)} if key_file else {}
    with bench_app(database_url, **overrides).app_context():
        key = crypto.keyring().current
    engine = create_engine(database_url)
    try:
        _refuse_non_empty(engine)
        if fresh_file:
            _fast_pragmas(engine)
        rng = random.Random(plan.seed)
        with engine.begin() as conn:
            world = insert_fixed_rows(conn, rng)
        days, weights = day_weights(plan.today)
        site_weights = {s: rng.lognormvariate(0, 0.5) for s in world.site_ids}
        site_languages = {s: _site_language_weights(rng) for s in world.site_ids}
        t = time.perf_counter()
        programme, held = programme_data.insert_programme(
            engine, rng, plan, world, site_languages, world.service_by_slug
        )
        contacts = programme_data.insert_contacts(engine, rng, plan, world, site_languages)
        log(
            f"  programme: {programme['sessions']:,} sessions, {programme['attendance']:,} "
            f"with attendance, {contacts:,} outreach contacts in {time.perf_counter() - t:.1f} s"
        )
        t = time.perf_counter()
        n_visits = insert_visits(
            engine, rng, plan, world, days, weights, site_weights, site_languages, held
        )
        log(f"  visits: {n_visits:,} in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        n_refs = insert_referrals(
            engine, rng, plan, world, days, weights, site_weights, site_languages, key
        )
        log(f"  referrals: {n_refs:,} in {time.perf_counter() - t:.1f} s")
        insert_interests(engine, rng, plan, world, days, weights, site_weights, site_languages)
        t = time.perf_counter()
        with engine.begin() as conn:
            # Visits went in past the write path: build the statistics' daily summaries.
            summary.rebuild(conn)
        log(f"  visit summaries rebuilt in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        later = insert_afterwards(engine, rng, plan, world, key)
        log(
            f"  afterwards: {later['follow_ups']:,} follow-ups ({later['follow_ups_recorded']:,} "
            f"recorded), {later['projects']} projects in {time.perf_counter() - t:.1f} s"
        )
        if plan.organisations > 1:
            log(f"  copying the organisation {plan.organisations - 1} times on the server")
            seconds = national.replicate(engine, plan.organisations - 1, key, plan.seed, log)
            log(f"  copies made in {seconds:.1f} s")
        t = time.perf_counter()
        _finish(engine)
        log(f"  sequences, VACUUM and ANALYZE in {time.perf_counter() - t:.1f} s")
        counts = count_rows(engine)
    finally:
        engine.dispose()
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _refuse_non_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        if conn.scalar(select(func.count()).select_from(Organisation.__table__)):
            raise SystemExit("The database already holds data; the generator needs an empty one.")


def _fast_pragmas(engine: Engine) -> None:
    """Only for a fresh SQLite file: nothing to protect yet, so skip the journal and fsync."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=OFF")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-200000")
        cursor.close()

    engine.dispose()


def _finish(engine: Engine) -> None:
    """Give the planner statistics; on PostgreSQL move sequences past the explicit ids, and
    VACUUM so the visibility map is set and index-only scans work as on a long-running server."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.commit()
        return
    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            column = table.c.get("id")
            if column is None or not column.primary_key or not column.autoincrement:
                continue
            if not isinstance(column.type, Integer):
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'(SELECT COALESCE(MAX(id), 1) FROM "{table.name}"))'
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def count_rows(engine: Engine) -> dict:
    tables = {
        "visits": Visit,
        "visit_languages": VisitLanguage,
        "referrals": Referral,
        "referral_events": ReferralEvent,
        "consents": Consent,
        "contact_details": ContactDetails,
        "interests": AnonymousInterest,
        "users": User,
        "sites": Site,
        "services": Service,
        "activities": Activity,
        "sessions": ActivitySession,
        "attendance": SessionAttendance,
        "information_contacts": InformationContact,
        "follow_ups": FollowUp,
        "projects": Project,
    }
    with engine.connect() as conn:
        return {
            name: conn.scalar(select(func.count()).select_from(model.__table__))
            for name, model in tables.items()
        }


# -- fixed rows ----------------------------------------------------------------------------


def insert_fixed_rows(conn: Connection, rng: random.Random) -> World:
    """Organisation, sites, users with memberships, services, coordinators, consent texts."""
    world = World()
    world.org_id = conn.execute(
        insert(Organisation.__table__).values(name="Benchmark kommun", slug=ORG_SLUG)
    ).inserted_primary_key[0]
    now = datetime(2023, 1, 2, 8, 0)
    for n in range(1, SITES + 1):
        site_id = conn.execute(
            insert(Site.__table__).values(
                organisation_id=world.org_id, name=f"Öppna förskolan {n:02d}", is_active=True
            )
        ).inserted_primary_key[0]
        world.site_ids.append(site_id)
        world.staff_by_site[site_id] = []
    password_hash = hash_password(PASSWORD)  # once: Argon2 is slow on purpose
    for role, how_many in USERS.items():
        world.users[role] = []
        for n in range(1, how_many + 1):
            user_id = conn.execute(
                insert(User.__table__).values(
                    organisation_id=world.org_id,
                    email=f"{role}{n:02d}@bench.test",
                    name=f"{role.value.title()} {n:02d}",
                    password_hash=password_hash,
                    role=role,
                    locale=rng.choice(["sv", "sv", "sv", "ar", "so", "en"]),
                    is_enabled=True,
                    session_token="",
                    created_at=now,
                )
            ).inserted_primary_key[0]
            world.users[role].append(user_id)
    memberships = []
    for i, user_id in enumerate(world.users[Role.STAFF]):
        # Every site has at least one bridge builder; some work at two sites.
        sites = {world.site_ids[i % SITES]}
        if rng.random() < 0.3:
            sites.add(rng.choice(world.site_ids))
        for site_id in sites:
            memberships.append({"user_id": user_id, "site_id": site_id})
            world.staff_by_site[site_id].append(user_id)
    for user_id in world.users[Role.COORDINATOR]:
        for site_id in rng.sample(world.site_ids, rng.randint(4, 10)):
            memberships.append({"user_id": user_id, "site_id": site_id})
    conn.execute(insert(site_memberships), memberships)
    for order, (slug, name_sv, name_en) in enumerate(SERVICES):
        service_id = conn.execute(
            insert(Service.__table__).values(
                organisation_id=world.org_id,
                slug=slug,
                pictogram="service.svg",
                url=f"https://example.invalid/{slug}",
                email=f"{slug}@example.invalid",
                phone="+46701740605",
                address="Storgatan 1, 123 45 Exempelstad",
                opening_hours="Mån–fre 9–16",
                sort_order=(order + 1) * 10,
                is_active=True,
            )
        ).inserted_primary_key[0]
        world.service_ids.append(service_id)
        world.service_by_slug[slug] = service_id
        for locale, name in (("sv", name_sv), ("en", name_en)):
            conn.execute(
                insert(ServiceTranslation.__table__).values(
                    service_id=service_id,
                    locale=locale,
                    name=name,
                    summary=f"{name}. " * 8,
                    eligibility=f"{name}: " + "vem kan söka. " * 6,
                    how_to_start=f"{name}: " + "så börjar du. " * 6,
                    status=TranslationStatus.REVIEWED,
                    updated_at=now,
                )
            )
    coordinators = world.users[Role.COORDINATOR]
    links = []
    for i, service_id in enumerate(world.service_ids):
        chosen = {coordinators[i % len(coordinators)]}
        chosen.update(rng.sample(coordinators, 2))
        world.coordinators_by_service[service_id] = sorted(chosen)
    # Every coordinator works at least one queue (more coordinators than services).
    idle = [
        u for u in coordinators if not any(u in c for c in world.coordinators_by_service.values())
    ]
    for i, user_id in enumerate(idle):
        service_id = world.service_ids[i % len(world.service_ids)]
        world.coordinators_by_service[service_id].append(user_id)
    for service_id, chosen in world.coordinators_by_service.items():
        links += [{"user_id": u, "service_id": service_id} for u in sorted(chosen)]
    conn.execute(insert(service_coordinators), links)
    for locale in LOCALES:
        world.consent_text_ids[locale] = conn.execute(
            insert(ConsentText.__table__).values(
                organisation_id=world.org_id,
                version=1,
                locale=locale,
                legal_basis="consent",
                body=CONSENT_BODY.get(locale, CONSENT_BODY["sv"]),
                status=ConsentTextStatus.PUBLISHED,
                published_at=now,
                created_by_id=world.users[Role.ADMIN][0],
                created_at=now,
            )
        ).inserted_primary_key[0]
    return world


# -- the calendar ---------------------------------------------------------------------------


def day_weights(today: date) -> tuple[list[date], list[float]]:
    """Every day of the last three years with how busy it is: weekdays busy, Saturdays quiet,
    Sundays and holidays closed, a summer dip, and a slow growth over the years."""
    start = today - timedelta(days=365 * YEARS - 1)
    days, weights = [], []
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        if day.weekday() == 6:
            continue
        if day.weekday() == 5:
            weight = 0.12
        elif not is_working_day(day):
            continue
        else:
            weight = (1.15, 1.1, 1.0, 1.05, 0.8)[day.weekday()]
        if day.month == 7:
            weight *= 0.3
        elif (day.month == 6 and day.day > 20) or (day.month == 8 and day.day < 15):
            weight *= 0.6
        elif day.month == 12 and day.day > 18:
            weight *= 0.5
        weight *= 1 + 0.15 * offset / 365  # more visitors each year as the work becomes known
        days.append(day)
        weights.append(weight)
    return days, weights


def _cells(days, weights, site_weights) -> tuple[list[tuple[int, date]], list[float]]:
    cells, cell_weights = [], []
    for site_id, site_weight in site_weights.items():
        for day, weight in zip(days, weights, strict=True):
            cells.append((site_id, day))
            cell_weights.append(weight * site_weight)
    return cells, cell_weights


def _exact_allocation(total: int, weights: list[float], rng: random.Random) -> list[int]:
    """Split `total` over cells in proportion to `weights`, exactly (largest remainder)."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [int(s) for s in shares]
    rest = total - sum(counts)
    order = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], rng.random()))
    for i in order[:rest]:
        counts[i] += 1
    return counts


def _site_language_weights(rng: random.Random) -> tuple[list[str], list[float]]:
    weights = [w * rng.lognormvariate(0, 0.8) for w in LANGUAGE_WEIGHTS]
    return LANGUAGES, list(itertools.accumulate(weights))


def _pick_languages(rng: random.Random, mix) -> list[str]:
    codes, cumulative = mix
    first = codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
    r = rng.random()
    chosen = [first]
    if r < 0.25:  # many groups speak some Swedish or English too, or two home languages
        other = (
            "sv"
            if rng.random() < 0.6
            else codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
        )
        if other != first:
            chosen.append(other)
    if r < 0.03 and "en" not in chosen:
        chosen.append("en")
    return chosen


def _local_time(day: date, hour_from: int, hour_to: int, rng: random.Random) -> datetime:
    """A moment in Swedish opening hours, stored as naive UTC (one hour back; DST ignored)."""
    minutes = rng.randint(hour_from * 60, hour_to * 60 - 1)
    return datetime(day.year, day.month, day.day) + timedelta(minutes=minutes - 60)


# -- visits ---------------------------------------------------------------------------------


def insert_visits(
    engine, rng, plan, world, days, weights, site_weights, site_languages, held=None
) -> int:
    """Visits with their languages; some counted as attending one of `held`'s sessions of
    their site, day and part of the day."""
    cells, cell_weights = _cells(days, weights, site_weights)
    counts = _exact_allocation(plan.visits, cell_weights, rng)
    visit_table, language_table = Visit.__table__, VisitLanguage.__table__
    visits, languages = [], []
    visit_id = batches = 0
    conn = engine.connect()
    conn.begin()
    try:
        for (site_id, day), n in zip(cells, counts, strict=True):
            staff = world.staff_by_site[site_id]
            mix = site_languages[site_id]
            for _ in range(n):
                visit_id += 1
                visits.append(_visit_row(rng, visit_id, site_id, day, staff, held))
                for code in _pick_languages(rng, mix):
                    languages.append(
                        {"visit_id": visit_id, "code": code, "site_id": site_id, "visit_date": day}
                    )
            if len(visits) >= BATCH:
                write_rows(conn, visit_table, visits)
                write_rows(conn, language_table, languages)
                visits, languages = [], []
                batches += 1
                if batches % 5 == 0:  # a handful of transactions, not one per batch
                    conn.commit()
                    conn.begin()
        if visits:
            write_rows(conn, visit_table, visits)
            write_rows(conn, language_table, languages)
        conn.commit()
    finally:
        conn.close()
    return visit_id


def _visit_row(
    rng: random.Random, visit_id: int, site_id: int, day: date, staff: list[int], held=None
):
    r = rng.random
    morning = r() < 0.65
    women = 1 if r() < 0.86 else (2 if r() < 0.6 else 0)
    men = 1 if r() < 0.18 else 0
    other = 1 if r() < 0.02 else 0
    if women + men + other == 0:
        women = 1
    children = 1 if r() < 0.6 else (2 if r() < 0.8 else 3)
    bands = [0, 0, 0]
    for _ in range(children):
        x = r()
        bands[0 if x < 0.3 else (1 if x < 0.75 else 2)] += 1
    topics = 0
    for topic, odds in TOPIC_ODDS:
        if r() < odds:
            topics |= topic
    hour_from, hour_to = (9, 12) if morning else (13, 16)
    is_new = r() < 0.18
    # Programme: 2 % met outside the preschool (a coded place); one group in five came to a
    # session of that part of the day; some new groups first heard of the preschool outside.
    outreach = OUTREACH_PLACES[int(r() * len(OUTREACH_PLACES))] if r() < 0.02 else None
    session_id = None
    if held is not None and outreach is None and r() < 0.2:
        sessions = held.of(site_id, day, morning)
        if sessions:
            session_id = sessions[int(r() * len(sessions))]
    return {
        "id": visit_id,
        "site_id": site_id,
        "visit_date": day,
        "part_of_day": PartOfDay.MORNING if morning else PartOfDay.AFTERNOON,
        "women": women,
        "men": men,
        "other_adults": other,
        "children_0_1": bands[0],
        "children_1_3": bands[1],
        "children_3_6": bands[2],
        "is_new": is_new,
        "topics": topics,
        "session_id": session_id,
        "outreach_place": outreach,
        "after_outreach": is_new and r() < (0.5 if outreach else 0.05),
        "recorded_by_id": staff[int(r() * len(staff))],
        "created_at": _local_time(day, hour_from, hour_to, rng),
    }


# -- referrals ------------------------------------------------------------------------------


class Timeline:
    """Builds one referral's events and final state, moving forward in time."""

    def __init__(self, referral: dict, events: list, next_event_id, today: date, rng):
        self.referral, self.events, self.next_id = referral, events, next_event_id
        self.today, self.rng = today, rng
        self.at = referral["created_at"]
        self.status = ReferralStatus.NEW

    def later(self, min_hours: float, max_hours: float) -> datetime:
        self.at = self.at + timedelta(hours=self.rng.uniform(min_hours, max_hours))
        return self.at

    def add(self, by_id, kind, **fields) -> None:
        self.events.append(
            {
                "id": next(self.next_id),
                "referral_id": self.referral["id"],
                "at": self.at,
                "by_id": by_id,
                "kind": kind,
                "from_status": fields.get("from_status"),
                "to_status": fields.get("to_status"),
                "outcome": fields.get("outcome"),
                "reason_code": None,
                "channel": fields.get("channel"),
                "result": fields.get("result"),
                "on_date": fields.get("on_date"),
                "assignee_id": fields.get("assignee_id"),
            }
        )

    def move(self, by_id, to_status, outcome=None) -> None:
        self.add(by_id, "status", from_status=self.status, to_status=to_status, outcome=outcome)
        self.status = to_status

    def fits(self) -> bool:
        """False once the story would run past today: the referral then stays where it is."""
        return self.at.date() < self.today


def insert_referrals(
    engine, rng, plan, world, days, weights, site_weights, site_languages, key: crypto.Key
) -> int:
    """Consents (one to three referrals each), referrals with their timelines, and contact
    details for consents that still have an open referral."""
    cells, cell_weights = _cells(days, weights, site_weights)
    cumulative = list(itertools.accumulate(cell_weights))
    due_for = {day: add_working_days(day, 5) for day in days}
    service_cumulative = list(itertools.accumulate(SERVICE_WEIGHTS))
    event_ids = itertools.count(1)
    buffers = {"consent": [], "contact": [], "referral": [], "event": []}
    referral_id = consent_id = 0
    conn = engine.connect()
    conn.begin()
    try:
        while referral_id < plan.referrals:
            site_id, day = cells[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            consent_id += 1
            size = min(
                plan.referrals - referral_id, 1 if rng.random() < 0.62 else rng.choice((2, 2, 3))
            )
            services = set()
            while len(services) < size:
                services.add(
                    world.service_ids[
                        bisect.bisect(service_cumulative, rng.random() * service_cumulative[-1])
                    ]
                )
            language = _pick_languages(rng, site_languages[site_id])[0]
            creator = rng.choice(world.staff_by_site[site_id])
            given_at = _local_time(day, 9, 16, rng)
            withdrawn = rng.random() < 0.025
            still_open = False
            last_close = given_at
            for service_id in sorted(services):
                referral_id += 1
                referral = _referral_row(
                    referral_id,
                    world,
                    site_id,
                    service_id,
                    consent_id,
                    language,
                    creator,
                    given_at,
                    due_for[day],
                )
                timeline = Timeline(referral, buffers["event"], event_ids, plan.today, rng)
                timeline.add(creator, "created", to_status=ReferralStatus.NEW)
                _live(timeline, world, rng, withdrawn)
                buffers["referral"].append(referral)
                if referral["status"] != ReferralStatus.CLOSED:
                    still_open = True
                else:
                    last_close = max(last_close, referral["closed_at"])
            buffers["consent"].append(
                _consent_row(
                    consent_id,
                    world,
                    site_id,
                    language,
                    creator,
                    given_at,
                    withdrawn,
                    still_open,
                    last_close,
                    plan.today,
                )
            )
            if still_open:
                buffers["contact"].append(_fake_contact(consent_id, rng, key))
            if len(buffers["event"]) >= BATCH:
                _flush_referrals(conn, buffers)
        _flush_referrals(conn, buffers)
        conn.commit()
    finally:
        conn.close()
    return referral_id


def _flush_referrals(conn: Connection, buffers: dict) -> None:
    for name, table in (
        ("consent", Consent.__table__),
        ("contact", ContactDetails.__table__),
        ("referral", Referral.__table__),
        ("event", ReferralEvent.__table__),
    ):
        if buffers[name]:
            write_rows(conn, table, buffers[name])
            buffers[name].clear()


def _referral_row(referral_id, world, site_id, service_id, consent_id, language, creator, at, due):
    return {
        "id": referral_id,
        "organisation_id": world.org_id,
        "site_id": site_id,
        "service_id": service_id,
        "consent_id": consent_id,
        "language": language,
        "interpreter_needed": language not in ("sv", "en") and (referral_id % 5) < 3,
        "status": ReferralStatus.NEW,
        "outcome": None,
        "reason_code": None,
        "created_by_id": creator,
        "created_at": at,
        "due_date": due,
        "follow_up_date": due,
        "first_contact_at": None,
        "closed_at": None,
        "assignee_id": None,
        "failed_attempts": 0,
        "version": 1,
    }


def _live(t: Timeline, world: World, rng: random.Random, withdrawn: bool) -> None:
    """Play a referral forward from creation: assignment, contact attempts, status changes,
    closing with an outcome. Stops at today, so recent referrals stay open (some overdue)."""
    ref = t.referral
    coordinator = rng.choice(world.coordinators_by_service[ref["service_id"]])
    if withdrawn:
        t.later(2, 24 * 20)
        if t.fits():
            ref["outcome"], ref["closed_at"] = Outcome.WITHDRAWN, t.at
            t.move(coordinator, ReferralStatus.CLOSED, Outcome.WITHDRAWN)
        return _settle(t, coordinator)
    t.later(1, 48)
    if not t.fits():
        return _settle(t, None)
    ref["assignee_id"] = coordinator
    t.add(coordinator, "assigned", assignee_id=coordinator)
    reach_on = rng.choice((1, 1, 1, 2, 2, 3, 4))  # the attempt that reaches the visitor
    unreachable = rng.random() < 0.17
    for attempt in range(1, 5):
        t.later(4, 24 * (3 if attempt == 1 else 6))
        if not t.fits():
            return _settle(t, coordinator)
        reached = not unreachable and attempt == reach_on
        t.add(
            coordinator,
            "attempt",
            channel=rng.choice((AttemptChannel.PHONE, AttemptChannel.PHONE, AttemptChannel.SMS)),
            result=AttemptResult.REACHED
            if reached
            else rng.choice(
                (AttemptResult.NO_ANSWER, AttemptResult.MESSAGE_LEFT, AttemptResult.WRONG_NUMBER)
            ),
        )
        if reached:
            ref["first_contact_at"] = t.at
            t.move(coordinator, ReferralStatus.CONTACTED)
            break
        ref["failed_attempts"] += 1
        if ref["failed_attempts"] >= 3:
            t.later(1, 24)
            if t.fits():
                ref["outcome"], ref["closed_at"] = Outcome.UNREACHABLE, t.at
                t.move(coordinator, ReferralStatus.CLOSED, Outcome.UNREACHABLE)
            return _settle(t, coordinator)
    t.later(24, 24 * 10)
    if not t.fits():
        return _settle(t, coordinator)
    t.move(coordinator, ReferralStatus.IN_PROGRESS)
    follow_up = t.at.date() + timedelta(days=rng.randint(7, 45))
    ref["follow_up_date"] = follow_up
    t.add(coordinator, "follow_up", on_date=follow_up)
    t.later(24 * 5, 24 * 60)
    if not t.fits() or rng.random() < 0.04:  # a few are simply forgotten: they expire later
        return _settle(t, coordinator)
    outcome = rng.choices(CLOSED_OUTCOMES[:2] + CLOSED_OUTCOMES[3:], (50, 16, 10))[0]
    ref["outcome"], ref["closed_at"] = outcome, t.at
    t.move(coordinator, ReferralStatus.CLOSED, outcome)
    return _settle(t, coordinator)


def _settle(t: Timeline, coordinator) -> None:
    """Open referrals older than the organisation's limit (180 days) close as expired."""
    ref = t.referral
    ref["status"] = t.status
    if t.status == ReferralStatus.CLOSED:
        return
    expires = ref["created_at"] + timedelta(days=180)
    if expires.date() < t.today:
        t.at = expires
        t.move(None, ReferralStatus.CLOSED, Outcome.EXPIRED)
        ref["status"], ref["outcome"], ref["closed_at"] = t.status, Outcome.EXPIRED, expires


def _consent_row(
    consent_id,
    world,
    site_id,
    language,
    creator,
    given_at,
    withdrawn,
    still_open,
    last_close,
    today,
):
    locale = language if language in world.consent_text_ids else "sv"
    # Contact details are kept for open referrals only; otherwise they were erased at closing
    # plus the retention period (or at once on withdrawal), never later than today.
    erased_at = None
    if not still_open:
        erased_at = (
            last_close
            if withdrawn
            else min(last_close + timedelta(days=30), datetime.combine(today, datetime.min.time()))
        )
    return {
        "id": consent_id,
        "organisation_id": world.org_id,
        "site_id": site_id,
        "consent_text_id": world.consent_text_ids[locale],
        "locale_shown": locale,
        "method": (ConsentMethod.TABLET, ConsentMethod.READ_ALOUD, ConsentMethod.INTERPRETER)[
            consent_id % 3
        ],
        "data_processing_agreed": True,
        "disclosure_agreed": True,
        "reference_code": _reference_code(consent_id),
        "given_at": given_at,
        "recorded_by_id": creator,
        "withdrawn_at": last_close if withdrawn and not still_open else None,
        "withdrawn_by_id": creator if withdrawn and not still_open else None,
        "erased_at": erased_at,
    }


def _reference_code(n: int) -> str:
    """Unique per consent: n times a prime coprime with 31**8 is a bijection modulo 31**8."""
    value = (n * 1_000_003 + 7_777_777) % (31**8)
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 31)
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def _fake_contact(consent_id: int, rng: random.Random, key: crypto.Key) -> dict:
    """Obviously fake: 'Testperson N', numbers from the range PTS reserves for fiction
    (070-174 06 05 to 070-174 06 99), addresses on example.invalid; encrypted like real ones."""
    contact = privacy.ContactInput(
        first_name=f"Testperson {consent_id}",
        phone_e164=f"+467017406{rng.randint(5, 99):02d}" if rng.random() < 0.9 else None,
        email=f"testperson{consent_id}@example.invalid" if rng.random() < 0.3 else None,
        best_time=rng.choice((None, "förmiddag", "eftermiddag")),
    )
    return privacy.sealed_columns(consent_id, contact, key)


def insert_afterwards(engine, rng, plan, world, key: crypto.Key) -> dict:
    """Issue 20's rows (bench.generate_afterwards), and fake contact details for the consents
    whose follow-up agreement keeps them today, sealed and inserted like the open referrals'."""
    with engine.begin() as conn:
        afterwards.facts(conn)
        afterwards.follow_up_consent(conn, world)
    counts, kept = afterwards.insert_follow_ups(engine, rng, plan, world)
    with engine.begin() as conn:
        contacts = [_fake_contact(consent_id, rng, key) for consent_id in kept]
        _flush_referrals(conn, {"consent": [], "contact": contacts, "referral": [], "event": []})
    counts["projects"] = afterwards.insert_projects(engine, rng, plan, world)
    return counts


# -- anonymous interest ---------------------------------------------------------------------


def insert_interests(engine, rng, plan, world, days, weights, site_weights, site_languages) -> None:
    cells, cell_weights = _cells(days, weights, site_weights)
    cumulative = list(itertools.accumulate(cell_weights))
    service_cumulative = list(itertools.accumulate(SERVICE_WEIGHTS))
    rows = []
    for n in range(1, plan.interests + 1):
        site_id, day = cells[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
        rows.append(
            {
                "id": n,
                "organisation_id": world.org_id,
                "site_id": site_id,
                "service_id": world.service_ids[
                    bisect.bisect(service_cumulative, rng.random() * service_cumulative[-1])
                ],
                "language": _pick_languages(rng, site_languages[site_id])[0],
                "on_date": day,
                "recorded_by_id": rng.choice(world.staff_by_site[site_id]),
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            write_rows(conn, AnonymousInterest.__table__, rows[start : start + BATCH])


# -- command line ---------------------------------------------------------------------------


def plan_for(quick: bool, seed: int) -> Plan:
    scale = 10 if quick else 1
    return Plan(visits=FULL["visits"] // scale, referrals=FULL["referrals"] // scale, seed=seed)


def plan_national(quick: bool, seed: int) -> Plan:
    """bench.national's: 25 organisations, each a 25th of the 10 million visits and million
    referrals, with the programme over the full three years (`--quick`: a tenth of the visits
    and referrals, the programme still over three years, so its tables have the national
    size the query planner chooses by)."""
    scale = 10 if quick else 1
    n = national.ORGANISATIONS
    return Plan(
        visits=national.TOTAL["visits"] // scale // n,
        referrals=national.TOTAL["referrals"] // scale // n,
        seed=seed,
        programme=365 * YEARS,
        organisations=n,
    )


def ensure_dataset(database_url: str | None, plan: Plan, log=print) -> tuple[str, dict]:
    """The URL of a data set matching `plan`. The default SQLite file, and a database given by
    URL that holds a `bench_plan` row, are reused when their recorded plan matches and generated
    again when it does not (a PostgreSQL database the generator filled is emptied first); any
    other non-empty database is refused."""
    if database_url:
        return database_url, _ensure_at(database_url, plan, log)
    path = (
        DEFAULT_DB
        if plan.visits == FULL["visits"]
        else DEFAULT_DB.with_name(f"bench-{plan.visits}.db")
    )
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("plan") == _stamp(plan):
            log(f"Reusing {path} (generated in {meta['counts']['seconds']} s)")
            return sqlite_url(path), meta["counts"]
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, meta_path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    log(f"Generating {plan.visits:,} visits and {plan.referrals:,} referrals into {path}")
    counts = generate(sqlite_url(path), plan, fresh_file=True, log=log)
    meta_path.write_text(json.dumps({"plan": _stamp(plan), "counts": counts}, indent=2))
    return sqlite_url(path), counts


PLAN_TABLE = "bench_plan"  # in a database given by URL: the plan it was generated with


def _stamp(plan: Plan) -> dict:
    """The plan and the contact key its contact details are sealed under: a data set sealed
    under another checkout's key (instance/keys is per checkout) cannot be read, so it is made
    again rather than reused."""
    with bench_app("sqlite://").app_context():  # only the key file is read
        key_id = crypto.keyring().current.id
    return {**plan.key(), "contact_key": key_id}


def _record_plan(database_url: str, plan: dict, counts: dict) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE IF NOT EXISTS {PLAN_TABLE} (plan TEXT, counts TEXT)"))
            conn.execute(text(f"DELETE FROM {PLAN_TABLE}"))
            conn.execute(
                text(f"INSERT INTO {PLAN_TABLE} VALUES (:plan, :counts)"),
                {"plan": json.dumps(plan), "counts": json.dumps(counts)},
            )
    finally:
        engine.dispose()


def _ensure_at(database_url: str, plan: Plan, log) -> dict:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            recorded = (
                conn.execute(text(f"SELECT plan, counts FROM {PLAN_TABLE}")).first()
                if PLAN_TABLE in tables
                else None
            )
        if recorded is None and tables:
            raise SystemExit(
                f"{engine.url!r} holds tables the benchmark did not make: it fills only an "
                "empty database or one it filled before"
            )
        if recorded and json.loads(recorded.plan) == _stamp(plan):
            counts = json.loads(recorded.counts)
            log(f"Reusing the data set at {engine.url!r} (generated in {counts['seconds']} s)")
            return counts
        if recorded and engine.dialect.name == "postgresql":
            log("The database holds a data set of another plan: emptying it")
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()
    total = plan.visits * plan.organisations
    log(f"Generating {total:,} visits in {plan.organisations} organisation(s) at {engine.url!r}")
    # Marked as the bench's before it is filled: a generation that stops half-way leaves a
    # plan that matches nothing, so the next run empties the database and starts again.
    _record_plan(database_url, {"generating": _stamp(plan)}, {})
    counts = generate(database_url, plan, log=log)
    _record_plan(database_url, _stamp(plan), counts)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the volume")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="an empty database to fill (default: SQLite file)")
    parser.add_argument(
        "--national", action="store_true", help="25 organisations (PostgreSQL, bench.national)"
    )
    args = parser.parse_args(argv)
    plan = (plan_national if args.national else plan_for)(args.quick, args.seed)
    url, counts = ensure_dataset(args.database_url, plan)
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
