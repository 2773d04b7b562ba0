"""The applicant's pages: dashboard, start an application, task forms, case status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language, translate
from kitas.services import accounts, cases, catalog, information
from kitas.services.appointments.choices import booked_appointments
from kitas.services.cases import answers, invitations, journey, listings, timeline
from kitas.services.errors import Conflict, InvalidInput
from kitas.services.permits import downloads as permits

from ..access import require_roles, signed_in_user
from ..permit_files import pdf_response
from ..sessions import passive
from ..task_views import post_task, show_task
from ..text import said

bp = Blueprint("applicant", __name__, url_prefix="/applications")


require_roles(bp, "applicant")

TASK_TEMPLATE = "applicant/task.html"
# The pages of the service a status may send the applicant to (the catalog's ``action_page``).
ACTION_PAGES = {"payment": "payment.pay"}


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """My applications: reference, type, status in plain words, what to do next and by when."""
    user = signed_in_user()
    language = current_language()
    page = listings.my_applications(user, request.args.get("page", 1, type=int), language=language)
    startable = information.startable_types(language)
    return render_template(
        "applicant/dashboard.html", page=page, startable=startable, verified=accounts.is_verified(user)
    )


@bp.get("/new/<kitas_type>")
def choose_index(kitas_type: str) -> ResponseReturnValue:
    """The start of an application: the province where the applicant will live (the case's office comes
    from it) and, for a type of several index codes (a spouse E31A or E31B, a child E31C), which one;
    ``?index=E31B`` (the guide's or the type page's link) chooses it already."""
    form = catalog.start_form(kitas_type, current_language())
    return render_template("applicant/start.html", form=form, t=form.type, chosen=request.args.get("index", ""))


@bp.post("/new/<kitas_type>")
def start(kitas_type: str) -> ResponseReturnValue:
    """Start an application of a KITAS type (for the index code and province chosen) and open its first step."""
    user = signed_in_user()
    if not accounts.is_verified(user):
        flash(_("Confirm your e-mail address first: open the link we sent you, or ask for a new one."), "warning")
        return redirect(url_for("applicant.dashboard"))
    # The page posts the index field (empty when nothing is chosen) only for a type of several codes.
    posted = request.form.getlist("index_code")
    chosen = posted[-1].strip() if posted else None
    province = request.form.get("domicile_province")
    try:
        application = cases.start_case(kitas_type, user, index_code=chosen, domicile_province=province)
    except InvalidInput as exc:
        form = catalog.start_form(kitas_type, current_language())
        return (
            render_template(
                "applicant/start.html",
                form=form,
                t=form.type,
                chosen=chosen or "",
                province=province or "",
                errors=exc.errors,
            ),
            422,
        )
    return redirect(url_for("applicant.next_step", reference=application.reference))


@bp.get("/<reference>")
def status(reference: str) -> ResponseReturnValue:
    """Where my case stands: steps, timeline, reason of a negative outcome, what to do now."""
    return _status("applicant/status.html", reference)


@bp.get("/<reference>/timeline")
@passive
def timeline_fragment(reference: str) -> ResponseReturnValue:
    """The status block alone, polled by the status page so it refreshes without a reload."""
    return _status("applicant/_status_block.html", reference)


def _status(template: str, reference: str, sponsor_form: dict[str, Any] | None = None) -> ResponseReturnValue:
    user = signed_in_user()
    application = cases.find_case(reference, user)
    language = current_language()
    steps = listings.next_steps([application], "applicant", language)
    view = timeline.case_status(application, user, language)
    own = answers.own_answers(application, user, language) if template == "applicant/status.html" else None
    page = render_template(
        template,
        view=view,
        next_step=steps.get(application.id),
        own=own,
        sponsor_form=sponsor_form or {},
        permit=permits.permit_for(reference, user),
        journey=journey.applicant_journey(application, language),
        appointments=booked_appointments(application) if template == "applicant/status.html" else [],
    )
    return (page, 400) if sponsor_form else page


@bp.get("/<reference>/permit.pdf")
def permit_pdf(reference: str) -> Response:
    """My issued permit as a PDF, in my language (nobody else's: 404)."""
    return pdf_response(permits.permit_pdf(reference, signed_in_user()))


@bp.post("/<reference>/sponsor/resend")
def resend_invitation(reference: str) -> ResponseReturnValue:
    """Send the invitation to my sponsor (who has no account yet) again."""
    try:
        email = invitations.resend_invitation(reference, signed_in_user())
    except Conflict as exc:
        flash(said(exc), "warning")
    else:
        flash(_("The invitation was sent again to %(email)s.", email=email), "success")
    return redirect(url_for("applicant.status", reference=reference))


@bp.post("/<reference>/sponsor/email")
def correct_sponsor(reference: str) -> ResponseReturnValue:
    """Correct my sponsor's e-mail address while the application waits for them."""
    typed = request.form.get("sponsor_email", "")
    try:
        email = invitations.correct_sponsor_email(reference, signed_in_user(), typed)
    except InvalidInput as exc:
        # The page again, the address as typed and what is wrong with it next to the field.
        problems = [str(translate(message)) for messages in exc.errors.values() for message in messages]
        return _status("applicant/status.html", reference, {"value": typed, "errors": problems})
    except Conflict as exc:
        flash(said(exc), "warning")
    else:
        flash(_("The application now asks %(email)s to confirm the guarantee.", email=email), "success")
    return redirect(url_for("applicant.status", reference=reference))


@bp.get("/<reference>/next")
def next_step(reference: str) -> ResponseReturnValue:
    """Open my next task of the case, or its status page when nothing is waiting for me."""
    user = signed_in_user()
    application = cases.find_case(reference, user)
    step = listings.next_steps([application], "applicant").get(application.id)
    if step is not None and step.task_id:
        if answers.is_waiting_for_check(application, step.task_id):
            return redirect(url_for("applicant.check_answers", reference=reference, task_id=step.task_id))
        return redirect(url_for("applicant.task", reference=reference, task_id=step.task_id))
    if step is not None and step.page in ACTION_PAGES:
        return redirect(url_for(ACTION_PAGES[step.page], reference=reference))
    return redirect(url_for("applicant.status", reference=reference))


@bp.route("/<reference>/tasks/<task_id>", methods=["GET", "POST"])
def task(reference: str, task_id: str) -> ResponseReturnValue:
    """One of my steps: its form, saved as a draft or submitted."""
    if request.method == "GET":
        try:
            return show_task(reference, task_id, TASK_TEMPLATE)
        except Conflict:  # a step she already sent: her answers, read-only
            page = answers.answered_step(reference, task_id, signed_in_user(), current_language())
            return render_template("applicant/answered.html", page=page)
    done = url_for("applicant.next_step", reference=reference)
    check = url_for("applicant.check_answers", reference=reference, task_id=task_id)
    return post_task(
        reference, task_id, TASK_TEMPLATE, done, check_url=check, done_message=_("Your answers were submitted.")
    )


@bp.route("/<reference>/tasks/<task_id>/check", methods=["GET", "POST"])
def check_answers(reference: str, task_id: str) -> ResponseReturnValue:
    """Check your answers: every answer and document with "change" links; confirming sends the step on."""
    user = signed_in_user()
    if request.method == "GET":
        page = answers.open_check(reference, task_id, user, current_language())
        return render_template("applicant/check_answers.html", page=page)
    try:
        answers.confirm(reference, task_id, user, request.form.get("version", type=int), current_language())
    except answers.AnswersNotConfirmed as exc:
        return render_template("applicant/check_answers.html", page=exc.page), 422
    except Conflict as exc:
        flash(said(exc), "warning")
        return redirect(url_for("applicant.check_answers", reference=reference, task_id=task_id))
    flash(_("Done. %(what)s", what=_("Your answers were submitted.")), "success")
    return redirect(url_for("applicant.next_step", reference=reference))


@bp.route("/<reference>/tasks/<task_id>/check/<element_id>", methods=["GET", "POST"])
def change_answers(reference: str, task_id: str, element_id: str) -> ResponseReturnValue:
    """An earlier step's form opened from the summary; saving returns to the summary."""
    user = signed_in_user()
    if request.method == "GET":
        page = answers.open_change(reference, task_id, element_id, user, current_language())
        return render_template("applicant/change_answers.html", page=page)
    try:
        answers.save_change(reference, task_id, element_id, user, request.form.to_dict(flat=False), current_language())
    except answers.ChangeRejected as exc:
        return render_template("applicant/change_answers.html", page=exc.page), 422
    flash(_("Your change is kept. Check your answers, then send them."), "success")
    return redirect(url_for("applicant.check_answers", reference=reference, task_id=task_id))


from . import appointments  # noqa: E402,F401  (its routes are on this blueprint)
