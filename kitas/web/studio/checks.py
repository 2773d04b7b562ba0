"""What the modeler's properties panel asks while the analyst types: code and timer checks, and the
draft's context (what it picks from, and its labels in the reader's language)."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import translate
from kitas.services.studio import checks

from .blueprint import bp


def _json() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


@bp.post("/check/script")
def check_script() -> ResponseReturnValue:
    """``{code, kind: "script"|"condition"}`` -> ``{ok, problems: [{line, message}]}``, as deployment compiles it."""
    body = _json()
    code, kind = body.get("code"), body.get("kind")
    if not isinstance(code, str) or not isinstance(kind, str):
        return {"ok": False, "problems": [{"line": None, "message": _("Send the code and its kind.")}]}, 400
    problems = checks.check_code(code, kind)
    return {"ok": not problems, "problems": [{"line": p.line, "message": translate(p.message)} for p in problems]}


@bp.post("/check/timer")
def check_timer() -> ResponseReturnValue:
    """``{kind: "duration"|"date"|"cycle", text, attached?}`` -> ``{ok, words, problem}`` in the reader's language."""
    body = _json()
    kind, text = body.get("kind"), body.get("text")
    if not isinstance(kind, str) or not isinstance(text, str):
        return {"ok": False, "words": None, "problem": _("Send the kind of timer and its value.")}, 400
    result = checks.check_timer(kind, text, attached=body.get("attached", True) is not False)
    return {"ok": result.ok, "words": translate(result.words), "problem": translate(result.problem)}


@bp.get("/drafts/<int:draft_id>/context.json")
def draft_context(draft_id: int) -> ResponseReturnValue:
    """What the properties panel of a draft picks from, the form editor's address and the panel's labels."""
    context = checks.draft_context(draft_id)
    context["form_editor_url"] = url_for("studio.draft", draft_id=draft_id) + "/forms/"
    context["labels"] = panel_labels()
    return context


def panel_labels() -> dict[str, str]:
    """Every text of the properties panel, in the reader's language (the panel's own English is a fallback)."""
    return {
        "kitas": _("KITAS"),
        "lane_role": _("Role"),
        "lane_unknown": _("This lane's name maps to no role; choose a known lane name."),
        "lane_name": _("Lane name"),
        "no_role": _("(no role)"),
        "form": _("Form"),
        "form_schema": _("JSON Schema file"),
        "form_ui_schema": _("UI schema file"),
        "none": _("(none)"),
        "open_form_editor": _("Open in the form editor"),
        "status": _("Status"),
        "status_help": _("The case's status while this step is open, such as awaiting_documents."),
        "four_eyes": _("Not by the performer of"),
        "four_eyes_help": _("Ids of user tasks (comma-separated) whose performer may not take this task."),
        "script": _("Script"),
        "pre_script": _("Script before"),
        "post_script": _("Script after"),
        "condition": _("Condition"),
        "checking": _("Checking…"),
        "code_ok": _("The sandbox accepts this code."),
        "line": _("Line"),
        "check_failed": _("The check could not be reached; your text is kept."),
        "timer": _("Timer"),
        "timer_type": _("Type"),
        "timer_duration": _("Duration (after the start)"),
        "timer_date": _("Date and time"),
        "timer_cycle": _("Cycle (repeating)"),
        "timer_value": _("Value (ISO 8601)"),
        "timer_expression": _("Computed by an expression"),
        "timer_expression_value": _("Expression (Python)"),
        "timer_expression_words": _("Computed by the expression when the timer starts."),
        "message": _("Message"),
        "message_name": _("Message name"),
        "message_variable": _("Variable that receives the message"),
        "call": _("Called process"),
        "called_element": _("Process to call"),
        "shared_steps": _("Shared steps"),
        "processes_in_file": _("Processes of this file"),
        "decision": _("Decision"),
        "decision_id": _("Decision table"),
    }
