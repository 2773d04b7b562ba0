"""The modeler's JSON side: the draft's diagram read and saved (autosave, conflicts) and its problems.

The page itself is ``studio.draft`` (routes.py, template studio/draft.html); its script is the
esbuild bundle of frontend/studio/modeler.js. Answers are JSON in the reader's language, because
the page shows them as they come.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from kitas.i18n import local_time, translate
from kitas.services.errors import Conflict, InvalidInput
from kitas.services.studio import drafts, lint

from ..access import signed_in_user
from ..text import said, sentence
from .blueprint import bp


@bp.get("/drafts/<int:draft_id>/diagram.bpmn")
def draft_diagram(draft_id: int) -> ResponseReturnValue:
    """The draft's diagram as a .bpmn file (the modeler loads it; the download link saves it)."""
    draft = drafts.get_draft(draft_id)
    response = Response(draft.bpmn_xml, mimetype="application/xml")
    response.headers["Content-Disposition"] = f'attachment; filename="{draft.process_id}.bpmn"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/drafts/<int:draft_id>/diagram")
def save_diagram(draft_id: int) -> ResponseReturnValue:
    """Save the diagram made on ``revision`` (JSON {revision, xml}); 409 when someone saved since."""
    body: Any = request.get_json(silent=True)
    revision = body.get("revision") if isinstance(body, dict) else None
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(revision, int) or isinstance(revision, bool) or not isinstance(xml, str):
        return jsonify(error="invalid", message=_("The page sent no diagram to save. Reload the page.")), 400
    try:
        draft = drafts.save_draft(draft_id, revision, signed_in_user(), bpmn_xml=xml)
    except Conflict as exc:
        return jsonify(error="conflict", message=said(exc)), 409
    except InvalidInput as exc:
        messages = [sentence(str(translate(m))) for found in exc.errors.values() for m in found]
        return jsonify(error="invalid", message=" ".join(messages)), 422
    saved_at = local_time(draft.updated_at)
    return jsonify(
        revision=draft.revision,
        saved_at=draft.updated_at.isoformat(),
        saved_by=draft.updated_by.full_name,
        saved_at_text=saved_at,
        status=_("Saved at %(time)s", time=saved_at),
    )


@bp.get("/drafts/<int:draft_id>/lint")
def draft_lint(draft_id: int) -> ResponseReturnValue:
    """The draft's problems, element by element, and whether it can be deployed (plus a summary line)."""
    report = lint.lint_draft(drafts.get_draft(draft_id))
    answer = report.as_json(translate)
    errors = sum(1 for p in answer["problems"] if p["severity"] == "error")
    if report.deployable:
        summary = _("Can be deployed")
    else:
        summary = ngettext("Cannot be deployed yet: %(num)d error", "Cannot be deployed yet: %(num)d errors", errors)
    answer["summary"] = summary
    return jsonify(answer)
