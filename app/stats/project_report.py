"""(area: stats) A project's report: actual against target for its period, by month, site,
gender and service, with small counts protected by the dashboard's rule (app.stats.suppression)
and a plain-language line per target. The page, the print view and the XLSX read one
`ProjectReport`, so the same cells are hidden everywhere.

Every indicator is defined in docs/statistics.md ("Projects") and counted here, in five
statements whatever the data: the project's sites, services, activities and targets (one UNION),
the visit summaries by month and site, the held sessions with their attendance by month and
site, the referrals by month, site, service and gender, and the same for those with a follow-up
in work, studies or a placement. The rest is a pivot in Python of a few thousand aggregated
rows at most.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, String, and_, case, cast, func, literal, null, select, union_all

from ..choices import (
    GENDERED_INDICATORS,
    FollowUpResult,
    Funder,
    Gender,
    Indicator,
    Outcome,
    ReferralStatus,
    SessionStatus,
    label,
)
from ..extensions import db
from ..models import (
    ActivitySession,
    FollowUp,
    Project,
    ProjectTarget,
    Referral,
    Service,
    SessionAttendance,
    Site,
    Visit,
    VisitDaySummary,
    VisitMonthSummary,
    project_activities,
    project_services,
    project_sites,
)
from ..names import service_name_column
from . import queries
from .periods import Bucket, Period, PeriodKind
from .suppression import Cell, Mark, TableCounts, primary, protect_share, protect_tables
from .tables import Grid, GridRow, Measure, bucket_label

INDICATORS = tuple(Indicator)
# Counted per gender (rows of the gender table), and per service (rows of the service table).
GENDERED = tuple(i for i in INDICATORS if i in GENDERED_INDICATORS)
PER_SERVICE = (Indicator.REFERRALS, Indicator.STARTED)
# A session is not a person: the programme is public, so sessions held are shown as they are
# (as on the dashboard, app.stats.programme_report).
EXACT = frozenset({Indicator.SESSIONS_HELD})
# The gender rows: the three coded answers and "not answered" (None; a referral asked nothing).
GENDERS: tuple[str | None, ...] = (Gender.WOMAN, Gender.MAN, Gender.OTHER, None)
WORK_OR_STUDIES = (FollowUpResult.IN_WORK, FollowUpResult.IN_STUDIES)
WORK_PLACEMENT = (FollowUpResult.IN_WORK_PLACEMENT,)

# The summary line of a target, one sentence per indicator: the numbers and the group of people
# ("Kvinnor", from WHO) and the service are placeholders, so each language orders them itself.
LINES = {
    Indicator.WOMEN_REACHED: _l("Nya kvinnor som besökt: %(actual)s av %(target)s (%(share)s)"),
    Indicator.VISITS: _l("Besök (grupper): %(actual)s av %(target)s (%(share)s)"),
    Indicator.SESSIONS_HELD: _l(
        "Genomförda aktivitetstillfällen: %(actual)s av %(target)s (%(share)s)"
    ),
    Indicator.PARTICIPANTS: _l(
        "%(who)s som deltog i aktiviteter (per tillfälle): %(actual)s av %(target)s (%(share)s)"
    ),
    Indicator.CONVERSATIONS: _l("Enskilda samtal: %(actual)s av %(target)s (%(share)s)"),
    Indicator.REFERRALS: _l("%(who)s som hänvisades: %(actual)s av %(target)s (%(share)s)"),
    Indicator.STARTED: _l(
        "%(who)s som hänvisades och började: %(actual)s av %(target)s (%(share)s)"
    ),
    Indicator.WORK_OR_STUDIES: _l(
        "%(who)s i arbete eller studier efter insatsen: %(actual)s av %(target)s (%(share)s)"
    ),
    Indicator.WORK_PLACEMENTS: _l(
        "%(who)s i praktik efter insatsen: %(actual)s av %(target)s (%(share)s)"
    ),
}
SERVICE_LINES = {
    Indicator.REFERRALS: _l(
        "%(who)s som hänvisades till %(service)s: %(actual)s av %(target)s (%(share)s)"
    ),
    Indicator.STARTED: _l(
        "%(who)s som hänvisades till %(service)s och började: %(actual)s av %(target)s (%(share)s)"
    ),
}
WHO = {
    None: _l("Personer"),
    Gender.WOMAN: _l("Kvinnor"),
    Gender.MAN: _l("Män"),
    Gender.OTHER: _l("Personer av annat kön"),
}


@dataclass(frozen=True)
class Scope:
    """What a project covers: its sites and services (named, with the organisation's services
    when it names none), its activities (empty: every activity at its sites) and its targets."""

    organisation_id: int
    period: Period
    sites: list[tuple[int, str]]
    services: list[tuple[int, str]]
    activity_ids: tuple[int, ...]
    targets: list[ProjectTarget]

    @property
    def site_ids(self) -> tuple[int, ...]:
        return tuple(sid for sid, _name in self.sites)

    @property
    def service_ids(self) -> tuple[int, ...]:
        return tuple(sid for sid, _name in self.services)


@dataclass
class Counts:
    """The indicators' raw counts, per month, site, gender and service (before protection)."""

    month: dict[Indicator, Counter] = field(default_factory=lambda: defaultdict(Counter))
    site: dict[Indicator, Counter] = field(default_factory=lambda: defaultdict(Counter))
    gender: dict[Indicator, Counter] = field(default_factory=lambda: defaultdict(Counter))
    service: dict[Indicator, Counter] = field(default_factory=lambda: defaultdict(Counter))
    service_gender: dict[Indicator, Counter] = field(default_factory=lambda: defaultdict(Counter))
    total: Counter = field(default_factory=Counter)

    def add(self, indicator: Indicator, month: date, site_id: int, value: int) -> None:
        self.month[indicator][month] += value
        self.site[indicator][site_id] += value
        self.total[indicator] += value


