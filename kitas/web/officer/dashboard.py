"""The supervisors' pages on the officer blueprint: the dashboard, its figures as CSV, the late work per
officer; and the SLA block every officer's task page includes (``officer/_sla.html``)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from babel.dates import format_date
from flask import Response, render_template
from flask.typing import ResponseReturnValue

from kitas.i18n import current_language, translate
from kitas.services import dashboard as dashboard_service

from ..access import signed_in_user
from .routes import bp


@bp.get("/dashboard")
def dashboard() -> ResponseReturnValue:
    """The figures of my offices: work per step, late work, processing times, decisions, arrivals, corrections."""
    view = dashboard_service.dashboard(signed_in_user(), current_language())
    return render_template("officer/dashboard.html", view=view)


@bp.get("/dashboard/<key>.csv")
def figure_csv(key: str) -> Response:
    """One figure as CSV: a header row in the reader's language, then the figure's rows."""
    figure = dashboard_service.figure(signed_in_user(), key, current_language())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate(header) for header in figure.headers])
    for row in figure.rows:
        writer.writerow([_cell(value) for value in row])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="kitas-{figure.key}.csv"'},
    )


def _cell(value: Any) -> Any:
    """A CSV cell: a day as ISO (spreadsheets read it as a date), a Message in the reader's language."""
    if isinstance(value, date):
        return value.isoformat()
    return translate(value)


@bp.get("/late")
def late() -> ResponseReturnValue:
    """The late tasks of my offices, grouped by the officer holding them, each linked to its page."""
    return render_template("officer/late.html", view=dashboard_service.late_work(signed_in_user(), current_language()))


@bp.app_template_global("task_sla")
def task_sla(page: Any) -> dashboard_service.late.Sla:
    """The SLA of a task page's task (for ``officer/_sla.html``)."""
    return dashboard_service.task_sla(page.task, page.application, current_language())


@bp.app_template_filter("day_label")
def day_label(value: date) -> str:
    """A day of a figure in the reader's language: ``5 Jan 2026`` / ``5 Jan 2026``."""
    return format_date(value, "d MMM y", locale=current_language())


@bp.app_template_filter("day_short")
def day_short(value: date) -> str:
    """A day on the chart's axis, short: ``5 Jan`` / ``5 Jan`` (Indonesian month abbreviations)."""
    return format_date(value, "d MMM", locale=current_language())
