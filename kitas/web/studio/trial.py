"""Try this version: start a sandbox case on a draft, step through it in every role, fire its timers, pay
it through the sandbox bank, discard the trials."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.services.errors import Conflict
from kitas.services.studio import drafts, trial

from ...i18n import current_language
from ..access import signed_in_user
from ..task_views import post_task, show_task
from ..text import said
from .blueprint import bp

TASK_TEMPLATE = "studio/trial_task.html"


@bp.post("/drafts/<int:draft_id>/try")
def try_draft(draft_id: int) -> ResponseReturnValue:
    """Store the draft as a trial version and start a trial case on it; a draft that cannot run is shown
    again with its problems, each naming its element."""
    try:
        application = trial.try_draft(draft_id, signed_in_user())
    except trial.TryRefused as exc:
        return render_template("studio/draft.html", draft=drafts.get_draft(draft_id), trial_problems=exc.problems), 422
    flash(_("A trial case was started on this version. Officers never see it."), "success")
    return redirect(url_for("studio.trial_case", reference=application.reference))


@bp.get("/drafts/<int:draft_id>/trials")
def draft_trials(draft_id: int) -> ResponseReturnValue:
    """The analyst's trial cases of the draft's process."""
    user = signed_in_user()
    return render_template(
        "studio/trial_list.html", draft=drafts.get_draft(draft_id), trials=trial.trials_of_draft(draft_id, user)
    )


@bp.post("/drafts/<int:draft_id>/trials/discard")
def discard_trials(draft_id: int) -> ResponseReturnValue:
    """Close the analyst's open trial cases of the draft."""
    closed = trial.discard_trials(draft_id, signed_in_user())
    flash(_("Trial cases discarded: %(count)s.", count=closed), "success")
    return redirect(url_for("studio.draft_trials", draft_id=draft_id))


@bp.get("/trials/<reference>")
def trial_case(reference: str) -> ResponseReturnValue:
    """A trial case: its status, ready tasks with their role, timers, the payment step."""
    page = trial.trial_page(reference, signed_in_user(), current_language())
    return render_template("studio/trial.html", page=page)


@bp.route("/trials/<reference>/tasks/<task_id>", methods=["GET", "POST"])
def trial_task(reference: str, task_id: str) -> ResponseReturnValue:
    """A step of a trial case done by the analyst in the lane's role, with the form every audience gets."""
    trial.trial_case(reference, signed_in_user())  # a real case is never opened here
    done = url_for("studio.trial_case", reference=reference)
    if request.method == "GET":
        try:
            return show_task(reference, task_id, TASK_TEMPLATE)
        except Conflict as exc:  # done meanwhile
            flash(said(exc), "warning")
            return redirect(done)
    return post_task(reference, task_id, TASK_TEMPLATE, done, done_message=_("The trial case went on."))


@bp.post("/trials/<reference>/timers/<int:timer_id>/fire")
def trial_fire_timer(reference: str, timer_id: int) -> ResponseReturnValue:
    """Fire a timer of the trial case now (the sandbox only)."""
    try:
        outcome = trial.fire_timer_now(reference, timer_id, signed_in_user())
    except Conflict as exc:
        flash(said(exc), "warning")
    else:
        if outcome == "fired":
            flash(_("The timer fired."), "success")
        else:
            flash(_("The case no longer waited on this timer."), "warning")
    return redirect(url_for("studio.trial_case", reference=reference))


@bp.post("/trials/<reference>/pay")
def trial_pay(reference: str) -> ResponseReturnValue:
    """Pay the trial case's bill as the sandbox bank confirms a payment."""
    try:
        trial.pay_trial(reference, signed_in_user())
    except Conflict as exc:
        flash(said(exc), "warning")
    else:
        flash(_("The sandbox bank confirmed the payment."), "success")
    return redirect(url_for("studio.trial_case", reference=reference))
