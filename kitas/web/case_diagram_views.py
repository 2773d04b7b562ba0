"""What the officers' and the studio's case diagram pages share: the JSON the viewer script reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from kitas.i18n import translate

if TYPE_CHECKING:
    from kitas.services.cases.diagram import CaseDiagram


def viewer_data(diagram: CaseDiagram) -> ResponseReturnValue:
    """The diagrams of the case's version (names in the reader's language) and the marks to draw on them:
    ``{"diagrams": [{"process", "label", "xml", "calledBy"}], "calls": {activity: process}, "marks": {...}}``."""
    calls: dict[str, str] = {}
    diagrams: list[dict[str, Any]] = []
    for item in diagram.diagrams:
        diagrams.append(
            {
                "process": item.process_id,
                "label": translate(item.label),
                "xml": item.xml,
                "calledBy": list(item.called_by),
            }
        )
        calls.update({activity: item.process_id for activity in item.called_by})
    response = jsonify({"diagrams": diagrams, "calls": calls, "marks": diagram.marks()})
    response.headers["Cache-Control"] = "no-store"
    return response