@dataclass(frozen=True)
class TargetLine:
    """One target against its actual: what the summary table, the sentence and the XLSX show."""

    indicator: Indicator
    gender: str | None
    service_id: int | None
    indicator_label: str
    gender_label: str
    service_label: str
    target: int
    actual: Cell
    share: Measure
    sentence: str

    @property
    def target_cell(self) -> Cell:
        """The target as a figure the page formats like its counts (a target is not a person)."""
        return Cell(self.target, Mark.SHOWN, self.actual.threshold)


@dataclass
class ProjectReport:
    project_id: int
    name: str
    funder: str
    period: Period
    threshold: int
    targets: list[TargetLine]
    grids: list[Grid]  # by month, by site, by gender, by service
    totals: dict[Indicator, Cell]
    raw: Counts  # the unprotected counts, for tests and nothing shown

    def grid(self, key: str) -> Grid:
        return next(g for g in self.grids if g.key == key)


# -- the statements ----------------------------------------------------------------------------


def _typed_null(kind):
    return cast(null(), kind)


def read_scope(project: Project, locale: str) -> Scope:
    """The project's sites (named), services (named in `locale`, with the organisation's own
    to fall back on), activities and targets: one UNION ALL statement."""
    text, number = String, Integer
    columns = ("part", "id", "name", "sort", "indicator", "gender", "service_id", "target")

    def part(name, id_, label=None, sort=None, indicator=None, gender=None, sid=None, target=None):
        values = (
            literal(name, text),
            id_,
            label if label is not None else _typed_null(text),
            sort if sort is not None else _typed_null(number),
            indicator if indicator is not None else _typed_null(text),
            gender if gender is not None else _typed_null(text),
            sid if sid is not None else _typed_null(number),
            target if target is not None else _typed_null(number),
        )
        return [v.label(c) for v, c in zip(values, columns, strict=True)]

    ps, pv, pa, t = project_sites.c, project_services.c, project_activities.c, ProjectTarget
    statement = union_all(
        select(*part("site", Site.id, Site.name))
        .join(project_sites, ps.site_id == Site.id)
        .where(ps.project_id == project.id),
        select(
            *part(
                "service",
                Service.id,
                service_name_column(locale),
                Service.sort_order,
                sid=func.count(pv.project_id),
            )
        )
        .outerjoin(project_services, and_(pv.service_id == Service.id, pv.project_id == project.id))
        .where(Service.organisation_id == project.organisation_id)
        .group_by(Service.id),
        select(*part("activity", pa.activity_id)).where(pa.project_id == project.id),
        select(
            *part("target", t.id, None, None, t.indicator, t.gender, t.service_id, t.target)
        ).where(t.project_id == project.id),
    )
    sites, named, every, activities, targets = [], [], [], [], []
    for row in db.session.execute(statement):
        if row.part == "site":
            sites.append((row.id, row.name))
        elif row.part == "service":
            every.append((row.sort or 0, row.name, row.id))
            if row.service_id:  # the project names it
                named.append((row.sort or 0, row.name, row.id))
        elif row.part == "activity":
            activities.append(row.id)
        else:
            targets.append(
                ProjectTarget(
                    id=row.id,
                    indicator=row.indicator,
                    gender=row.gender,
                    service_id=row.service_id,
                    target=row.target,
                )
            )
    sites.sort(key=lambda s: (s[1], s[0]))
    services = [(sid, name) for _sort, name, sid in sorted(named or every)]
    targets.sort(key=lambda tg: tg.id)
    period = Period(PeriodKind.CUSTOM, project.starts_on, project.ends_on)
    return Scope(
        project.organisation_id, period, sites, services, tuple(sorted(activities)), targets
    )


