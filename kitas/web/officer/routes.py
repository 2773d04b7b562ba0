"""The officers' pages: the task inbox, claiming, and the task page with the case and its documents."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language
from kitas.services import cases
from kitas.services.cases import claims, listings, timeline
from kitas.services.errors import Conflict
from kitas.services.permits import downloads as permits

from ..access import require_roles, signed_in_user
from ..permit_files import pdf_response
from ..task_views import post_task, show_task
from ..text import message_of

bp = Blueprint("officer", __name__, url_prefix="/officer")
require_roles(bp, "verifier", "supervisor")

TASK_TEMPLATE = "officer/task.html"


@bp.get("/")
def inbox() -> ResponseReturnValue:
    """Open tasks of my roles, oldest first, due times coloured; ``?mine=1`` shows my claimed tasks."""
    mine = request.args.get("mine") == "1"
    number = request.args.get("page", 1, type=int)
    page = listings.officer_inbox(signed_in_user(), number, mine_only=mine, language=current_language())
    return render_template("officer/inbox.html", page=page, mine=mine)


@bp.route("/cases/<reference>/tasks/<task_id>", methods=["GET", "POST"])
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """The case's data and documents next to the diagram's decision form."""
    if request.method == "GET":
        return show_task(reference, task_id, TASK_TEMPLATE, history=_history(reference))
    return post_task(
        reference,
        task_id,
        TASK_TEMPLATE,
        url_for("officer.inbox"),
        done_message=_("Recorded in case %(reference)s.", reference=reference),
        saved_message=_("Draft saved. The task stays open for you in the task inbox."),
        history=_history(reference),
    )


@bp.post("/cases/<reference>/tasks/<task_id>/claim")
def claim(reference: str, task_id: str) -> ResponseReturnValue:
    """Claim the task so that nobody else works on it at the same time."""
    try:
        claims.claim_task(reference, task_id, signed_in_user())
    except Conflict as exc:
        flash(_("You cannot claim this task: %(reason)s.", reason=message_of(exc).rstrip(".")), "warning")
        return redirect(url_for("officer.inbox"))
    flash(_("You claimed this task."), "success")
    return redirect(url_for("officer.task", reference=reference, task_id=task_id))


@bp.post("/cases/<reference>/tasks/<task_id>/release")
def release(reference: str, task_id: str) -> ResponseReturnValue:
    """Give the task back to the shared inbox."""
    claims.release_task(reference, task_id, signed_in_user())
    flash(_("The task is back in the shared inbox."), "info")
    return redirect(url_for("officer.inbox"))


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
