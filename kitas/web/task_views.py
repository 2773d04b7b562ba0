"""The task page every audience shares: show a task's form, keep a draft, submit it.

Each blueprint checks its roles, then hands over here with its own template and
where to go once the task is done; the services check the case and the lane.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..i18n import current_language
from ..services.cases import taskforms
from ..services.errors import Conflict
from .access import signed_in_user
from .text import said


def show_task(reference: str, task_id: str, template: str, **context: object) -> ResponseReturnValue:
    """Render a task's page with its form (draft or case data in the inputs)."""
    page = taskforms.open_task_page(reference, task_id, signed_in_user(), current_language())
    return render_template(template, page=page, **context)


def post_task(
    reference: str, task_id: str, template: str, done_url: str, check_url: str | None = None, **context: object
) -> ResponseReturnValue:
    """Save a draft or submit the form; errors re-render the page with everything typed kept. A step
    after which the applicant checks her answers goes to ``check_url`` instead of completing."""
    user = signed_in_user()
    raw = request.form.to_dict(flat=False)
    uploads = {name: (f.filename or "", f.read()) for name, f in request.files.items() if f and f.filename}
    if request.form.get("action") == "save":
        try:
            page = taskforms.save_draft(reference, task_id, user, raw, uploads, current_language())
        except taskforms.TaskFormConflict as exc:
            flash(_("%(problem)s What you typed is kept below.", problem=said(exc)), "warning")
            return render_template(template, page=exc.page, **context), 409
        if page.errors:
            return render_template(template, page=page, **context), 422
        saved = str(context.get("saved_message") or "") or _(
            "Your answers are saved. You can continue later from your dashboard."
        )
        flash(saved, "success")
        return redirect(request.path)
    version = request.form.get("version", type=int)
    try:
        completed = taskforms.submit(
            reference, task_id, user, raw, uploads, expected_version=version, language=current_language()
        )
    except taskforms.TaskFormRejected as exc:
        return render_template(template, page=exc.page, **context), 422
    except taskforms.TaskFormConflict as exc:
        try:
            taskforms.open_task_page(reference, task_id, user)
        except Conflict as gone:  # completed or cancelled: the form has nothing left to do
            flash(said(gone), "warning")
            return redirect(done_url)
        # Still open (the case changed, or another officer claimed it): the page again, input kept.
        flash(_("%(problem)s What you typed is kept below; check it and send it again.", problem=said(exc)), "warning")
        return render_template(template, page=exc.page, **context), 409
    except Conflict as exc:
        flash(said(exc), "warning")
        return redirect(done_url)
    if not completed and check_url:
        return redirect(check_url)
    done = context.get("done_message") or _("The next step is on its way.")
    flash(_("Done. %(what)s", what=done), "success")
    return redirect(done_url)
