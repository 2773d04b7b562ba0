"""The task page every audience shares: show a task's form, keep a draft, submit it.

Each blueprint checks its roles, then hands over here with its own template and
where to go once the task is done; the services check the case and the lane.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..services import taskforms
from ..services.errors import Conflict
from .access import signed_in_user


def show_task(reference: str, task_id: str, template: str, **context: object) -> ResponseReturnValue:
    """Render a task's page with its form (draft or case data in the inputs)."""
    page = taskforms.open_task_page(reference, task_id, signed_in_user())
    return render_template(template, page=page, **context)


def post_task(reference: str, task_id: str, template: str, done_url: str, **context: object) -> ResponseReturnValue:
    """Save a draft or submit the form; errors re-render the page with everything typed kept."""
    user = signed_in_user()
    raw = request.form.to_dict(flat=False)
    uploads = {name: (f.filename or "", f.read()) for name, f in request.files.items() if f and f.filename}
    if request.form.get("action") == "save":
        page = taskforms.save_draft(reference, task_id, user, raw, uploads)
        if page.errors:
            return render_template(template, page=page, **context), 422
        flash("Your answers are saved. You can continue later from your dashboard.", "success")
        return redirect(request.path)
    version = request.form.get("version", type=int)
    try:
        taskforms.submit(reference, task_id, user, raw, uploads, expected_version=version)
    except taskforms.TaskFormRejected as exc:
        return render_template(template, page=exc.page, **context), 422
    except Conflict as exc:
        flash(_sentence(str(exc)), "warning")
        return redirect(done_url)
    flash("Done. " + context.get("done_message", "The next step is on its way."), "success")  # type: ignore[operator]
    return redirect(done_url)


def task_url(endpoint: str, reference: str, task_id: str) -> str:
    """The URL of a task page in a blueprint."""
    return url_for(endpoint, reference=reference, task_id=task_id)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."
