"""How the statistics page draws its charts: scales, bars and heat-map cells as coordinates that
templates/staff/_charts.html writes out as inline SVG.

Pure Python with plain inputs: the labels arrive formatted (Babel, in the reader's language) and
the numbers as they are; nothing here knows Flask or the database. Coordinates are in the SVG's
own units (its viewBox), so a chart scales with the column that holds it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 860  # the viewBox's width: the staff column's width in CSS pixels, so that 12 units read as 12 px
LEVELS = 5  # heat-map colours above 0 %, each a fifth of the capacity


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Segment:
    series: int  # index of the series: its class in the stylesheet (series-0, series-1)
    y: float
    height: float


@dataclass(frozen=True)
class Column:
    x: float
    width: float
    label: str  # under the axis; "" where labels are thinned out
    segments: tuple[Segment, ...]
    missing: bool  # no value at all (a rate with nothing to divide): drawn as a dash on the axis

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


@dataclass(frozen=True)
class ColumnChart:
    width: float
    height: float
    left: float
    top: float
    bottom: float  # y of the axis
    ticks: tuple[Tick, ...]
    columns: tuple[Column, ...]
    empty: bool  # nothing to draw: the page says so instead

    @property
    def right(self) -> float:
        return self.width - 8


@dataclass(frozen=True)
class Row:
    y: float
    height: float
    label: str
    width: float  # of the bar
    value_label: str  # written at the end of the bar


@dataclass(frozen=True)
class RowChart:
    width: float
    height: float
    left: float  # where the bars start
    rows: tuple[Row, ...]
    empty: bool


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    width: float
    height: float
    level: int | None  # 0 … LEVELS, None for an hour the period never opened
    label: str


@dataclass(frozen=True)
class HeatMap:
    width: float
    height: float
    left: float
    top: float
    column_labels: tuple[tuple[float, str], ...]  # (x of the centre, label)
    row_labels: tuple[tuple[float, str], ...]  # (y of the centre, label)
    cells: tuple[Cell, ...]
    empty: bool


def nice_step(top: float, ticks: int = 4, whole: bool = True) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts 0…top into about `ticks` parts;
    at least 1 for counts (`whole`), so that an axis of people never reads 0.5."""
    raw = top / ticks
    if raw <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if raw <= m * magnitude * (1 + 1e-9))
    return max(round(step), 1) if whole else step


def columns(categories: Sequence[str], series: Sequence[Sequence[float | None]], fmt: Callable[[float], str], *,
            height: float = 240, label_every: int = 1, whole: bool = True, ceiling: float | None = None,
            width: float = WIDTH) -> ColumnChart:
    """Vertical bars, one per category, each stacking the values of `series` (series[i][category]).

    A category whose values are all None is `missing`; the chart is `empty` when no value is above 0.
    `ceiling` caps the scale (1 for rates).
    """
    left, top, bottom = 56.0, 12.0, height - 28
    totals = [sum(values[i] or 0 for values in series) for i in range(len(categories))]
    highest = max(totals, default=0)
    empty = highest <= 0
    step = nice_step(highest if not empty else 1, whole=whole)
    scale_top = step * max(math.ceil(highest / step - 1e-9), 1)
    if ceiling is not None:
        scale_top = min(scale_top, ceiling)
    span = bottom - top

    def y_of(value: float) -> float:
        return bottom - span * value / scale_top

    ticks = [Tick(round(y_of(i * step), 2), fmt(i * step)) for i in range(round(scale_top / step) + 1)]
    slot = (width - 8 - left) / max(len(categories), 1)
    bar = min(slot * (0.7 if slot > 12 else 0.8), 64)  # one month alone is a bar, not a wall
    drawn = []
    for i, label in enumerate(categories):
        base, segments = 0.0, []
        for index, values in enumerate(series):
            amount = values[i] or 0
            if amount > 0:
                segments.append(Segment(index, round(y_of(base + amount), 2), round(span * amount / scale_top, 2)))
                base += amount
        drawn.append(Column(round(left + slot * i + (slot - bar) / 2, 2), round(bar, 2),
                            label if i % label_every == 0 else "", tuple(segments),
                            all(values[i] is None for values in series)))
    return ColumnChart(width, height, left, top, bottom, tuple(ticks), tuple(drawn), empty)


def rows(labels: Sequence[str], values: Sequence[float], value_labels: Sequence[str], *,
         width: float = WIDTH / 2 - 10, row_height: float = 30) -> RowChart:
    """Horizontal bars, one per label, scaled to the largest value; `empty` when all are 0.

    The labels' column is as wide as the longest label needs (about 7 units a letter at 12 units
    high), up to half the chart: "Enseignement secondaire" and "Hochschule" alike fit.
    """
    highest = max(values, default=0)
    label_width = min(max((len(label) for label in labels), default=0) * 7 + 12, width / 2)
    room = width - label_width - 56  # room for the value after the longest bar
    drawn = tuple(Row(round(i * row_height + 4, 2), row_height - 8, label,
                      round(room * value / highest, 2) if highest else 0, value_label)
                  for i, (label, value, value_label) in enumerate(zip(labels, values, value_labels, strict=True)))
    return RowChart(width, row_height * len(labels) + 4, label_width, drawn, highest <= 0)


def level(rate: float | None) -> int | None:
    """The heat map's colour for a share of places taken: 0 for none, then one level per fifth."""
    if rate is None:
        return None
    return 0 if rate <= 0 else min(LEVELS, math.ceil(rate * LEVELS - 1e-9))


def heat_map(row_labels: Sequence[str], column_labels: Sequence[str], rates: Sequence[Sequence[float | None]],
             fmt: Callable[[float], str], empty_label: str = "—", *, width: float = WIDTH,
             cell_height: float = 36) -> HeatMap:
    """A grid of rates (rates[row][column]), each cell coloured by its level and showing its value."""
    left, top = 110.0, 26.0
    cell_width = (width - left - 4) / max(len(column_labels), 1)
    cells = tuple(Cell(round(left + c * cell_width, 2), round(top + r * cell_height, 2), round(cell_width - 2, 2),
                       cell_height - 2, level(rate), empty_label if rate is None else fmt(rate))
                  for r, row in enumerate(rates) for c, rate in enumerate(row))
    return HeatMap(width, top + cell_height * len(row_labels) + 4, left, top,
                   tuple((round(left + (c + 0.5) * cell_width, 2), label) for c, label in enumerate(column_labels)),
                   tuple((round(top + (r + 0.5) * cell_height, 2), label) for r, label in enumerate(row_labels)),
                   cells, not any(rate for row in rates for rate in row))
