"""A task's form as a person works on it: open it, keep a draft, attach documents, submit it.

The form, its order and its rules come from the deployed diagram version of the case;
this module only joins them with the case data, the draft and the stored documents.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

import forms
from workflows import catalog

from ...extensions import app_clock, db
from ...models import Application, Document, HumanTask, User
from ...transactions import write_transaction
from .. import documents
from ..audit.refusals import audited_refusals
from ..deployments import definition_form
from ..errors import Conflict, InvalidInput
from . import lifecycle as cases
from .summary import CaseSection, document_ids, summary_sections


@dataclass
class TaskPage:
    """Everything a task page shows: the case, the open task, its form, the values and the documents."""

    application: Application
    task: HumanTask
    form: forms.FormSpec | None
    values: dict[str, Any]
    documents: dict[str, Document]
    sections: list[CaseSection] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)


class TaskFormConflict(Conflict):
    """Someone else was first; ``page`` holds what was typed so it can be shown again."""

    def __init__(self, message: str, page: TaskPage):
        super().__init__(message)
        self.page = page


class TaskFormRejected(InvalidInput):
    """A submitted task form has errors; ``page`` holds what was typed, so nothing is lost."""

    def __init__(self, errors: dict[str, list[str]], page: TaskPage):
        super().__init__(errors)
        self.page = page


Uploads = dict[str, tuple[str, bytes]]


def open_task_page(reference: str, task_id: str, user: User) -> TaskPage:
    """Open a READY task of a case the user may work on, showing the draft if one was saved."""
    application = cases.find_case(reference, user)
    task = _task_row(application, task_id)
    with audited_refusals(user, "application", application.id, task_id=task_id):
        cases.check_lane(application, task, user)
    form = _form_of(application, task)
    runtime = cases.load_runtime(application)
    data = runtime.task_data(task_id)
    values = forms.known_data(form, task.draft if task.draft is not None else data) if form else {}
    sections = summary_sections(application, data, exclude=task.element_id, lanes=_readable_lanes(task))
    ids = document_ids(form, values) | {i for section in sections for i in section.document_ids}
    found = documents.documents_by_public_ids(ids, application_id=application.id)
    return TaskPage(application, task, form, values, found, sections)


def save_draft(reference: str, task_id: str, user: User, raw: forms.coercion.Raw, uploads: Uploads) -> TaskPage:
    """Keep what was typed (and store the attached documents) without completing the task."""
    page = open_task_page(reference, task_id, user)
    data, errors = _posted(page, user, raw, uploads)
    if not _store_draft(page.task, data, user):
        raise TaskFormConflict("another officer claimed this task, so your draft was not saved", _with(page, data, {}))
    return _with(page, data, errors)


def submit(
    reference: str,
    task_id: str,
    user: User,
    raw: forms.coercion.Raw,
    uploads: Uploads,
    expected_version: int | None = None,
) -> Application:
    """Validate the posted form and complete the task; on errors keep a draft and raise TaskFormRejected."""
    page = open_task_page(reference, task_id, user)
    data, errors = _posted(page, user, raw, uploads)
    if page.form is not None:
        for key, messages in forms.validate(page.form, data).items():
            errors.setdefault(key, messages)
    if errors:
        _store_draft(page.task, data, user)
        raise TaskFormRejected(errors, _with(page, data, errors))
    try:
        return cases.complete_task(page.application.id, task_id, user, data, expected_version=expected_version)
    except InvalidInput as exc:
        raise TaskFormRejected(exc.errors, _with(page, data, exc.errors)) from exc
    except Conflict as exc:
        # The case moved on, or another officer holds the task: what was typed comes back with the message.
        _store_draft(page.task, data, user)
        raise TaskFormConflict(str(exc), _with(page, data, {})) from exc


def _posted(page: TaskPage, user: User, raw: forms.coercion.Raw, uploads: Uploads) -> tuple[dict[str, Any], dict]:
    """Coerce posted text; file fields keep the documents the server holds unless a new file was attached."""
    if page.form is None:
        return {}, {}
    data, errors = forms.coerce(page.form, raw, current=page.values)
    file_fields = [f.name for f in page.form.fields if f.widget == "file"]
    for name in file_fields:
        # A document reference is never taken from the browser: only what this case stored counts.
        data.pop(name, None)
        if page.values.get(name) in page.documents:
            data[name] = page.values[name]
    attached = {name: upload for name, upload in uploads.items() if name in file_fields and upload[0]}
    if attached:
        result = documents.store_uploads(page.application.id, user, page.task.task_id, attached)
        for name, document in result.stored.items():
            data[name] = document.public_id
            page.documents[document.public_id] = document
        errors.update(result.errors)
    return data, errors


def _store_draft(task: HumanTask, data: dict[str, Any], user: User) -> bool:
    """Keep ``data`` as the task's draft, unless another officer holds the task (their draft is theirs)."""
    with write_transaction():
        row = db.session.get(HumanTask, task.id)
        if row is None or row.claimed_by_id not in (None, user.id):
            return False  # completed meanwhile, or claimed by someone else
        row.draft = dict(data)
        row.draft_saved_at = app_clock().now()
    return True


def _readable_lanes(task: HumanTask) -> set[str] | None:
    """Whose earlier answers a task shows: none for the applicant (their own), the applicant's for the
    sponsor, every lane for officers (None)."""
    if task.role == "applicant":
        return set()
    if task.role == "sponsor":
        return catalog().lanes_of("applicant")
    return None


def _with(page: TaskPage, data: dict[str, Any], errors: dict[str, list[str]]) -> TaskPage:
    return replace(page, values=data, errors=errors)


def _task_row(application: Application, task_id: str) -> HumanTask:
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.task_id == task_id)
    ).first()
    if task is None:
        cases.open_task(application, task_id)  # raises the Conflict that says who completed it
    assert task is not None
    return task


def _form_of(application: Application, task: HumanTask) -> forms.FormSpec | None:
    if not task.form_schema:
        return None
    return definition_form(application.definition, task.form_schema, task.form_ui_schema)
