"""Bar charts drawn on the server as SVG: no script, readable by screen readers (role="img",
a title and a description), and the same numbers in a table beside each chart.

Geometry is computed here for left-to-right; for right-to-left pages every x is mirrored and
the SVG's `direction` is set, so bars grow from the right and labels sit on the right. A hidden
count is drawn as a short hatched bar of fixed length: its length never hints at the value.
"""

from dataclasses import dataclass

from .tables import Table

WIDTH = 640
LABEL_WIDTH = 200
VALUE_ROOM = 70
ROW_HEIGHT = 28
BAR_HEIGHT = 18
HIDDEN_BAR = 24
LABEL_CHARS = 26  # longer labels are shortened in the chart; the table has them whole


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    hidden: bool
    y: int
    label_x: int
    bar_x: int
    bar_width: int
    value_x: int


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    rtl: bool
    width: int
    height: int
    bars: list[Bar]

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


def bar_chart(table: Table, chart_id: str, description: str, rtl: bool, formatted) -> Chart:
    """One horizontal bar per row of `table`; `formatted(cell)` is the text beside the bar."""
    shown = [row.cell.value for row in table.rows if row.cell.shown]
    scale_max = max(shown, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    bars = []
    for i, row in enumerate(table.rows):
        hidden = not row.cell.shown
        width = HIDDEN_BAR if hidden else round(plot * row.cell.value / scale_max)
        y = i * ROW_HEIGHT
        label_x, bar_x, value_x = LABEL_WIDTH - 8, LABEL_WIDTH, LABEL_WIDTH + width + 6
        if rtl:
            label_x, bar_x, value_x = WIDTH - label_x, WIDTH - bar_x - width, WIDTH - value_x
        label = row.label if len(row.label) <= LABEL_CHARS else row.label[: LABEL_CHARS - 1] + "…"
        bars.append(Bar(label, formatted(row.cell), hidden, y, label_x, bar_x, width, value_x))
    return Chart(
        id=chart_id,
        title=table.title,
        description=description,
        rtl=rtl,
        width=WIDTH,
        height=max(1, len(bars)) * ROW_HEIGHT,
        bars=bars,
    )