def _filters(scope: Scope) -> queries.Filters:
    return queries.Filters(scope.organisation_id, scope.site_ids, scope.period)


def count_visits(scope: Scope, counts: Counts) -> None:
    """women_reached and visits: the new women and the visiting groups of the visit summaries
    at the project's sites, whole months from the monthly ones and the days around them from
    the daily ones (app.stats.queries.whole_months), summed per month and site."""
    if not scope.site_ids:
        return
    month = Bucket.MONTH
    rows = queries._summed_rows(  # noqa: SLF001 - the same split of a period as the dashboard's
        _filters(scope),
        VisitDaySummary,
        VisitMonthSummary,
        lambda t: [
            queries.bucket_start(t.c.visit_date, month).label("bucket"),
            t.c.site_id,
            t.c.groups,
            t.c.new_women,
        ],
        lambda t: [t.c.month.label("bucket"), t.c.site_id, t.c.groups, t.c.new_women],
    )
    statement = select(
        rows.c.bucket,
        rows.c.site_id,
        func.sum(rows.c.groups).label("groups"),
        func.sum(rows.c.new_women).label("new_women"),
    ).group_by(rows.c.bucket, rows.c.site_id)
    for row in db.session.execute(statement):
        start = queries.as_date(row.bucket)
        counts.add(Indicator.VISITS, start, row.site_id, int(row.groups or 0))
        counts.add(Indicator.WOMEN_REACHED, start, row.site_id, int(row.new_women or 0))


def count_sessions(scope: Scope, counts: Counts, today: date) -> None:
    """sessions_held, participants and conversations: the held sessions (scheduled, not
    cancelled, on a day that has come) of the project's activities at its sites, with their
    attendance row and the visits counted as attending them (Visit.session_id), as the session
    page and the dashboard add them (app.stats.programme), per month and site."""
    if not scope.site_ids:
        return
    s = ActivitySession
    end = min(scope.period.end, today)
    conditions = [
        s.organisation_id == scope.organisation_id,
        s.on_date.between(scope.period.start, end),
        s.status == SessionStatus.SCHEDULED,
        s.site_id.in_(scope.site_ids),
    ]
    if scope.activity_ids:
        conditions.append(s.activity_id.in_(scope.activity_ids))
    held = select(s.id, s.site_id, s.on_date).where(*conditions).cte("held_session")
    visits = (
        select(
            Visit.session_id.label("session_id"),
            func.sum(Visit.women).label("women"),
            func.sum(Visit.men).label("men"),
            func.sum(Visit.other_adults).label("other_adults"),
        )
        .where(Visit.session_id.in_(select(held.c.id)))
        .group_by(Visit.session_id)
        .subquery()
    )
    a = SessionAttendance
    zero = literal(0)

    def both(name: str):
        return func.coalesce(a.__table__.c[name], zero) + func.coalesce(visits.c[name], zero)

    key = queries.bucket_start(held.c.on_date, Bucket.MONTH).label("bucket")
    statement = (
        select(
            key,
            held.c.site_id,
            func.count().label("sessions"),
            func.sum(both("women")).label("women"),
            func.sum(both("men")).label("men"),
            func.sum(both("other_adults")).label("other_adults"),
            func.sum(func.coalesce(a.conversations, zero)).label("conversations"),
        )
        .select_from(held)
        .outerjoin(a, a.session_id == held.c.id)
        .outerjoin(visits, visits.c.session_id == held.c.id)
        .group_by(key, held.c.site_id)
    )
    for row in db.session.execute(statement):
        start = queries.as_date(row.bucket)
        women, men, other = int(row.women or 0), int(row.men or 0), int(row.other_adults or 0)
        counts.add(Indicator.SESSIONS_HELD, start, row.site_id, int(row.sessions))
        counts.add(Indicator.PARTICIPANTS, start, row.site_id, women + men + other)
        counts.add(Indicator.CONVERSATIONS, start, row.site_id, int(row.conversations or 0))
        gender = counts.gender[Indicator.PARTICIPANTS]
        gender[Gender.WOMAN] += women
        gender[Gender.MAN] += men
        gender[Gender.OTHER] += other


