"""The officers' pages: the task inbox, claiming, and the task page with the case and its documents."""

from __future__ import annotations

from flask import Blueprint, Response, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language, translate
from kitas.services import cases
from kitas.services.cases import claims, notes, timeline
from kitas.services.cases import inbox as inbox_service
from kitas.services.errors import Conflict, InvalidInput, NotFound
from kitas.services.permits import downloads as permits

from ..access import require_roles, signed_in_user
from ..permit_files import pdf_response
from ..task_views import post_task, show_task
from ..text import message_of

bp = Blueprint("officer", __name__, url_prefix="/officer")
require_roles(bp, "verifier", "supervisor", "admin")

TASK_TEMPLATE = "officer/task.html"


@bp.get("/")
def inbox() -> ResponseReturnValue:
    """Open tasks of my lanes, filtered, searched, sorted and counted by GET parameters (bookmarkable);
    an unknown parameter value is named on the page (400) and left out."""
    view = inbox_service.inbox_page(signed_in_user(), request.args, language=current_language())
    return render_template("officer/inbox.html", view=view, page=view.page), 400 if view.problems else 200


@bp.post("/filters")
def save_filter() -> ResponseReturnValue:
    """Keep the current view of the inbox under a name."""
    query = request.form.get("query", "")
    try:
        saved = inbox_service.save_filter(signed_in_user(), request.form.get("name", ""), query)
    except InvalidInput as exc:
        for messages in exc.errors.values():
            for message in messages:
                flash(translate(message), "warning")
        return redirect(url_for("officer.inbox") + ("?" + query if query else ""))
    flash(_("Filter saved: %(name)s.", name=saved.name), "success")
    return redirect(url_for("officer.inbox") + ("?" + saved.query if saved.query else ""))


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int) -> ResponseReturnValue:
    """Delete one of my saved filters."""
    inbox_service.delete_filter(signed_in_user(), filter_id)
    flash(_("The saved filter was deleted."), "info")
    return redirect(url_for("officer.inbox"))


@bp.route("/cases/<reference>/tasks/<task_id>", methods=["GET", "POST"])
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """The case's data and documents next to the diagram's decision form (active for the claimant only)."""
    if request.method == "GET":
        return show_task(reference, task_id, TASK_TEMPLATE, **_task_context(reference, task_id))
    return post_task(
        reference,
        task_id,
        TASK_TEMPLATE,
        url_for("officer.inbox"),
        done_message=_("Recorded in case %(reference)s.", reference=reference),
        saved_message=_("Draft saved. The task stays open for you in the task inbox."),
        history=_history(reference),
        officers=_officers(task_id),
        notes=notes.notes_of(reference, signed_in_user()),
    )


def _task_context(reference: str, task_id: str, **extra: object) -> dict[str, object]:
    """What the task page shows beside the task: the history, the assignable officers, the internal notes."""
    user = signed_in_user()
    context = {"history": _history(reference), "officers": _officers(task_id), "notes": notes.notes_of(reference, user)}
    return {**context, **extra}


@bp.post("/cases/<reference>/tasks/<task_id>/notes")
def add_note(reference: str, task_id: str) -> ResponseReturnValue:
    """Keep an internal note on the case (officers only); an empty or too long note is refused, its text kept."""
    text = request.form.get("note", "")
    try:
        notes.add_note(reference, signed_in_user(), text)
    except InvalidInput as exc:
        context = _task_context(reference, task_id, note_text=text, note_errors=exc.errors.get(notes.TEXT, []))
        response = make_response(show_task(reference, task_id, TASK_TEMPLATE, **context))
        response.status_code = 422
        return response
    flash(_("Note saved. Only officers see it."), "success")
    return redirect(url_for("officer.task", reference=reference, task_id=task_id) + "#notes")


def _officers(task_id: str) -> list[object]:
    """For a supervisor: the officers the task can be given to (none for others)."""
    user = signed_in_user()
    return list(claims.assignable_officers(task_id, user))


@bp.post("/cases/<reference>/tasks/<task_id>/claim")
def claim(reference: str, task_id: str) -> ResponseReturnValue:
    """Start working on the task: claim it so that only I decide it; refused naming who holds it."""
    try:
        claims.claim_task(reference, task_id, signed_in_user())
    except Conflict as exc:
        flash(_("You cannot claim this task: %(reason)s.", reason=message_of(exc).rstrip(".")), "warning")
        return redirect(url_for("officer.task", reference=reference, task_id=task_id))
    flash(_("You are working on this task now; nobody else can decide it."), "success")
    return redirect(url_for("officer.task", reference=reference, task_id=task_id))


@bp.post("/cases/<reference>/tasks/<task_id>/release")
def release(reference: str, task_id: str) -> ResponseReturnValue:
    """Give the task back to the shared inbox."""
    claims.release_task(reference, task_id, signed_in_user())
    flash(_("The task is back in the shared inbox."), "info")
    return redirect(url_for("officer.inbox"))


@bp.post("/cases/<reference>/tasks/<task_id>/assign")
def assign(reference: str, task_id: str) -> ResponseReturnValue:
    """A supervisor gives the task to a named officer of its lane."""
    officer = request.form.get("officer", type=int)
    try:
        task = claims.assign_task(reference, task_id, signed_in_user(), officer or 0)
    except (NotFound, Conflict) as exc:  # no such officer; one the four-eyes rule keeps from the task
        flash(message_of(exc), "warning")
        return redirect(url_for("officer.task", reference=reference, task_id=task_id))
    flash(_("The task was given to %(name)s.", name=task.claimed_by.full_name if task.claimed_by else ""), "success")
    return redirect(url_for("officer.task", reference=reference, task_id=task_id))


@bp.post("/cases/<reference>/tasks/<task_id>/take-back")
def take_back(reference: str, task_id: str) -> ResponseReturnValue:
    """A supervisor takes the task back from the officer holding it."""
    claims.take_back_task(reference, task_id, signed_in_user())
    flash(_("The task was taken back; it is in the shared inbox again."), "info")
    return redirect(url_for("officer.task", reference=reference, task_id=task_id))


def _history(reference: str) -> timeline.CaseStatus:
    user = signed_in_user()
    application = cases.find_case(reference, user)
    return timeline.case_status(application, user, current_language())


@bp.get("/cases/<reference>")
def case(reference: str) -> ResponseReturnValue:
    """A case's status and history, and its permit once issued."""
    history = _history(reference)
    return render_template("officer/case.html", view=history, permit=permits.permit_for(reference, signed_in_user()))


@bp.get("/cases/<reference>/permit.pdf")
def permit_pdf(reference: str) -> Response:
    """The case's permit as a PDF, in its holder's language."""
    return pdf_response(permits.permit_pdf(reference, signed_in_user()))


from . import appointments  # noqa: E402,F401  (its routes are on this blueprint)
