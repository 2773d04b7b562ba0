"""Cases on their diagrams in the studio: find a case by its register number, list a version's cases, and
see a case's path and where it is now on the version it runs on (no task data, no names of people:
personal data stays with the officers)."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from kitas.i18n import current_language
from kitas.services.cases import diagram as case_diagrams
from kitas.services.cases import studio_cases
from kitas.services.errors import InvalidInput

from ..case_diagram_views import viewer_data
from .blueprint import bp


@bp.get("/cases")
def cases() -> ResponseReturnValue:
    """Find a case by its register number (``?reference=``: straight to its diagram), or pick a version to
    list its cases; an unknown number is named next to the field, as typed."""
    typed = request.args.get("reference")
    if typed is not None:
        try:
            reference = studio_cases.studio_case(typed)
        except InvalidInput as exc:
            versions = studio_cases.versions_with_cases()
            return render_template("studio/cases.html", versions=versions, typed=typed, errors=exc.errors), 404
        return redirect(url_for("studio.case_diagram", reference=reference))
    return render_template("studio/cases.html", versions=studio_cases.versions_with_cases(), typed="", errors={})


@bp.get("/processes/<process_id>/versions/<int:version>/cases")
def version_cases(process_id: str, version: int) -> ResponseReturnValue:
    """The newest cases of one version, each linked to its diagram."""
    return render_template(
        "studio/version_cases.html", listing=studio_cases.version_cases(process_id, version, current_language())
    )


@bp.get("/cases/<reference>/diagram")
def case_diagram(reference: str) -> ResponseReturnValue:
    """A case on the diagram of its version: the path taken, where it is now, the timers it waits on."""
    view = case_diagrams.analyst_diagram(reference, current_language())
    return render_template("studio/case_diagram.html", view=view)


@bp.get("/cases/<reference>/diagram.json")
def case_diagram_data(reference: str) -> ResponseReturnValue:
    """The case's diagrams and the marks the viewer draws on them."""
    return viewer_data(case_diagrams.analyst_diagram(reference, current_language(), listed=False))
