"""The dashboard page and the CSV of each of its figures, by key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from ...models import User
from . import chart, throughput
from .figures import WINDOW_DAYS, Figure, Scope, late_tasks, open_tasks_per_step, scope_of

BUILDERS: dict[str, Callable[[Scope], Figure]] = {
    "steps": open_tasks_per_step,
    "late": late_tasks,
    "processing": throughput.payment_to_decision,
    "decisions": throughput.decisions_per_officer,
    "flow": throughput.arrivals_and_completions,
    "corrections": throughput.corrections,
}
FIGURES = tuple(BUILDERS)


@dataclass
class Dashboard:
    """Every figure of the page, in order, and the chart of arrivals against completions."""

    figures: list[Figure]
    chart: chart.DailyChart
    since: date
    today: date


def dashboard(user: User, language: str | None = None) -> Dashboard:
    """Every figure for the user's offices (Forbidden for anyone but supervisors and administrators)."""
    scope = scope_of(user, language)
    figures = [build(scope) for build in BUILDERS.values()]
    flow = figures[FIGURES.index("flow")]
    return Dashboard(figures, chart.daily_chart(flow), scope.today - timedelta(days=WINDOW_DAYS - 1), scope.today)


def figure(user: User, key: str, language: str | None = None) -> Figure | None:
    """One figure by its key, for the CSV export (None for a key there is not)."""
    build = BUILDERS.get(key)
    return build(scope_of(user, language)) if build else None