def _month_of(column):
    """The first day of a datetime column's (UTC) month, cheap enough for every referral:
    SQLite stores datetimes as ISO text, so its first seven characters are the month."""
    if queries._dialect() == "postgresql":  # noqa: SLF001
        return queries.bucket_start(column, Bucket.MONTH)
    return func.substr(column, 1, 7).concat("-01")


def _referral_scope(scope: Scope) -> list:
    """The project's referrals: created in the period (UTC days, as the dashboard), at its
    sites, to its services; the prefix of ix_referral_org_created."""
    start, end = queries.utc_bounds(scope.period)
    r = Referral
    return [
        r.organisation_id == scope.organisation_id,
        r.created_at >= start,
        r.created_at < end,
        r.site_id.in_(scope.site_ids),
        r.service_id.in_(scope.service_ids),
    ]


def _add_referrals(counts: Counts, row, figures) -> None:
    month = queries.as_date(row.bucket)
    gender = row.gender if row.gender in GENDERS else None
    for indicator, value in figures:
        value = int(value or 0)
        counts.add(indicator, month, row.site_id, value)
        counts.gender[indicator][gender] += value
        counts.service[indicator][row.service_id] += value
        counts.service_gender[indicator][(row.service_id, gender)] += value


def count_referrals(scope: Scope, counts: Counts) -> None:
    """referrals and started: the project's referrals (`_referral_scope`) per month, site,
    service and gender; started is closed with the outcome started. Then
    `count_follow_up_results`."""
    if not scope.site_ids or not scope.service_ids:
        return
    r = Referral
    started = and_(r.status == ReferralStatus.CLOSED, r.outcome == Outcome.STARTED)
    key = _month_of(r.created_at).label("bucket")
    keys = (key, r.site_id, r.service_id, r.gender)
    statement = (
        select(
            *keys,
            func.count().label("referrals"),
            func.sum(case((started, 1), else_=0)).label("started"),
        )
        .where(*_referral_scope(scope))
        .group_by(*keys)
    )
    for row in db.session.execute(statement):
        _add_referrals(
            counts, row, ((Indicator.REFERRALS, row.referrals), (Indicator.STARTED, row.started))
        )
    count_follow_up_results(scope, counts)


def count_follow_up_results(scope: Scope, counts: Counts) -> None:
    """work_or_studies and work_placements: of the project's referrals, those with at least
    one follow-up recorded with such a result, however many follow-ups say so and whenever
    they were recorded. Read from the follow-ups with those results (few: only a started
    referral has any), one row per referral, joined to the referrals by their key: cheaper
    than asking every referral of the period whether it has one."""
    f = FollowUp
    work = case((f.result.in_(WORK_OR_STUDIES), 1), else_=0)
    placement = case((f.result.in_(WORK_PLACEMENT), 1), else_=0)
    results = (
        select(
            f.referral_id.label("referral_id"),
            func.max(work).label("work"),
            func.max(placement).label("placement"),
        )
        .where(
            f.organisation_id == scope.organisation_id,
            f.result.in_([*WORK_OR_STUDIES, *WORK_PLACEMENT]),
        )
        .group_by(f.referral_id)
        .subquery()
    )
    r = Referral
    key = _month_of(r.created_at).label("bucket")
    keys = (key, r.site_id, r.service_id, r.gender)
    statement = (
        select(
            *keys,
            func.sum(results.c.work).label("work"),
            func.sum(results.c.placement).label("placement"),
        )
        .select_from(results)
        .join(r, r.id == results.c.referral_id)
        .where(*_referral_scope(scope))
        .group_by(*keys)
    )
    for row in db.session.execute(statement):
        _add_referrals(
            counts,
            row,
            ((Indicator.WORK_OR_STUDIES, row.work), (Indicator.WORK_PLACEMENTS, row.placement)),
        )


