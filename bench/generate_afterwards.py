"""What happened afterwards (issue 20), called by bench.generate once the referrals and the
visit summaries are in: target-group facts, the follow-up consent, follow-up tasks with their
results, and two projects with targets.

- **Target-group facts** on every referral, one UPDATE: the same for all referrals of one
  consent (one visitor), pseudo-random by the consent's id, so no row is read into Python.
  About 85 % women, 14 % men; most with a child aged 0–6, half the women on parental leave, a
  quarter with an earlier SFI interrupted; each fact unanswered now and then.
- **The follow-up consent**: a published follow-up text in every locale (version 1: versions
  count per organisation, locale and purpose), agreed to on 45 % of the
  consents, in the locale the consent was shown in (one UPDATE).
- **Follow-ups**: for every referral closed as started, one task at 3, 6 and 12 calendar months
  after the close, moved to the next working day, as the app plans them. Results follow a path
  per referral that fits its service (SFI and civic orientation: still in the course, completed
  with a level, interrupted with a coded reason, then work or studies; employment: placements,
  work, studies; preschool and parenting: mostly still there). Due tasks are recorded, more
  often with the follow-up consent (95 %) than without (85 %); the rest stay open if recently
  due, else were recorded as unreachable. 2 % of the visitors with the follow-up consent
  withdraw it after the close: their later tasks are cancelled.
- **Contact details kept for the follow-ups**: as app.privacy's purge keeps them, a consent
  with the follow-up agreement keeps them while one of its follow-ups is open or was recorded
  within the retention period, never longer than the organisation's maximum after the close.
  The generator's erasure dates are moved to match, and the consents whose keeping runs past
  today are returned, for bench.generate to give them (fake, sealed) contact details like the
  open referrals'.
- **Projects**: "Vägen till arbete" (Länsstyrelsen §37a, 12 sites, the SFI, civic orientation
  and employment services and their activities, the three years of the data set up to the end
  of this year) and "Föräldrar i Sverige" (SKR agreement, 6 sites, preschool, parenting and
  SFI, two years from 18 months ago). Their targets per indicator, some by gender and service,
  are the data's pace over the period so far, extended to the whole period and set a little
  above or below it (rounded as people round targets), so they fit any size of data set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import and_, bindparam, case, func, insert, select, update

from app.choices import (
    ActivityKind,
    ConsentPurpose,
    FollowUpResult,
    FollowUpStatus,
    Funder,
    Gender,
    Indicator,
    InterruptionReason,
    Outcome,
    Role,
    SessionStatus,
)
from app.followup.records import DEFAULT_MONTHS, due_date
from app.models import (
    Activity,
    ActivitySession,
    Consent,
    ConsentText,
    FollowUp,
    Project,
    ProjectTarget,
    Referral,
    SessionAttendance,
    VisitDaySummary,
    project_activities,
    project_services,
    project_sites,
)
from app.workdays import STOCKHOLM

from .bulk import write_rows
from .generate_programme import pick, weighted

RETENTION_DAYS = 30  # Organisation.retention_days_after_close's default
MAX_DAYS = 400  # Organisation.follow_up_max_days's default
FOLLOW_UP_SHARE = 45  # % of consents with the follow-up agreement
FOLLOW_UP_BODY = {
    "sv": "Jag samtycker till att bli kontaktad igen senare och berätta hur det har gått.",
    "en": "I agree to be contacted again later about how it went.",
}

R = FollowUpResult
# Paths of results at 3, 6 and 12 months, with their weights, by the kind of service.
COURSE = weighted(
    [
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.COMPLETED), 30),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.STILL_ACTIVE), 14),
        ((R.STILL_ACTIVE, R.INTERRUPTED, R.INTERRUPTED), 12),
        ((R.STILL_ACTIVE, R.COMPLETED, R.IN_STUDIES), 8),
        ((R.STILL_ACTIVE, R.COMPLETED, R.IN_WORK), 8),
        ((R.STILL_ACTIVE, R.IN_WORK, R.IN_WORK), 6),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.IN_WORK_PLACEMENT), 5),
        ((R.INTERRUPTED, R.INTERRUPTED, R.STILL_ACTIVE), 5),
        ((R.STILL_ACTIVE, R.UNREACHABLE, R.UNREACHABLE), 5),
        ((R.UNREACHABLE, R.UNREACHABLE, R.UNREACHABLE), 7),
    ]
)
EMPLOYMENT = weighted(
    [
        ((R.STILL_ACTIVE, R.IN_WORK_PLACEMENT, R.IN_WORK), 15),
        ((R.STILL_ACTIVE, R.IN_WORK_PLACEMENT, R.IN_WORK_PLACEMENT), 10),
        ((R.IN_WORK_PLACEMENT, R.IN_WORK, R.IN_WORK), 8),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.IN_STUDIES), 12),
        ((R.STILL_ACTIVE, R.IN_STUDIES, R.IN_STUDIES), 10),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.STILL_ACTIVE), 15),
        ((R.IN_WORK, R.IN_WORK, R.IN_WORK), 6),
        ((R.STILL_ACTIVE, R.INTERRUPTED, R.INTERRUPTED), 8),
        ((R.INTERRUPTED, R.INTERRUPTED, R.STILL_ACTIVE), 8),
        ((R.UNREACHABLE, R.UNREACHABLE, R.UNREACHABLE), 8),
    ]
)
FAMILY = weighted(
    [
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.STILL_ACTIVE), 35),
        ((R.COMPLETED, R.COMPLETED, R.COMPLETED), 20),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.IN_STUDIES), 10),
        ((R.STILL_ACTIVE, R.STILL_ACTIVE, R.IN_WORK), 10),
        ((R.STILL_ACTIVE, R.IN_WORK_PLACEMENT, R.IN_WORK), 5),
        ((R.INTERRUPTED, R.INTERRUPTED, R.INTERRUPTED), 10),
        ((R.UNREACHABLE, R.UNREACHABLE, R.UNREACHABLE), 10),
    ]
)
PATHS = {
    "sfi": COURSE,
    "samhallsorientering": COURSE,
    "arbetsformedlingen": EMPLOYMENT,
    "arbetsmarknadsenheten": EMPLOYMENT,
    "studie-och-yrkesvagledning": EMPLOYMENT,
}
REASONS = weighted(
    [
        (InterruptionReason.PARENTAL_LEAVE, 45),
        (InterruptionReason.HEALTH, 15),
        (InterruptionReason.MOVED, 12),
        (InterruptionReason.WORK, 10),
        (InterruptionReason.OTHER, 18),
    ]
)
# SFI courses completed: A or B within half a year, B to D by a year.
LEVELS = {6: weighted([("A", 40), ("B", 60)]), 12: weighted([("B", 35), ("C", 45), ("D", 20)])}


def facts(conn) -> None:
    """Target-group facts on every referral, the same for all referrals of one consent."""

    def draw(a: int, b: int):
        # (id * a + b) mod 1000, reduced first so it fits PostgreSQL's 32-bit integer for any id
        return ((Referral.consent_id % 1000) * (a % 1000) + b) % 1000

    g, child, leave, sfi = draw(7919, 11), draw(104_729, 7), draw(1_299_709, 3), draw(15_485, 1)
    woman = and_(g >= 15, g < 865)
    conn.execute(
        update(Referral.__table__).values(
            gender=case(
                (g < 15, None),
                (woman, Gender.WOMAN.value),
                (g < 995, Gender.MAN.value),
                else_=Gender.OTHER.value,
            ),
            has_child_0_6=case((child < 50, None), (child < 930, True), else_=False),
            parental_leave=case(
                (leave < 70, None),
                (and_(woman, leave < 600), True),
                (leave < 160, True),
                else_=False,
            ),
            sfi_interrupted_before=case((sfi < 90, None), (sfi < 330, True), else_=False),
        )
    )


def follow_up_consent(conn, world) -> None:
    """A published follow-up text per locale, and the agreement on a share of the consents."""
    texts = (
        conn.execute(
            select(ConsentText.__table__).where(ConsentText.id.in_(world.consent_text_ids.values()))
        )
        .mappings()
        .all()
    )
    conn.execute(
        insert(ConsentText.__table__),
        [
            {
                **{k: v for k, v in row.items() if k != "id"},
                "purpose": ConsentPurpose.FOLLOW_UP.value,
                "body": FOLLOW_UP_BODY.get(row["locale"], FOLLOW_UP_BODY["sv"]),
            }
            for row in texts
        ],
    )
    text = ConsentText.__table__.alias("follow_up_text")
    conn.execute(
        update(Consent.__table__)
        .where((Consent.id * 6151 + 5) % 100 < FOLLOW_UP_SHARE)
        .values(
            follow_up_text_id=select(text.c.id)
            .where(
                text.c.organisation_id == Consent.organisation_id,
                text.c.locale == Consent.locale_shown,
                text.c.purpose == ConsentPurpose.FOLLOW_UP.value,
            )
            .scalar_subquery()
        )
    )


@dataclass
class Keeping:
    """What the daily purge reads of one consent with the follow-up agreement whose referrals
    are all closed (app.privacy): its last close, whether a follow-up is open, when the last
    one was recorded, and a withdrawal."""

    last_close: datetime
    open: bool = False
    last_recorded: datetime | None = None
    withdrawn_at: datetime | None = None

    def until(self) -> datetime:
        """When its contact details go: the retention period after the close, or after the
        last follow-up recorded, while none is open; never later than the maximum after the
        close; at once on withdrawal."""
        latest = self.last_close + timedelta(days=MAX_DAYS)
        if not self.open:
            ends = [self.last_close, self.last_recorded or self.last_close]
            latest = min(latest, max(ends) + timedelta(days=RETENTION_DAYS))
        if self.withdrawn_at is not None:
            latest = min(latest, self.withdrawn_at)
        return latest


def insert_follow_ups(engine, rng: random.Random, plan, world) -> tuple[dict, list[int]]:
    """Follow-up tasks and their results; returns the counts and the consents whose contact
    details the follow-up agreement keeps past today."""
    today = plan.today
    now = datetime.combine(today, datetime.min.time())
    slug_of = {service_id: slug for slug, service_id in world.service_by_slug.items()}
    with engine.connect() as conn:
        started = conn.execute(
            select(
                Referral.id,
                Referral.consent_id,
                Referral.service_id,
                Referral.site_id,
                Referral.closed_at,
                Consent.follow_up_text_id.is_not(None),
            )
            .join(Consent, Consent.id == Referral.consent_id)
            .where(Referral.outcome == Outcome.STARTED)
            .order_by(Referral.id)
        ).all()
        # Consents with the agreement whose referrals are all closed (their contact details
        # erased by now, the generator says): when the last one closed.
        closes = dict(
            conn.execute(
                select(Referral.consent_id, func.max(Referral.closed_at))
                .join(Consent, Consent.id == Referral.consent_id)
                .where(Consent.follow_up_text_id.is_not(None), Consent.erased_at.is_not(None))
                .group_by(Referral.consent_id)
            ).all()
        )
    dues = {}
    keeping: dict[int, Keeping] = {}
    rows = []
    counts = {"follow_ups": 0, "follow_ups_recorded": 0}
    for referral_id, consent_id, service_id, site_id, closed_at, agreed in started:
        # The close's day on Sweden's calendar (as app.followup.records.local_close_date).
        closed = closed_at.replace(tzinfo=UTC).astimezone(STOCKHOLM).date()
        if closed not in dues:
            dues[closed] = [due_date(closed, m) for m in DEFAULT_MONTHS]
        keep = None
        if agreed and consent_id in closes:
            keep = keeping.setdefault(consent_id, Keeping(closes[consent_id]))
            if keep.withdrawn_at is None and rng.random() < 0.02:
                at = closed_at + timedelta(days=rng.uniform(10, 330))
                keep.withdrawn_at = at if at < now else None
        withdrawn = keep.withdrawn_at if keep else None
        path = pick(rng, PATHS.get(slug_of[service_id], FAMILY))
        reason = pick(rng, REASONS)
        coordinators = world.coordinators_by_service[service_id]
        for months, due, result in zip(DEFAULT_MONTHS, dues[closed], path, strict=True):
            row = {
                "organisation_id": world.org_id,
                "referral_id": referral_id,
                "service_id": service_id,
                "site_id": site_id,
                "months": months,
                "due_date": due,
                "status": FollowUpStatus.OPEN.value,
                "result": None,
                "sfi_level": None,
                "reason_code": None,
                "recorded_at": None,
                "recorded_by_id": None,
                "created_at": closed_at,
                "version": 1,
            }
            rows.append(row)
            at = min(
                now,
                datetime.combine(due, datetime.min.time())
                + timedelta(days=rng.randint(0, 14), minutes=rng.randint(8 * 60, 15 * 60)),
            )
            recorded = rng.random() < (0.95 if agreed else 0.85)
            if withdrawn is not None and (due > today or not recorded or at > withdrawn):
                row["status"] = FollowUpStatus.CANCELLED.value  # open when she withdrew
                continue
            if due > today or (not recorded and (today - due).days < 45):
                if keep:
                    keep.open = True  # to come, or due and not yet recorded
                continue
            if not recorded:
                result = R.UNREACHABLE
            counts["follow_ups_recorded"] += 1
            row.update(
                status=FollowUpStatus.DONE.value,
                result=result.value,
                recorded_at=at,
                recorded_by_id=coordinators[int(rng.random() * len(coordinators))],
            )
            if keep:
                keep.last_recorded = max(keep.last_recorded or at, at)
            if result == R.INTERRUPTED:
                row["reason_code"] = reason.value
            elif result == R.COMPLETED and slug_of[service_id] == "sfi" and months in LEVELS:
                row["sfi_level"] = pick(rng, LEVELS[months])
    counts["follow_ups"] = len(rows)
    with engine.begin() as conn:
        for start in range(0, len(rows), 50_000):
            write_rows(conn, FollowUp.__table__, rows[start : start + 50_000])
        kept = _keep_contact_details(conn, keeping, now)
    return counts, kept


def _keep_contact_details(conn, keeping: dict[int, Keeping], now: datetime) -> list[int]:
    """Move the erasure of consents with the follow-up agreement to when the purge would
    have erased them (Keeping.until) and record withdrawals; returns those whose contact
    details are kept today."""
    kept, erasures, withdrawals = [], [], []
    for consent_id, keep in keeping.items():
        until = keep.until()
        if keep.withdrawn_at is not None:
            withdrawals.append({"c_id": consent_id, "at": keep.withdrawn_at})
        if until > now:
            kept.append(consent_id)
        erasures.append({"c_id": consent_id, "at": None if until > now else until})
    table = Consent.__table__
    if erasures:
        conn.execute(
            update(table).where(table.c.id == bindparam("c_id")).values(erased_at=bindparam("at")),
            erasures,
        )
    if withdrawals:
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("c_id"))
            .values(withdrawn_at=bindparam("at"), withdrawn_by_id=table.c.recorded_by_id),
            withdrawals,
        )
    return sorted(kept)


# -- projects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectPlan:
    """One project: its name, funder, how many sites, its services and kinds of activity."""

    name: str
    funder: str
    sites: int
    services: tuple[str, ...]
    kinds: tuple[str, ...]
    gendered: tuple[str, ...]  # indicators with targets for women and men too
    per_service: tuple[str, ...]  # services with their own referral and start targets


PROJECTS = [
    ProjectPlan(
        "Vägen till arbete",
        Funder.LANSSTYRELSEN_37A,
        12,
        (
            "sfi",
            "samhallsorientering",
            "arbetsformedlingen",
            "arbetsmarknadsenheten",
            "studie-och-yrkesvagledning",
        ),
        (
            ActivityKind.SFI,
            ActivityKind.LANGUAGE_CAFE,
            ActivityKind.INFORMATION_MEETING,
            ActivityKind.STUDY_VISIT,
            ActivityKind.SUPPORT_CONVERSATION,
        ),
        (Indicator.PARTICIPANTS, Indicator.WORK_OR_STUDIES, Indicator.WORK_PLACEMENTS),
        ("sfi", "arbetsformedlingen"),
    ),
    ProjectPlan(
        "Föräldrar i Sverige",
        Funder.SKR,
        6,
        ("foraldraskap", "forskola", "sfi"),
        (ActivityKind.PARENTING_GROUP, ActivityKind.OPEN_SESSION),
        (Indicator.PARTICIPANTS, Indicator.STARTED),
        ("foraldraskap",),
    ),
]


def periods(today: date) -> list[tuple[date, date]]:
    """The first project: this year and the two before; the second: two years from the first
    of the month 18 months ago."""
    second = (today - relativedelta(months=18)).replace(day=1)
    return [
        (date(today.year - 2, 1, 1), date(today.year, 12, 31)),
        (second, second + relativedelta(years=2) - timedelta(days=1)),
    ]


def insert_projects(engine, rng: random.Random, plan, world) -> int:
    """Two projects with their sites, services, activities and targets."""
    with engine.begin() as conn:
        activities = conn.execute(select(Activity.id, Activity.site_id, Activity.kind)).all()
        admin = world.users[Role.ADMIN][0]
        for project, (starts, ends) in zip(PROJECTS, periods(plan.today), strict=True):
            sites = sorted(rng.sample(world.site_ids, min(project.sites, len(world.site_ids))))
            services = [world.service_by_slug[s] for s in project.services]
            project_id = conn.execute(
                insert(Project.__table__).values(
                    organisation_id=world.org_id,
                    name=f"{project.name} {starts.year}–{ends.year}",
                    funder=project.funder.value,
                    starts_on=starts,
                    ends_on=ends,
                    created_by_id=admin,
                    created_at=datetime.combine(starts - timedelta(days=30), datetime.min.time()),
                )
            ).inserted_primary_key[0]
            chosen = [a for a, s, k in activities if s in sites and k in project.kinds]
            conn.execute(
                insert(project_sites), [{"project_id": project_id, "site_id": s} for s in sites]
            )
            conn.execute(
                insert(project_services),
                [{"project_id": project_id, "service_id": s} for s in services],
            )
            if chosen:
                conn.execute(
                    insert(project_activities),
                    [{"project_id": project_id, "activity_id": a} for a in chosen],
                )
            scope = Scope(sites, services, chosen, starts, ends, min(plan.today, ends))
            targets = _targets(conn, rng, project, scope, world)
            conn.execute(
                insert(ProjectTarget.__table__),
                [{"project_id": project_id, **t} for t in targets],
            )
    return len(PROJECTS)


@dataclass(frozen=True)
class Scope:
    sites: list[int]
    services: list[int]
    activities: list[int]
    starts: date
    ends: date
    so_far: date  # the last day with data

    @property
    def pace(self) -> float:
        """The whole period over the part of it that has data."""
        done = max(30, (self.so_far - self.starts).days + 1)
        return ((self.ends - self.starts).days + 1) / done


def _targets(conn, rng, project: ProjectPlan, scope: Scope, world) -> list[dict]:
    """Each indicator's count so far, extended to the whole period and set 15 % below to 25 %
    above it (one ambition per indicator, so its splits by gender and service add up),
    rounded to two significant figures."""
    actual = _actuals(conn, scope)
    slug_of = {service_id: slug for slug, service_id in world.service_by_slug.items()}
    rows = []
    ambition = {indicator: rng.uniform(0.85, 1.25) for indicator in Indicator}

    def target(indicator, count, gender=None, service_id=None):
        value = count * scope.pace * ambition[indicator]
        rows.append(
            {
                "indicator": indicator.value,
                "gender": gender,
                "service_id": service_id,
                "target": _round(value),
            }
        )

    for indicator in Indicator:
        by = actual.get(indicator, {})
        target(indicator, sum(by.values()))
        if indicator in project.gendered:
            for gender in (Gender.WOMAN, Gender.MAN):
                target(indicator, by.get(gender.value, 0), gender=gender.value)
    for indicator in (Indicator.REFERRALS, Indicator.STARTED):
        per = actual.get((indicator, "service"), {})
        for service_id in scope.services:
            if slug_of[service_id] in project.per_service:
                target(indicator, per.get(service_id, 0), service_id=service_id)
    return rows


def _round(value: float) -> int:
    """Two significant figures, as targets are set: 1,234 is 1,200; 47 is 47."""
    if value < 100:
        return max(1, round(value))
    digits = len(str(int(value))) - 2
    return round(value, -digits)


def _actuals(conn, scope: Scope) -> dict:
    """Counts so far in the project's scope: {indicator: {gender or None: n}} and, per service,
    {(indicator, "service"): {service_id: n}}."""
    first, last = scope.starts, scope.so_far
    found: dict = {}
    visits = conn.execute(
        select(func.sum(VisitDaySummary.groups), func.sum(VisitDaySummary.new_women)).where(
            VisitDaySummary.site_id.in_(scope.sites),
            VisitDaySummary.visit_date.between(first, last),
        )
    ).one()
    found[Indicator.VISITS] = {None: visits[0] or 0}
    found[Indicator.WOMEN_REACHED] = {None: visits[1] or 0}
    sessions = conn.execute(
        select(func.count(ActivitySession.id), func.sum(SessionAttendance.conversations))
        .select_from(ActivitySession)
        .outerjoin(SessionAttendance, SessionAttendance.session_id == ActivitySession.id)
        .where(
            ActivitySession.activity_id.in_(scope.activities),
            ActivitySession.status == SessionStatus.SCHEDULED,
            ActivitySession.on_date.between(first, last),
        )
    ).one()
    found[Indicator.SESSIONS_HELD] = {None: sessions[0] or 0}
    found[Indicator.CONVERSATIONS] = {None: sessions[1] or 0}
    in_scope = (
        Referral.site_id.in_(scope.sites),
        Referral.service_id.in_(scope.services),
        Referral.created_at >= datetime.combine(first, datetime.min.time()),
        Referral.created_at < datetime.combine(last + timedelta(days=1), datetime.min.time()),
    )
    started = Referral.outcome == Outcome.STARTED
    for gender, service_id, referrals, starts, people in conn.execute(
        select(
            Referral.gender,
            Referral.service_id,
            func.count(),
            func.sum(case((started, 1), else_=0)),
            func.count(func.distinct(Referral.consent_id)),
        )
        .where(*in_scope)
        .group_by(Referral.gender, Referral.service_id)
    ):
        for key, n in ((Indicator.REFERRALS, referrals), (Indicator.STARTED, starts)):
            found.setdefault(key, {}).setdefault(gender, 0)
            found[key][gender] += n
            per = found.setdefault((key, "service"), {})
            per[service_id] = per.get(service_id, 0) + n
        # Participants: people, close enough for a target (a visitor with two services counts
        # once per service here).
        found.setdefault(Indicator.PARTICIPANTS, {}).setdefault(gender, 0)
        found[Indicator.PARTICIPANTS][gender] += people
    outcomes = {
        Indicator.WORK_OR_STUDIES: (R.IN_WORK.value, R.IN_STUDIES.value),
        Indicator.WORK_PLACEMENTS: (R.IN_WORK_PLACEMENT.value,),
    }
    for indicator, results in outcomes.items():
        found[indicator] = dict(
            conn.execute(
                select(Referral.gender, func.count(func.distinct(FollowUp.referral_id)))
                .join(Referral, Referral.id == FollowUp.referral_id)
                .where(*in_scope, FollowUp.result.in_(results))
                .group_by(Referral.gender)
            ).all()
        )
    return found
