"""(area: stats) The visit summaries: VisitDaySummary (one row per site and day) and
VisitDayLanguage (one per site, day and language), and the same per calendar month
(VisitMonthSummary, VisitMonthLanguage). The dashboard reads the months for the whole months of
a period and the days for the rest, a few hundred rows a year, instead of a million visits.

They are kept exact in the transaction of every visit write: the visit views call
`apply(visit, 1)` after a create, `apply(visit, -1)` before a delete, and around an edit
`before = contribution(visit)` … `apply_edit(before, visit)` (the old figures out, the new in,
even when the day moved). Each call is one UPSERT per table
(`INSERT … ON CONFLICT … DO UPDATE SET col = col + excluded.col`, SQLite ≥ 3.24 and PostgreSQL),
so concurrent writers add up instead of overwriting each other; on SQLite a write request runs
under BEGIN IMMEDIATE already. A day (or month) whose visits are all deleted keeps a row of
zeros, which counts as nothing. A visit write is four such statements: day, month, and their
languages.

`rebuild()` recomputes the day tables from the visits and the month tables from the days with
one INSERT … SELECT … GROUP BY each, for bulk imports (bench/generate.py), demo seeding and
repairs (`flask stats-rebuild`).
"""

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Date, Table, and_, case, cast, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from ..choices import OutreachPlace, Topic, VisitCount
from ..extensions import db
from ..models import (
    Visit,
    VisitDayLanguage,
    VisitDaySummary,
    VisitLanguage,
    VisitMonthLanguage,
    VisitMonthSummary,
)

COUNT_COLUMNS = tuple(c.value for c in VisitCount)
TOPIC_COLUMNS = tuple(f"topic_{topic.code}" for topic in Topic)
OUTREACH_COLUMNS = tuple(f"outreach_{place.value}" for place in OutreachPlace)
SUMMED = (
    "groups",
    *COUNT_COLUMNS,
    "new_groups",
    "new_women",
    "new_men",
    *TOPIC_COLUMNS,
    "after_outreach_groups",
    *OUTREACH_COLUMNS,
)

_UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@cache
def _upsert_statement(table: Table, dialect: str, keys: tuple[str, ...], summed: tuple[str, ...]):
    """The UPSERT of one table, built once per process: building it costs more than running
    it, and a visit write runs four."""
    statement = _UPSERT[dialect](table)
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in summed},
    )


def _upsert(model, rows: list[dict], keys: tuple[str, ...], summed: tuple[str, ...]):
    """Add `rows` to the table: a new key is inserted, an existing one has its counts added.
    Rows go in the order given (an executemany on the table, not the ORM's bulk insert)."""
    dialect = db.session.get_bind().dialect.name
    db.session.execute(_upsert_statement(model.__table__, dialect, keys, summed), rows)


DAY_KEY = ("site_id", "visit_date")
LANGUAGE_KEY = ("site_id", "visit_date", "code")
MONTH_KEY = ("site_id", "month")
MONTH_LANGUAGE_KEY = ("site_id", "month", "code")


@dataclass(frozen=True)
class Contribution:
    """What one visit adds to the summaries: its day's row and a row per language."""

    day: dict
    languages: tuple[dict, ...]


def contribution(visit: Visit, sign: int = 1) -> Contribution:
    """The visit as it stands in the session now, as summary rows (negated when `sign` is -1)."""
    day = {"site_id": visit.site_id, "visit_date": visit.visit_date, "groups": sign}
    for name in COUNT_COLUMNS:
        day[name] = sign * (getattr(visit, name) or 0)
    day["new_groups"] = sign if visit.is_new else 0
    day["new_women"] = sign * (visit.women or 0) if visit.is_new else 0
    day["new_men"] = sign * (visit.men or 0) if visit.is_new else 0
    mask = visit.topics or 0
    for topic, name in zip(Topic, TOPIC_COLUMNS, strict=True):
        day[name] = sign if mask & topic.value else 0
    # Only a new group can have come because of outreach (the visit form says so too).
    day["after_outreach_groups"] = sign if visit.is_new and visit.after_outreach else 0
    for place, name in zip(OutreachPlace, OUTREACH_COLUMNS, strict=True):
        day[name] = sign if visit.outreach_place == place.value else 0
    languages = tuple(
        {"site_id": visit.site_id, "visit_date": visit.visit_date, "code": code, "groups": sign}
        for code in sorted({row.code for row in visit.languages})
    )
    return Contribution(day, languages)


def _merged(rows, keys: tuple[str, ...], summed: tuple[str, ...]) -> list[dict]:
    """Rows with the same key added up (one UPSERT may touch a row only once), in key order
    so concurrent writers on PostgreSQL lock rows in the same order."""
    by_key: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key in by_key:
            for name in summed:
                by_key[key][name] += row[name]
        else:
            by_key[key] = dict(row)
    return [by_key[key] for key in sorted(by_key)]


