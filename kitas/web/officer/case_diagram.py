"""A case on its diagram for the officers of its office (and administrators): the path, where it is now,
the timers it waits on, and each step's data."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from kitas.i18n import current_language
from kitas.services.cases import diagram as case_diagrams

from ..access import signed_in_user
from ..case_diagram_views import viewer_data
from .routes import bp


@bp.get("/cases/<reference>/diagram")
def case_diagram(reference: str) -> ResponseReturnValue:
    """The case on the diagram of the version it runs on, with the steps so far and their data (the list
    is the page without JavaScript; the drawing comes from ``case_diagram_data``)."""
    view = case_diagrams.officer_diagram(reference, signed_in_user(), current_language())
    return render_template("officer/case_diagram.html", view=view)


@bp.get("/cases/<reference>/diagram.json")
def case_diagram_data(reference: str) -> ResponseReturnValue:
    """The case's diagrams and the marks the viewer draws on them (no task data)."""
    return viewer_data(case_diagrams.officer_diagram(reference, signed_in_user(), current_language(), listed=False))
