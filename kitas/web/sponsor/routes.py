"""The sponsor's pages: applications that name them, the guarantee to confirm or decline, and group
applications (several people at once: one page to follow them, one confirmation, one payment)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language, translate
from kitas.services import groups
from kitas.services.cases import listings
from kitas.services.errors import Conflict, NotFound, ServiceError

from ..access import require_roles, signed_in_user
from ..task_views import post_task, show_task
from ..text import said

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


# -- group applications -----------------------------------------------------------------


@bp.get("/groups/")
def groups_list() -> ResponseReturnValue:
    """My group applications, and the types I can start one of."""
    return render_template("sponsor/groups.html", page=groups.my_groups_page(signed_in_user(), current_language()))


@bp.route("/groups/new/<kitas_type>", methods=["GET", "POST"])
def group_new(kitas_type: str) -> ResponseReturnValue:
    """Start applications for several people at once: the sponsor data once, one row per person."""
    language = current_language()
    if request.method == "GET":
        return render_template("sponsor/group_new.html", form=groups.group_form(kitas_type, language))
    try:
        group = groups.start_group(kitas_type, signed_in_user(), request.form.to_dict(flat=False), language)
    except groups.GroupRejected as exc:
        return render_template("sponsor/group_new.html", form=exc.form), 422
    flash(_("The applications were started: one for each person. Fill in each person's steps below."), "success")
    return redirect(url_for("sponsor.group", reference=group.reference), code=303)


@bp.get("/groups/<reference>")
def group(reference: str) -> ResponseReturnValue:
    """Every member's case: status and what it waits for, paged."""
    page = groups.group_page(reference, signed_in_user(), request.args.get("page", 1, type=int), current_language())
    return render_template("sponsor/group.html", page=page)


@bp.post("/groups/<reference>/confirm")
def group_confirm(reference: str) -> ResponseReturnValue:
    """Confirm the guarantee once for every member waiting for it."""
    try:
        outcome = groups.confirm_group(reference, signed_in_user())
    except Conflict as exc:
        flash(said(exc), "warning")
        return redirect(url_for("sponsor.group", reference=reference), code=303)
    if outcome.confirmed:
        flash(_("You confirmed the guarantee for %(count)s people.", count=len(outcome.confirmed)), "success")
    for case_reference, reason in outcome.refused:
        flash(
            _("%(reference)s was not confirmed: %(reason)s", reference=case_reference, reason=translate(reason)),
            "danger",
        )
    return redirect(url_for("sponsor.group", reference=reference), code=303)


@bp.route("/groups/<reference>/payment", methods=["GET", "POST"])
def group_payment(reference: str) -> ResponseReturnValue:
    """One billing code for every member waiting for payment (when the provider allows it), else each one's."""
    user = signed_in_user()
    if request.method == "POST":
        try:
            groups.pay_group(reference, user)
        except NotFound:
            raise
        except ServiceError as exc:  # nothing left to bill, or the provider bills each application alone
            flash(said(exc), "warning")
        return redirect(url_for("sponsor.group_payment", reference=reference), code=303)
    return render_template("sponsor/group_payment.html", page=groups.group_payment_page(reference, user))
