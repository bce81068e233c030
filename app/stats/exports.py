"""CSV and XLSX files of the dashboard's tables, the period and filters first, then the same
protected cells the page shows; and a project report's workbook, one sheet per table. Only aggregated, protected numbers; never a contact detail."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .project_report import ProjectReport
from .report import Report
from .suppression import Cell
from .tables import Measure

# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Value = str | Cell | Measure | None


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def rows(
    report: Report, heading: list[tuple[str, str]], labels: dict[str, str]
) -> tuple[list[list[Value]], set[int]]:
    """Every line of an export and the (1-based) numbers of its title and header lines:
    `heading` (label, value) pairs, then the summary, then each table with its title, its
    column headers, its rows and its total, then each later section (the programme, outreach)
    with its figures and its tables of several columns."""
    lines: list[list[Value]] = [[label, value] for label, value in heading]
    lines.append([])
    lines.append([labels["summary"], labels["value"]])
    bold = {len(lines)}
    lines.extend([label, value] for label, value in report.figures)
    for table in report.tables:
        lines.append([])
        lines.append([table.title])
        lines.append([table.label_header, table.value_header])
        bold |= {len(lines) - 1, len(lines)}
        lines.extend([row.label, row.cell] for row in table.rows)
        if table.total is not None:
            lines.append([labels["total"], table.total])
        if table.note:
            lines.append([table.note])
    for section in report.sections:
        lines.append([])
        lines.append([section.title, labels["value"]])
        bold.add(len(lines))
        lines.extend([label, value] for label, value in section.figures)
        if section.note:
            lines.append([section.note])
        for grid in section.grids:
            lines.append([])
            lines.append([grid.title])
            lines.append([grid.label_header, *grid.headers])
            bold |= {len(lines) - 1, len(lines)}
            lines.extend([row.label, *row.cells] for row in grid.rows)
            if grid.totals is not None:
                lines.append([labels["total"], *grid.totals])
            if grid.note:
                lines.append([grid.note])
    return lines, bold


def _csv_value(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Cell | Measure):
        return value.text
    return safe_text(str(value))


def to_csv(lines: Iterable[list[Value]]) -> bytes:
    """Semicolon-separated UTF-8 with a byte order mark: what Excel in Sweden opens as columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for line in lines:
        writer.writerow([_csv_value(v) for v in line])
    return buffer.getvalue().encode("utf-8-sig")


def _sheet_title(title: str) -> str:
    return "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet"


def _write(cell, value: Value) -> None:
    """Shown counts and shares as numbers, protected ones as the same text as on the page."""
    if isinstance(value, Cell):
        cell.value = value.public_value if value.shown else value.text
    elif isinstance(value, Measure):
        cell.value = value.number if value.shown else value.text
        if value.shown:
            cell.number_format = "0%" if value.kind == "percent" else "0.0"
    elif isinstance(value, int | float):
        cell.value = value
    elif value is not None:
        cell.value = safe_text(str(value))


def _fill(sheet, lines: Iterable[list[Value]], bold_rows: set[int]) -> None:
    for r, line in enumerate(lines, start=1):
        for c, value in enumerate(line, start=1):
            cell = sheet.cell(row=r, column=c)
            _write(cell, value)
            if r in bold_rows:
                cell.font = Font(bold=True)


def to_xlsx(lines: Iterable[list[Value]], sheet_title: str, bold_rows: set[int]) -> bytes:
    """One sheet; shown counts are numbers, protected ones the same text as on the page."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(sheet_title)
    _fill(sheet, lines, bold_rows)
    sheet.column_dimensions["A"].width = 42
    for column in "BCDEFG":
        sheet.column_dimensions[column].width = 24 if column == "B" else 16
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass
class Sheet:
    """One sheet of a workbook: its lines, the (1-based) numbers of its bold lines, and the
    widths of its columns from A on (in characters)."""

    title: str
    lines: list[list[Value]]
    bold_rows: set[int] = field(default_factory=set)
    widths: list[float] = field(default_factory=list)


def to_xlsx_sheets(sheets: Iterable[Sheet]) -> bytes:
    """A workbook of several sheets (a project report: one per table), written as `to_xlsx`
    writes its one."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec in sheets:
        sheet = workbook.create_sheet(_sheet_title(spec.title))
        _fill(sheet, spec.lines, spec.bold_rows)
        for n, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(n)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _or_dash(cell: Cell | None) -> Value:
    """A cell a table has no figure for (participants whose gender was not asked), as on the
    page."""
    return "–" if cell is None else cell


# The first lines of a project report's sheet: its title line, an empty one, the header.
TITLE_ROW, HEADER_ROW = 1, 3


def project_sheets(
    report: ProjectReport, title: str, summary: tuple[str, list[str]], total: str, note: str
) -> list[Sheet]:
    """The project report as sheets: the targets against their actuals (`summary`: the
    sheet's name and its column headers), then each table (by month, site, gender, service)
    with its header and its total; each under the title line (`title`: the project, its funder
    and period) and above the protection `note`."""
    bold = {TITLE_ROW, HEADER_ROW}
    sheet_name, headers = summary
    lines: list[list[Value]] = [[title], [], headers]
    lines += [
        [
            t.indicator_label,
            t.gender_label,
            t.service_label,
            t.target,
            t.actual,
            t.share,
            t.sentence,
        ]
        for t in report.targets
    ]
    lines += [[], [note]]
    sheets = [Sheet(sheet_name, lines, bold, [40, 14, 22, 10, 10, 10, 70])]
    for grid in report.grids:
        lines = [[title], [], [grid.label_header, *grid.headers]]
        lines += [[row.label, *map(_or_dash, row.cells)] for row in grid.rows]
        if grid.totals is not None:
            lines.append([total, *map(_or_dash, grid.totals)])
        lines.append([])
        if grid.note:
            lines.append([grid.note])
        lines.append([note])
        sheets.append(Sheet(grid.title, lines, bold, [24] + [18] * len(grid.headers)))
    return sheets