def count(scope: Scope, today: date) -> Counts:
    """Every indicator of the project, unprotected: four statements."""
    counts = Counts()
    count_visits(scope, counts)
    count_sessions(scope, counts, today)
    count_referrals(scope, counts)
    return counts


# -- protection and labels ---------------------------------------------------------------------


def _gender_label(gender: str | None) -> str:
    return _("Ej besvarat") if gender is None else label(Gender, gender)


def _combined_services(scope: Scope) -> set[int]:
    """Services with a target for one gender: their gender split is published in the summary,
    so it is protected as a table whose total is the service's cell."""
    return {
        t.service_id
        for t in scope.targets
        if t.service_id is not None and t.gender is not None and t.indicator in PER_SERVICE
    }


def _table_counts(scope: Scope, counts: Counts, months: list[date]) -> list[TableCounts]:
    """Every published table, one column at a time, each adding up to the indicator's total
    (`total_key` is the indicator), so a total hidden in one is hidden in all."""
    result = []
    for ind in INDICATORS:
        if ind in EXACT:
            continue
        total = counts.total[ind]
        result.append(
            TableCounts(f"month:{ind}", tuple(counts.month[ind][m] for m in months), total, ind)
        )
        result.append(
            TableCounts(
                f"site:{ind}", tuple(counts.site[ind][s] for s in scope.site_ids), total, ind
            )
        )
    combined = _combined_services(scope)
    for ind in GENDERED:
        genders = GENDERS if ind is not Indicator.PARTICIPANTS else GENDERS[:-1]
        result.append(
            TableCounts(
                f"gender:{ind}",
                tuple(counts.gender[ind][g] for g in genders),
                counts.total[ind],
                ind,
            )
        )
    for ind in PER_SERVICE:
        ids = scope.service_ids
        result.append(
            TableCounts(
                f"service:{ind}",
                tuple(counts.service[ind][s] for s in ids),
                counts.total[ind],
                ind,
                cell_keys=tuple(
                    (i, f"{ind}:{sid}") for i, sid in enumerate(ids) if sid in combined
                ),
            )
        )
        for sid in sorted(combined & set(ids)):
            result.append(
                TableCounts(
                    f"service_gender:{ind}:{sid}",
                    tuple(counts.service_gender[ind][(sid, g)] for g in GENDERS),
                    counts.service[ind][sid],
                    f"{ind}:{sid}",
                )
            )
    return result


def _exact(value: int, threshold: int) -> Cell:
    return Cell(value, Mark.SHOWN, threshold)


