"""Small-count protection for published tables: the one rule, pure and unit tested.

Primary suppression: a count from 1 to below the organisation's threshold (default 5) is shown
as "<5". Zero is shown as 0: that nobody came is not a fact about a person.

Secondary suppression protects a table whose total is published: from the total and the shown
cells a reader knows exactly what the hidden cells add up to. We then ask, for every hidden
cell, which values it could still take (each small cell is 1..t-1, each secondarily hidden
cell is at least t, and together they make the known sum). While some hidden cell could take
only one value, the smallest shown cell of at least t is hidden as well (shown as "×"). If no
shown cell is left to hide, the total is hidden instead. So no hidden count can
ever be worked back out exactly from one table. See docs/statistics.md.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Mark(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # primary: 1..threshold-1, shown as "<5"
    HIDDEN = "hidden"  # secondary: hidden so a small cell cannot be worked out, shown as "×"


HIDDEN_SYMBOL = "×"


@dataclass(frozen=True)
class Cell:
    """A published count: its true value stays inside the server, `text` is what is shown."""

    value: int
    mark: Mark
    threshold: int

    @property
    def shown(self) -> bool:
        return self.mark is Mark.SHOWN

    @property
    def public_value(self) -> int | None:
        """The number that may leave the server (None when it is protected)."""
        return self.value if self.shown else None

    @property
    def text(self) -> str:
        if self.mark is Mark.SMALL:
            return f"<{self.threshold}"
        if self.mark is Mark.HIDDEN:
            return HIDDEN_SYMBOL
        return str(self.value)


def is_small(value: int, threshold: int) -> bool:
    return 0 < value < threshold


def primary(value: int, threshold: int) -> Cell:
    """One count on its own (a headline figure, or a cell of a table without a total)."""
    return Cell(value, Mark.SMALL if is_small(value, threshold) else Mark.SHOWN, threshold)


def _bounds(mark: Mark, threshold: int) -> tuple[int, int | None]:
    """What a reader knows of a hidden cell: a small one is 1..t-1, a secondary one >= t."""
    return (1, threshold - 1) if mark is Mark.SMALL else (threshold, None)


def feasible_range(
    index: int, values: Sequence[int], marks: Sequence[Mark], threshold: int
) -> tuple[int, int | None]:
    """The values hidden cell `index` could take for a reader who knows the total, the shown
    cells, and the bounds of the other hidden cells (None: no upper bound)."""
    hidden = [i for i, m in enumerate(marks) if m is not Mark.SHOWN]
    hidden_sum = sum(values[i] for i in hidden)
    low, high = _bounds(marks[index], threshold)
    others = [_bounds(marks[i], threshold) for i in hidden if i != index]
    others_low = sum(b[0] for b in others)
    others_high = None if any(b[1] is None for b in others) else sum(b[1] for b in others)
    if others_high is not None:
        low = max(low, hidden_sum - others_high)
    high = hidden_sum - others_low if high is None else min(high, hidden_sum - others_low)
    return low, high


def _pinned(values: Sequence[int], marks: Sequence[Mark], threshold: int) -> bool:
    """Could a reader work out some hidden cell exactly from the total and the shown cells?"""
    return any(
        high is not None and high <= low
        for i, m in enumerate(marks)
        if m is not Mark.SHOWN
        for low, high in [feasible_range(i, values, marks, threshold)]
    )


def protect_table(
    values: Sequence[int],
    total: int,
    threshold: int,
    hide: Collection[int] = (),
    hide_total: bool = False,
) -> tuple[list[Cell], Cell]:
    """Cells and total of a table whose cells add up to its published total.

    `hide` (cell positions) and `hide_total` carry what another table had to hide, when a cell
    here is the same number as a total there (see `protect_tables`).
    """
    marks = [Mark.SMALL if is_small(v, threshold) else Mark.SHOWN for v in values]
    for i in hide:
        if marks[i] is Mark.SHOWN and values[i] > 0:
            marks[i] = Mark.HIDDEN
    total_cell = primary(total, threshold)
    if hide_total and total_cell.shown and total > 0:
        total_cell = Cell(total, Mark.HIDDEN, threshold)
    if not total_cell.shown:
        # An unknown total gives nothing to subtract from, unless every cell is shown: then
        # the cells add up to it, so the smallest one is hidden as well.
        if all(m is Mark.SHOWN for m in marks):
            _hide_smallest(values, marks, threshold)
    else:
        while _pinned(values, marks, threshold):
            if not _hide_smallest(values, marks, threshold):
                total_cell = Cell(total, Mark.HIDDEN, threshold)
                break
    return [Cell(v, m, threshold) for v, m in zip(values, marks, strict=True)], total_cell


def _hide_smallest(values: Sequence[int], marks: list[Mark], threshold: int) -> bool:
    """Hide the smallest shown count of at least `threshold` (the first one on a tie)."""
    candidates = [
        (v, i)
        for i, (v, m) in enumerate(zip(values, marks, strict=True))
        if m is Mark.SHOWN and v >= threshold
    ]
    if not candidates:
        return False
    marks[min(candidates)[1]] = Mark.HIDDEN
    return True


@dataclass(frozen=True)
class TableCounts:
    """One table to publish. `total` is None when its cells do not add up to anything shown
    (a visit can raise several topics). `total_key` names the total where it is published in
    other tables too ("groups" in the headline, the trend and new/returning); `cell_keys` maps
    a cell's position to the key of a total it equals (the status table's "closed" is the
    outcome table's total)."""

    key: str
    values: tuple[int, ...]
    total: int | None = None
    total_key: str | None = None
    cell_keys: tuple[tuple[int, str], ...] = ()


@dataclass
class Protected:
    tables: dict[str, tuple[list[Cell], Cell | None]]
    hidden_keys: set[str]
    threshold: int

    def figure(self, key: str, value: int) -> Cell:
        """A headline figure that is also a table total: hidden wherever that total is."""
        cell = primary(value, self.threshold)
        if cell.shown and value > 0 and key in self.hidden_keys:
            return Cell(value, Mark.HIDDEN, self.threshold)
        return cell


def protect_tables(tables: Sequence[TableCounts], threshold: int) -> Protected:
    """Protect every table, then carry each hidden total to every table that publishes the
    same number, until nothing more has to be hidden (hiding only grows, so this ends)."""
    hidden_keys: set[str] = set()
    while True:
        result: dict[str, tuple[list[Cell], Cell | None]] = {}
        found: set[str] = set()
        for table in tables:
            if table.total is None:
                result[table.key] = ([primary(v, threshold) for v in table.values], None)
                continue
            hide = [i for i, key in table.cell_keys if key in hidden_keys]
            cells, total = protect_table(
                table.values, table.total, threshold, hide, table.total_key in hidden_keys
            )
            result[table.key] = (cells, total)
            if table.total_key and not total.shown:
                found.add(table.total_key)
            found.update(key for i, key in table.cell_keys if not cells[i].shown)
        if found <= hidden_keys:
            return Protected(result, hidden_keys, threshold)
        hidden_keys |= found


def protect_share(numerator: Cell, denominator: Cell) -> float | None:
    """A share is shown only when both its counts are shown (else it gives one of them away)."""
    if not (numerator.shown and denominator.shown) or denominator.value == 0:
        return None
    return numerator.value / denominator.value
