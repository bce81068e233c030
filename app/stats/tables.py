"""The shapes of the dashboard's published figures: a protected count (`Cell`, from
app.stats.suppression), a share or median (`Measure`), tables of one count per row (`Table`)
or several (`Grid`), and a section of them. The page, the charts and both exports read these."""

from dataclasses import dataclass
from datetime import date

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _

from .periods import Bucket
from .suppression import HIDDEN_SYMBOL, Cell


@dataclass(frozen=True)
class Measure:
    """A share or a median: shown only when the counts behind it are shown."""

    number: float | None
    kind: str  # "percent" or "days"
    has_data: bool = True

    @property
    def shown(self) -> bool:
        return self.number is not None

    @property
    def text(self) -> str:
        if self.number is None:
            return HIDDEN_SYMBOL if self.has_data else "–"
        if self.kind == "percent":
            return format_percent(self.number)
        return format_decimal(round(self.number, 1), format="#,##0.0")


@dataclass
class Row:
    label: str
    cell: Cell


@dataclass
class Table:
    key: str
    title: str
    label_header: str
    value_header: str
    rows: list[Row]
    total: Cell | None = None
    note: str | None = None


@dataclass
class GridRow:
    label: str
    cells: list[Cell]


@dataclass
class Grid:
    """A table of several counts per row (held, cancelled, adults… per activity kind): each
    column is protected as a table of its own, with its total in the last line (None where a
    column has no total, as when a session counts under each of its languages)."""

    key: str
    title: str
    label_header: str
    headers: list[str]
    rows: list[GridRow]
    totals: list[Cell | None] | None = None
    note: str | None = None


@dataclass
class Section:
    """A part of the dashboard after visits and referrals: its headline figures and grids."""

    key: str
    title: str
    figures: list[tuple[str, Cell | Measure]]
    grids: list[Grid]
    note: str | None = None


def bucket_label(start: date, bucket: Bucket) -> str:
    if bucket is Bucket.WEEK:
        year, week, _weekday = start.isocalendar()
        return _("Vecka %(week)s, %(year)s", week=week, year=year)
    return format_date(start, "LLLL yyyy")
