"""The chart of daily arrivals against completions, as the geometry of a server-rendered SVG.

The template draws it (``officer/_chart.html``) with its title, description and a table fallback; here
only numbers become coordinates, so the chart needs no JavaScript and no library.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .figures import Figure

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 40, 28, 12, 36


@dataclass(frozen=True)
class Tick:
    """A label on an axis at a position."""

    at: float
    label: str | date


@dataclass(frozen=True)
class DailyChart:
    """Two series over the same days: the polylines' points, the axes' ticks and the totals."""

    width: int
    height: int
    arrivals: str  # SVG polyline points "x,y x,y ..."
    completions: str
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    plot: tuple[int, int, int, int]  # left, top, right, bottom of the plotting area
    total_arrivals: int
    total_completions: int


def _nice_max(value: int) -> int:
    """The smallest of 4, 8, 20, 40, 80, 200, ... at least ``value``: an axis of four ticks that read well."""
    top = 4
    while top < value:
        for factor in (2, 2.5, 2):
            top = int(top * factor)
            if top >= value:
                break
    return top


def daily_chart(flow: Figure) -> DailyChart:
    """The chart of a flow figure's rows ``[day, arrivals, completions]``."""
    rows = flow.rows
    top = _nice_max(max([max(row[1], row[2]) for row in rows] + [1]))
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    span = max(len(rows) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + (right - LEFT) * index / span, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - TOP) * value / top, 1)

    def points(column: int) -> str:
        return " ".join(f"{x(i)},{y(row[column])}" for i, row in enumerate(rows))

    return DailyChart(
        width=WIDTH,
        height=HEIGHT,
        arrivals=points(1),
        completions=points(2),
        # a tick a week, counted back from the last day (today)
        x_ticks=[Tick(x(i), row[0]) for i, row in enumerate(rows) if (len(rows) - 1 - i) % 7 == 0],
        y_ticks=[Tick(y(top * step // 4), str(top * step // 4)) for step in range(5)],
        plot=(LEFT, TOP, right, bottom),
        total_arrivals=sum(row[1] for row in rows),
        total_completions=sum(row[2] for row in rows),
    )
