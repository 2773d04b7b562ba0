"""The studio's decision table editor (dmn-js) with its test panel, and a read-only table without JavaScript."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.services.errors import Conflict
from kitas.services.studio import fee_testing
from kitas.services.studio.fee_testing import DecisionEditor, DecisionRefused, FeeTest

from ..access import signed_in_user
from ..text import said
from .blueprint import bp


@bp.route("/drafts/<int:draft_id>/decisions/<name>", methods=["GET", "POST"])
def dmn_editor(draft_id: int, name: str) -> ResponseReturnValue:
    """The table in the editor; a post saves its XML on the page's revision (a stale one keeps the XML)."""
    if request.method == "GET":
        return _page(fee_testing.open_decision(draft_id, name), FeeTest())
    xml = request.form.get("xml", "")
    try:
        editor = fee_testing.save_decision(draft_id, name, _revision(), signed_in_user(), xml)
    except DecisionRefused as exc:
        return _page(exc.editor, FeeTest(), 422)
    except Conflict as exc:
        editor = fee_testing.open_decision(draft_id, name, xml)
        editor.revision = _revision()
        editor.errors[""] = [said(exc)]
        return _page(editor, FeeTest(), 409)
    flash(_("The decision table was saved to the draft."), "success")
    return redirect(url_for("studio.dmn_editor", draft_id=editor.draft.id, name=name))


@bp.post("/drafts/<int:draft_id>/decisions/<name>/test")
def dmn_test(draft_id: int, name: str) -> ResponseReturnValue:
    """The test panel: the outputs for the typed inputs (the partial for htmx, else the whole page)."""
    raw = {key: value for key, value in request.form.items() if key not in ("csrf_token", "xml")}
    editor, test = fee_testing.try_decision(draft_id, name, raw, request.form.get("xml") or None)
    if request.headers.get("HX-Request"):
        return render_template("studio/_dmn_test.html", editor=editor, test=test)
    return _page(fee_testing.open_decision(draft_id, name), test)


def _page(editor: DecisionEditor, test: FeeTest, status: int = 200) -> ResponseReturnValue:
    return render_template("studio/dmn_editor.html", editor=editor, test=test), status


def _revision() -> int:
    try:
        return int(request.form.get("revision", ""))
    except ValueError:
        return -1
