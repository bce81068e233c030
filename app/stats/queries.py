"""The statistics queries: every figure is counted in the database, in as few scans as the
indexes allow. Nothing here loads visit or referral rows into Python; what comes back is a
handful of aggregated numbers per figure.

Visits are read from the summaries (kept exact by app.stats.summary): the monthly ones
(VisitMonthSummary, VisitMonthLanguage) for the whole months of the period and the daily ones for
the days around them, filtered on their primary keys, so a year of 20 sites is 240 rows (and
some 3,400 language rows) however many visits it holds; a trend by week reads the days;
referrals by `organisation_id = … AND created_at in range` (ix_referral_org_created, which covers
every referral column counted here, so a year is read from the index alone) and
anonymous interest by `organisation_id = … AND on_date in range` (ix_interest_org_date).
Referrals are a cohort: those created in the period, with their status today. Their days are
UTC days (at most two hours off Swedish midnight), the same in the filter and in the trends.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, func, literal, null, or_, select, union_all

from ..choices import Outcome, ReferralStatus
from ..extensions import db
from ..models import (
    AnonymousInterest,
    Referral,
    Service,
    Site,
    VisitDayLanguage,
    VisitDaySummary,
    VisitMonthLanguage,
    VisitMonthSummary,
)
from ..names import service_name_column
from .periods import Bucket, Period, add_months
from .summary import SUMMED


@dataclass(frozen=True)
class Filters:
    """What the dashboard counts: one organisation, some of its sites, maybe one service."""

    organisation_id: int
    site_ids: tuple[int, ...]
    period: Period
    service_id: int | None = None
    site_id: int | None = None  # the chosen site, None for every site


# -- dialect helpers ----------------------------------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def bucket_start(column, bucket: Bucket):
    """The first day of the ISO week (Monday) or month of a date or datetime column, as an
    SQL expression that SQLite and PostgreSQL both group by."""
    if _dialect() == "postgresql":
        return cast(func.date_trunc(bucket.value, column), Date)
    if bucket is Bucket.WEEK:
        # 'weekday 0' moves forward to Sunday (or stays on one); six days back is its Monday.
        return func.date(column, "weekday 0", "-6 days")
    return func.strftime("%Y-%m-01", column)


def days_between(later, earlier):
    """`later - earlier` in (fractional) days."""
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def as_date(value) -> date:
    """Bucket keys come back as dates (PostgreSQL) or ISO strings (SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def buckets_in(period: Period, bucket: Bucket) -> list[date]:
    """Every bucket start that touches the period, so empty weeks show as 0."""
    if bucket is Bucket.WEEK:
        first = period.start - timedelta(days=period.start.weekday())
        step = lambda d: d + timedelta(weeks=1)  # noqa: E731
    else:
        first = period.start.replace(day=1)
        step = lambda d: add_months(d, 1)  # noqa: E731
    result, current = [], first
    while current <= period.end:
        result.append(current)
        current = step(current)
    return result


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum(column):
    return func.coalesce(func.sum(column), 0)


# -- scopes ------------------------------------------------------------------------------------


def _sites(organisation_id: int):
    """Every site of the organisation, closed ones too: their past visits still count."""
    return select(
        literal("site").label("part"),
        Site.id.label("id"),
        Site.name.label("name"),
        literal(0).label("sort_key"),
        Site.name.label("tie"),
    ).where(Site.organisation_id == organisation_id)


def _services(organisation_id: int, locale: str):
    """Every service of the organisation, inactive ones too, named in `locale` (app.names)."""
    return select(
        literal("service").label("part"),
        Service.id.label("id"),
        service_name_column(locale),
        Service.sort_order.label("sort_key"),
        Service.slug.label("tie"),
    ).where(Service.organisation_id == organisation_id)


def _named(*parts) -> dict[str, list[tuple[int, str]]]:
    """(id, name) of each part's rows, in order: sites by name, services by their sort order."""
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    named: dict[str, list[tuple[int, str]]] = {"site": [], "service": []}
    query = select(rows).order_by(rows.c.part, rows.c.sort_key, rows.c.tie)
    for row in db.session.execute(query):
        named[row.part].append((row.id, row.name))
    return named


def organisation_sites(organisation_id: int) -> list[tuple[int, str]]:
    return _named(_sites(organisation_id))["site"]


def organisation_services(organisation_id: int, locale: str) -> list[tuple[int, str]]:
    return _named(_services(organisation_id, locale))["service"]


def sites_and_services(
    organisation_id: int, locale: str
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Both of the above in one statement: the dashboard's filters name both on every view."""
    named = _named(_sites(organisation_id), _services(organisation_id, locale))
    return named["site"], named["service"]


def _visit_scope(model, f: Filters) -> list:
    return [model.site_id.in_(f.site_ids), model.visit_date.between(f.period.start, f.period.end)]


def utc_bounds(period: Period) -> tuple[datetime, datetime]:
    return datetime.combine(period.start, time.min), datetime.combine(
        period.end + timedelta(days=1), time.min
    )


def _referral_scope(f: Filters) -> list:
    start, end = utc_bounds(f.period)
    conditions = [
        Referral.organisation_id == f.organisation_id,
        Referral.created_at >= start,
        Referral.created_at < end,
    ]
    if f.site_id is not None:
        conditions.append(Referral.site_id == f.site_id)
    if f.service_id is not None:
        conditions.append(Referral.service_id == f.service_id)
    return conditions


def _interest_scope(f: Filters) -> list:
    conditions = [
        AnonymousInterest.organisation_id == f.organisation_id,
        AnonymousInterest.on_date.between(f.period.start, f.period.end),
    ]
    if f.site_id is not None:
        conditions.append(AnonymousInterest.site_id == f.site_id)
    if f.service_id is not None:
        conditions.append(AnonymousInterest.service_id == f.service_id)
    return conditions


# -- visits ------------------------------------------------------------------------------------


def whole_months(period: Period) -> tuple[tuple[date, date] | None, list[tuple[date, date]]]:
    """The whole calendar months inside the period (the first days of the first and the last),
    read from the monthly summaries, and the day ranges before and after them, read from the
    daily ones. A year is twelve months and no days; a week is no months and its seven days."""
    first = period.start if period.start.day == 1 else add_months(period.start, 1)
    after = add_months(period.end, 1)  # the first day after the end's month
    stop = after if period.end + timedelta(days=1) == after else period.end.replace(day=1)
    if first >= stop:
        return None, [(period.start, period.end)]
    days = []
    if period.start < first:
        days.append((period.start, first - timedelta(days=1)))
    if stop <= period.end:
        days.append((stop, period.end))
    return (first, add_months(stop, -1)), days


def _summed_rows(f: Filters, day_model, month_model, day_columns, month_columns):
    """One SELECT of the period's rows: the month rows of its whole months UNION ALL the day
    rows of the days around them. Each side gives `*_columns(table)` as its columns."""
    months, day_ranges = whole_months(f.period)
    parts = []
    if months:
        table = month_model.__table__
        parts.append(
            select(*month_columns(table)).where(
                table.c.site_id.in_(f.site_ids), table.c.month.between(*months)
            )
        )
    if day_ranges:
        table = day_model.__table__
        parts.append(
            select(*day_columns(table)).where(
                table.c.site_id.in_(f.site_ids),
                or_(*[table.c.visit_date.between(*days) for days in day_ranges]),
            )
        )
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def visit_figures(f: Filters, bucket: Bucket) -> tuple[dict[str, int], list[tuple[date, int]]]:
    """The period's visit totals (groups, people by gender and age band, new and returning,
    each topic, outreach) and its groups per week or month, every bucket included."""
    totals, per_bucket = visit_series(f, bucket)
    return totals, [(start, counts.get("groups", 0)) for start, counts in per_bucket.items()]


def visit_series(f: Filters, bucket: Bucket) -> tuple[dict[str, int], dict[date, dict[str, int]]]:
    """The period's visit totals and every summed figure per week or month (each bucket of the
    period, in order, empty ones as {}): one query over the summaries (monthly for whole months
    when the trend is by month, daily otherwise), summed per bucket; the totals are the buckets
    added up here."""
    starts = buckets_in(f.period, bucket)
    if not f.site_ids:
        return {}, {start: {} for start in starts}
    if bucket is Bucket.MONTH:
        rows = _summed_rows(
            f,
            VisitDaySummary,
            VisitMonthSummary,
            lambda t: (
                [bucket_start(t.c.visit_date, bucket).label("bucket")] + [t.c[n] for n in SUMMED]
            ),
            lambda t: [t.c.month.label("bucket")] + [t.c[n] for n in SUMMED],
        )
    else:
        # Weeks need days. Per day first, then bucket the (at most 366 a year) days: the date
        # function then runs once per day, not once per site and day.
        table = VisitDaySummary.__table__
        days = (
            select(table.c.visit_date.label("day"), *[_sum(table.c[n]).label(n) for n in SUMMED])
            .where(*_visit_scope(VisitDaySummary, f))
            .group_by(table.c.visit_date)
            .subquery()
        )
        rows = select(bucket_start(days.c.day, bucket).label("bucket"), days).subquery()
    result = db.session.execute(
        select(rows.c.bucket, *[func.sum(rows.c[n]).label(n) for n in SUMMED]).group_by(
            rows.c.bucket
        )
    ).all()
    totals = {n: sum(int(row._mapping[n] or 0) for row in result) for n in SUMMED}
    totals["visit_groups"] = totals.pop("groups")
    totals["returning_groups"] = totals["visit_groups"] - totals["new_groups"]
    per_bucket = {
        as_date(row.bucket): {n: int(row._mapping[n] or 0) for n in SUMMED} for row in result
    }
    return totals, {start: per_bucket.get(start, {}) for start in starts}


def visit_languages(f: Filters) -> list[tuple[str, int]]:
    """Visiting groups per language spoken, most frequent first (monthly language summaries for
    whole months, daily ones for the days around them)."""
    if not f.site_ids:
        return []
    rows = _summed_rows(
        f,
        VisitDayLanguage,
        VisitMonthLanguage,
        lambda t: [t.c.code, t.c.groups],
        lambda t: [t.c.code, t.c.groups],
    )
    count = func.sum(rows.c.groups).label("n")
    result = db.session.execute(
        select(rows.c.code, count)
        .group_by(rows.c.code)
        .having(count > 0)
        .order_by(count.desc(), rows.c.code)
    )
    return [(row.code, int(row.n)) for row in result]


# -- referrals ---------------------------------------------------------------------------------


def referral_counts(
    f: Filters, bucket: Bucket
) -> tuple[dict[str, int], dict[int, int], dict[int, int], list[tuple[date, int]]]:
    """In one statement (three parts, UNION ALL): referrals by status and by outcome, how many
    have a first contact, and how many per service (an index-only scan of
    ix_referral_org_created, which covers every column read here, grouped by service and the
    few service rows added up here); the anonymous interest per service; and the referrals
    created per week or month (counted per day first, a cheap expression per row, then the at
    most 366 days put in their buckets). Returns (totals, by service, interest by service,
    trend)."""
    columns = [
        func.count().label("total"),
        func.count(Referral.first_contact_at).label("with_first_contact"),
        _count_if(
            and_(Referral.status == ReferralStatus.CLOSED, Referral.closed_at.is_not(None))
        ).label("with_closed_at"),
    ]
    columns += [
        _count_if(Referral.status == status.value).label(f"status_{status.value}")
        for status in ReferralStatus
    ]
    columns += [
        _count_if(Referral.outcome == outcome.value).label(f"outcome_{outcome.value}")
        for outcome in Outcome
    ]
    padding = [null()] * (len(columns) - 1)  # the columns the other two parts have not
    by_service = (
        select(
            literal("service").label("part"),
            Referral.service_id,
            cast(null(), Date).label("bucket"),  # typed: PostgreSQL unites NULLs as text
            *columns,
        )
        .where(*_referral_scope(f))
        .group_by(Referral.service_id)
    )
    interest = (
        select(literal("interest"), AnonymousInterest.service_id, null(), func.count(), *padding)
        .where(*_interest_scope(f))
        .group_by(AnonymousInterest.service_id)
    )
    days = (
        select(utc_day(Referral.created_at).label("day"), func.count().label("n"))
        .where(*_referral_scope(f))
        .group_by(utc_day(Referral.created_at))
        .subquery()
    )
    key = bucket_start(days.c.day, bucket)
    trend = select(literal("trend"), null(), key, func.sum(days.c.n), *padding).group_by(key)
    totals = {column.name: 0 for column in columns}
    referrals: dict[int, int] = {}
    interested: dict[int, int] = {}
    per_bucket: dict[date, int] = {}
    for row in db.session.execute(union_all(by_service, interest, trend)):
        values = row._mapping
        if row.part == "service":
            referrals[row.service_id] = int(row.total)
            for name in totals:
                totals[name] += int(values[name])
        elif row.part == "interest":
            interested[row.service_id] = int(row.total)
        else:
            per_bucket[as_date(row.bucket)] = int(row.total)
    trend_rows = [(start, per_bucket.get(start, 0)) for start in buckets_in(f.period, bucket)]
    return totals, referrals, interested, trend_rows


def utc_day(column):
    """The UTC day of a datetime column, cheap enough to run on every row: SQLite stores
    datetimes as ISO text, so its first ten characters are the day."""
    if _dialect() == "postgresql":
        return cast(column, Date)
    return func.substr(column, 1, 10)


def _median(days, condition, n: int):
    """The median of `days` over the `n` referrals that meet `condition`, as a scalar
    subquery: the database sorts and hands back only the middle one or two values
    (ORDER BY … LIMIT … OFFSET …). NULL when there is nothing to take the median of."""
    if n == 0:
        return null()
    middle = (
        select(days.label("d"))
        .where(*condition)
        .order_by(days)
        .limit(2 - n % 2)
        .offset((n - 1) // 2)
        .subquery()
    )
    return select(func.avg(middle.c.d)).scalar_subquery()


def median_days(f: Filters, first_n: int, outcome_n: int) -> tuple[float | None, float | None]:
    """Median days to first contact (over `first_n` referrals) and to an outcome (over
    `outcome_n` closed ones), both in one statement; a count of 0 skips its median."""
    if first_n == 0 and outcome_n == 0:
        return None, None
    first = _median(
        days_between(Referral.first_contact_at, Referral.created_at),
        [*_referral_scope(f), Referral.first_contact_at.is_not(None)],
        first_n,
    )
    outcome = _median(
        days_between(Referral.closed_at, Referral.created_at),
        [
            *_referral_scope(f),
            Referral.status == ReferralStatus.CLOSED,
            Referral.closed_at.is_not(None),
        ],
        outcome_n,
    )
    row = db.session.execute(select(first.label("first"), outcome.label("outcome"))).one()
    return tuple(None if value is None else float(value) for value in row)