def _in_month(row: dict) -> dict:
    """A day's row as a row of its month."""
    monthly = {k: v for k, v in row.items() if k != "visit_date"}
    monthly["month"] = row["visit_date"].replace(day=1)
    return monthly


def _write(*parts: Contribution) -> None:
    day_rows = [p.day for p in parts]
    language_rows = [r for p in parts for r in p.languages]
    _upsert(VisitDaySummary, _merged(day_rows, DAY_KEY, SUMMED), DAY_KEY, SUMMED)
    months = _merged(map(_in_month, day_rows), MONTH_KEY, SUMMED)
    _upsert(VisitMonthSummary, months, MONTH_KEY, SUMMED)
    if language_rows:
        languages = _merged(language_rows, LANGUAGE_KEY, ("groups",))
        _upsert(VisitDayLanguage, languages, LANGUAGE_KEY, ("groups",))
        in_months = _merged(map(_in_month, language_rows), MONTH_LANGUAGE_KEY, ("groups",))
        _upsert(VisitMonthLanguage, in_months, MONTH_LANGUAGE_KEY, ("groups",))


def apply(visit: Visit, sign: int) -> None:
    """Add (`sign` = 1, after a create) or take away (-1, before a delete) one visit to or from
    the summaries, in the transaction of the visit write: four statements."""
    if sign not in (1, -1):
        raise ValueError("sign must be 1 or -1")
    _write(contribution(visit, sign))


def apply_edit(before: Contribution, visit: Visit) -> None:
    """After an edit: take away what the visit was (`contribution(visit)` taken before the
    change) and add what it is now, in the same two statements."""
    negated = Contribution(
        {k: (-v if k in SUMMED else v) for k, v in before.day.items()},
        tuple({**row, "groups": -row["groups"]} for row in before.languages),
    )
    _write(negated, contribution(visit, 1))


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def month_start(column, dialect: str):
    """The first day of a date column's month, as a date both databases group and compare."""
    if dialect == "postgresql":
        return cast(func.date_trunc("month", column), Date)
    return func.date(column, "start of month")


def _dialect(executor) -> str:
    """A Connection knows its dialect; a Session asks its bind."""
    dialect = getattr(executor, "dialect", None) or executor.get_bind().dialect
    return dialect.name


def rebuild(executor) -> None:
    """Recompute the summary tables: the days from the visits, the months from the days; a
    delete and one INSERT … SELECT … GROUP BY per table. `executor` is a Session or a
    Connection; the caller commits."""
    for model in (VisitMonthLanguage, VisitMonthSummary, VisitDayLanguage, VisitDaySummary):
        executor.execute(delete(model))
    sums = [func.count().label("groups")]
    sums += [func.coalesce(func.sum(getattr(Visit, n)), 0).label(n) for n in COUNT_COLUMNS]
    sums.append(_count_if(Visit.is_new.is_(True)).label("new_groups"))
    sums += [
        func.coalesce(func.sum(case((Visit.is_new.is_(True), column), else_=0)), 0).label(
            f"new_{column.key}"
        )
        for column in (Visit.women, Visit.men)
    ]
    sums += [
        _count_if(Visit.topics.op("&")(topic.value) != 0).label(name)
        for topic, name in zip(Topic, TOPIC_COLUMNS, strict=True)
    ]
    sums.append(
        _count_if(and_(Visit.is_new.is_(True), Visit.after_outreach.is_(True))).label(
            "after_outreach_groups"
        )
    )
    sums += [
        _count_if(Visit.outreach_place == place.value).label(name)
        for place, name in zip(OutreachPlace, OUTREACH_COLUMNS, strict=True)
    ]
    per_day = select(Visit.site_id, Visit.visit_date, *sums).group_by(
        Visit.site_id, Visit.visit_date
    )
    executor.execute(
        insert(VisitDaySummary).from_select(["site_id", "visit_date", *SUMMED], per_day)
    )
    per_language = select(
        VisitLanguage.site_id,
        VisitLanguage.visit_date,
        VisitLanguage.code,
        func.count().label("groups"),
    ).group_by(VisitLanguage.site_id, VisitLanguage.visit_date, VisitLanguage.code)
    executor.execute(
        insert(VisitDayLanguage).from_select(
            ["site_id", "visit_date", "code", "groups"], per_language
        )
    )
    day = VisitDaySummary.__table__
    month = month_start(day.c.visit_date, _dialect(executor))
    executor.execute(
        insert(VisitMonthSummary).from_select(
            ["site_id", "month", *SUMMED],
            select(day.c.site_id, month, *[func.sum(day.c[n]) for n in SUMMED]).group_by(
                day.c.site_id, month
            ),
        )
    )
    language = VisitDayLanguage.__table__
    month = month_start(language.c.visit_date, _dialect(executor))
    executor.execute(
        insert(VisitMonthLanguage).from_select(
            ["site_id", "month", "code", "groups"],
            select(
                language.c.site_id, month, language.c.code, func.sum(language.c.groups)
            ).group_by(language.c.site_id, month, language.c.code),
        )
    )
