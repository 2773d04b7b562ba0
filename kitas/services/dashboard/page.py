"""The dashboard page and the CSV of each of its figures, by key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from forms.texts import Message

from ...models import User
from ..errors import NotFound
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


def figure(user: User, key: str, language: str | None = None) -> Figure:
    """One figure by its key, for the CSV export; NotFound names a key there is not and the keys there are."""
    scope = scope_of(user, language)
    build = BUILDERS.get(key)
    if build is None:
        raise NotFound(
            Message("there is no figure %(key)s; the figures are %(keys)s", key=key, keys=", ".join(FIGURES))
        )
    return build(scope)