def build(
    project: Project, threshold: int, locale: str, today: date, scope: Scope | None = None
) -> ProjectReport:
    """The project's report for a reader in `locale`: five statements (the scope, visits,
    sessions, referrals, their follow-up results), then protected and labelled here."""
    scope = scope or read_scope(project, locale)
    counts = count(scope, today)
    months = queries.buckets_in(scope.period, Bucket.MONTH)
    protected = protect_tables(_table_counts(scope, counts, months), threshold)
    tables = protected.tables

    def column(key: str, ind: Indicator, values: list[int]) -> list[Cell]:
        if ind in EXACT:
            return [_exact(v, threshold) for v in values]
        return tables[f"{key}:{ind}"][0]

    totals: dict[Indicator, Cell] = {}
    for ind in INDICATORS:
        value = counts.total[ind]
        totals[ind] = _exact(value, threshold) if ind in EXACT else protected.figure(ind, value)

    headers = [ind.label for ind in INDICATORS]
    by_month = [column("month", i, [counts.month[i][m] for m in months]) for i in INDICATORS]
    by_site = [column("site", i, [counts.site[i][s] for s in scope.site_ids]) for i in INDICATORS]
    total_row = [totals[i] for i in INDICATORS]
    grids = [
        Grid(
            "project_month",
            _("Per månad"),
            _("Månad"),
            headers,
            [
                GridRow(bucket_label(m, Bucket.MONTH), [col[n] for col in by_month])
                for n, m in enumerate(months)
            ],
            total_row,
        ),
        Grid(
            "project_site",
            _("Per plats"),
            _("Plats"),
            headers,
            [
                GridRow(name, [col[n] for col in by_site])
                for n, (_sid, name) in enumerate(scope.sites)
            ],
            total_row,
        ),
    ]
    gender_cols = [tables[f"gender:{i}"][0] for i in GENDERED]
    gender_rows = []
    for n, g in enumerate(GENDERS):
        cells = [col[n] if n < len(col) else None for col in gender_cols]
        gender_rows.append(GridRow(_gender_label(g), cells))
    grids.append(
        Grid(
            "project_gender",
            _("Per kön"),
            _("Kön"),
            [i.label for i in GENDERED],
            gender_rows,
            [totals[i] for i in GENDERED],
            _(
                "Kön för hänvisningar är den uppgift som frågades vid kontakten. "
                "Deltagare räknas efter de vuxnas kön på tillfället."
            ),
        )
    )
    service_cols = [tables[f"service:{i}"][0] for i in PER_SERVICE]
    grids.append(
        Grid(
            "project_service",
            _("Per tjänst"),
            _("Tjänst"),
            [i.label for i in PER_SERVICE],
            [
                GridRow(name, [col[n] for col in service_cols])
                for n, (_sid, name) in enumerate(scope.services)
            ],
            [totals[i] for i in PER_SERVICE],
        )
    )
    lines = [_target_line(t, scope, counts, tables, totals, threshold) for t in scope.targets]
    return ProjectReport(
        project_id=project.id,
        name=project.name,
        funder=label(Funder, project.funder),
        period=scope.period,
        threshold=threshold,
        targets=lines,
        grids=grids,
        totals=totals,
        raw=counts,
    )


def _target_line(
    target: ProjectTarget,
    scope: Scope,
    counts: Counts,
    tables: dict,
    totals: dict[Indicator, Cell],
    threshold: int,
) -> TargetLine:
    """The actual of one target, taken from the protected table that publishes it (the total,
    a gender row, a service row, or a service's gender split), and its share of the target."""
    try:
        ind = Indicator(target.indicator)
    except ValueError:
        ind = None
    services = dict(scope.services)
    gender = target.gender if target.gender in GENDERS else None
    service_id = target.service_id if target.service_id in services else None
    if ind is None:
        actual = primary(0, threshold)
    elif ind in PER_SERVICE and service_id is not None and gender is not None:
        cells = tables[f"service_gender:{ind}:{service_id}"][0]
        actual = cells[GENDERS.index(gender)]
    elif ind in PER_SERVICE and service_id is not None:
        actual = tables[f"service:{ind}"][0][scope.service_ids.index(service_id)]
    elif ind in GENDERED and gender is not None:
        actual = tables[f"gender:{ind}"][0][GENDERS.index(gender)]
    else:
        actual = totals[ind]
    target_cell = _exact(target.target, threshold)
    share = Measure(protect_share(actual, target_cell), "percent", target.target > 0)
    indicator_label = label(Indicator, target.indicator)
    parts = {
        "actual": _number_text(actual),
        "target": _number_text(target_cell),
        "share": share.text,
        "who": str(WHO[gender]),
        "service": services.get(service_id, ""),
    }
    if ind is None:
        sentence = f"{indicator_label}: {parts['actual']} / {parts['target']}"
    elif service_id is not None and ind in SERVICE_LINES:
        sentence = str(SERVICE_LINES[ind]) % parts
    else:
        sentence = str(LINES[ind]) % parts
    return TargetLine(
        indicator=ind or target.indicator,
        gender=gender,
        service_id=service_id,
        indicator_label=indicator_label,
        gender_label=label(Gender, gender) if gender else _("Alla"),
        service_label=services[service_id] if service_id is not None else _("Alla tjänster"),
        target=target.target,
        actual=actual,
        share=share,
        sentence=sentence,
    )


def _number_text(cell: Cell) -> str:
    return format_decimal(cell.value) if cell.shown else cell.text
