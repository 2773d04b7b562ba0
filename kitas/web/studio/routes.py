"""The studio's process list, drafts and import."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.services.errors import InvalidInput
from kitas.services.studio import drafts

from ..access import signed_in_user
from .blueprint import bp


@bp.get("/")
def index() -> ResponseReturnValue:
    """Every process (the KITAS types, then the shared steps), its versions and its open drafts."""
    return render_template("studio/index.html", processes=drafts.processes(), errors={}, choices=None)


@bp.post("/processes/<process_id>/draft")
def open_draft(process_id: str) -> ResponseReturnValue:
    """Edit a process: its open draft, or a new one from its latest version."""
    draft = drafts.open_draft(process_id, signed_in_user())
    return redirect(url_for("studio.draft", draft_id=draft.id))


@bp.post("/import")
def import_diagram() -> ResponseReturnValue:
    """Upload a BPMN 2.0 file from any modeler as a new draft; a file of several processes asks which."""
    upload = request.files.get("file")
    data = upload.read() if upload is not None else b""
    filename = (upload.filename or "") if upload is not None else ""
    try:
        draft = drafts.import_draft(data, filename, signed_in_user(), request.form.get("process_id") or None)
    except drafts.ChooseProcess as exc:
        # The file cannot travel back in the page; it is read again from the upload with the choice.
        return render_template(
            "studio/index.html", processes=drafts.processes(), errors={}, choices=exc.processes, filename=filename
        ), 422
    except InvalidInput as exc:
        return render_template("studio/index.html", processes=drafts.processes(), errors=exc.errors, choices=None), 422
    flash(_("The diagram was imported as a draft."), "success")
    return redirect(url_for("studio.draft", draft_id=draft.id))


@bp.get("/drafts/<int:draft_id>")
def draft(draft_id: int) -> ResponseReturnValue:
    """The draft's page (the modeler)."""
    return render_template("studio/draft.html", draft=drafts.get_draft(draft_id))
