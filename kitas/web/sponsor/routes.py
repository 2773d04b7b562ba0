"""The sponsor's pages: applications that name them, and the guarantee to confirm or decline."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language
from kitas.services.cases import listings

from ..access import require_roles, signed_in_user
from ..task_views import post_task, show_task

bp = Blueprint("sponsor", __name__, url_prefix="/sponsor")
require_roles(bp, "sponsor")

TASK_TEMPLATE = "sponsor/task.html"


@bp.get("/")
def requests() -> ResponseReturnValue:
    """Applications naming my registered e-mail as sponsor, those awaiting my decision first."""
    number = request.args.get("page", 1, type=int)
    page = listings.sponsor_requests(signed_in_user(), number, language=current_language())
    return render_template("sponsor/requests.html", page=page)


@bp.route("/applications/<reference>/tasks/<task_id>", methods=["GET", "POST"])
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """The applicant's data and the guarantee decision."""
    if request.method == "GET":
        return show_task(reference, task_id, TASK_TEMPLATE)
    return post_task(
        reference, task_id, TASK_TEMPLATE, url_for("sponsor.requests"), done_message=_("Your decision was recorded.")
    )
