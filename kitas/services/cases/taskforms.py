"""A task's form as a person works on it: open it, keep a draft, attach documents, submit it.

The form, its order and its rules come from the deployed diagram version of the case;
this module only joins them with the case data, the draft and the stored documents.
A post (draft or submission) is ONE step of the case's unit of work: the attached files
go to the store first, then one transaction checks the person, adds the documents,
keeps the draft or completes the task. The form's texts come in the ``language`` asked for
(English without one); the data it validates is the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

import forms
from forms.texts import Message
from workflows import catalog

from ...extensions import app_clock, db
from ...models import Application, Document, HumanTask, User
from .. import documents
from ..appointments.choices import SlotChoices, slot_choices
from ..appointments.kinds import BY_BOOK_TASK
from ..audit.refusals import audited_refusals
from ..deployments import definition_form, element_names
from ..errors import CaseCannotGoOn, Conflict, InvalidInput
from . import corrections, four_eyes, sponsor_limits
from .access import OFFICER_ROLES, trial_owner
from .answers import changed_answers, checks_answers, mark_checked, with_check
from .form_rules import rule_context
from .lifecycle import complete_in_step, find_case
from .names import localized
from .summary import CaseSection, document_ids, summary_sections
from .unit_of_work import CaseStep, case_step, check_lane, closed_task_conflict, read_runtime


@dataclass
class TaskPage:
    """Everything a task page shows: the case, the open task, its form, the values and the documents."""

    application: Application
    task: HumanTask
    form: forms.FormSpec | None
    values: dict[str, Any]
    documents: dict[str, Document]
    sections: list[CaseSection] = field(default_factory=list)
    # A booking step: the free times of the case's office to choose from (the form's slot field).
    appointment: SlotChoices | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Four eyes (four_eyes.py): why this reader may not take the task, and the supervisor's send-back reason.
    barred: Message | None = None
    sent_back: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)  # a correction form: the officer's reason per field
    workspace: corrections.Workspace | None = None  # a verification: the ticks, checklists, previous round
    previews: dict[str, int] = field(default_factory=dict)  # an officer's page: pages shown of each PDF


class TaskFormConflict(Conflict):
    """Someone else was first; ``page`` holds what was typed so it can be shown again."""

    def __init__(self, message: str, page: TaskPage):
        super().__init__(message)
        self.page = page


class _NotAccepted(CaseCannotGoOn):
    """The task's own script failed: the step is rolled back, and what was typed travels out with it."""

    def __init__(self, failure: CaseCannotGoOn, values: dict[str, Any]):
        super().__init__(
            str(failure),
            application_id=failure.application_id,
            element_id=failure.element_id,
            kind=failure.kind,
            error=failure.error,
        )
        self.values = values


# Shown above the form when the step's own script failed (the incident tells the administrators).
NOT_ACCEPTED = Message(
    "We could not accept this step because of a problem on our side. What you typed is kept below; "
    "our administrators have been told. Please try again later."
)


class TaskFormRejected(InvalidInput):
    """A submitted task form has errors; ``page`` holds what was typed, so nothing is lost."""

    def __init__(self, errors: dict[str, list[str]], page: TaskPage):
        super().__init__(errors)
        self.page = page


Uploads = dict[str, tuple[str, bytes]]


@dataclass
class _Posted:
    """What one post did inside its step: the values kept, the errors, and a conflict if there was one."""

    values: dict[str, Any]
    errors: dict[str, list[str]]
    conflict: str | None = None
    checking: bool = False  # kept as sent; the applicant now checks her answers before it goes on


def open_task_page(reference: str, task_id: str, user: User, language: str | None = None) -> TaskPage:
    """Open a READY task of a case the user may work on, showing the draft if one was saved; the
    form, the task's name and the earlier answers' labels in ``language``."""
    application = find_case(reference, user)
    task = _task_row(application, task_id)
    # A supervisor reads any officer's task (to assign it or take it back); deciding still needs the lane.
    if not (task.role in OFFICER_ROLES and user.has_role("supervisor")):
        with audited_refusals(user, "application", application.id, task_id=task_id):
            check_lane(application, task, user)
    runtime = read_runtime(application)
    data = runtime.task_data(task_id)
    form = corrections.opened_form(application, _form_of(application, task, language), data, language)
    officers_task = task.role in OFFICER_ROLES
    barred = (
        four_eyes.YOU_VERIFIED
        if officers_task and not application.trial and four_eyes.barred(runtime.not_by(task_id), user)
        else None
    )
    values = forms.known_data(form, task.draft if task.draft is not None else data) if form else {}
    # A correction step shows the rest of the applicant's answers read-only.
    lanes = catalog().lanes_of("applicant") if corrections.opens(form) else _readable_lanes(task)
    sections = summary_sections(application, data, exclude=task.element_id, lanes=lanes, language=language, review=True)
    workspace = corrections.workspace(application, form, values, data, language)
    ids = document_ids(form, values) | {i for section in sections for i in section.document_ids}
    ids |= workspace.document_ids if workspace else set()
    found = documents.documents_by_public_ids(ids, application_id=application.id)
    named = localized(task, element_names(application.definition, language))
    sent_back = four_eyes.sent_back_reason(data) if officers_task else None
    booking = BY_BOOK_TASK.get(task.element_id)
    choices = slot_choices(application, booking, app_clock().now()) if booking is not None else None
    page = TaskPage(
        application, named, form, values, found, sections, barred=barred, sent_back=sent_back, appointment=choices
    )
    page.reasons = corrections.reasons(application, form, data)
    page.workspace = workspace
    if officers_task:
        page.previews = documents.page_counts(found.values())
    return page


def save_draft(
    reference: str,
    task_id: str,
    user: User,
    raw: forms.coercion.Raw,
    uploads: Uploads,
    language: str | None = None,
) -> TaskPage:
    """Keep what was typed (and store the attached documents) without completing the task."""
    posted = _post(reference, task_id, user, raw, uploads, complete=False, language=language)
    page = _page_with(reference, task_id, user, posted, language)
    if posted.conflict:
        raise TaskFormConflict(posted.conflict, page)
    return page


def submit(
    reference: str,
    task_id: str,
    user: User,
    raw: forms.coercion.Raw,
    uploads: Uploads,
    expected_version: int | None = None,
    language: str | None = None,
) -> bool:
    """Validate the posted form and complete the task; on errors keep a draft and raise TaskFormRejected
    (its page in ``language``). False when the task was not completed but kept for the applicant to check
    her answers first (the catalog's ``check_answers``: see ``answers.open_check``), else True."""
    posted = _post(
        reference, task_id, user, raw, uploads, complete=True, expected_version=expected_version, language=language
    )
    if posted.conflict:
        raise TaskFormConflict(posted.conflict, _page_with(reference, task_id, user, posted, language))
    if posted.errors:
        raise TaskFormRejected(posted.errors, _page_with(reference, task_id, user, posted, language))
    return not posted.checking


def _post(
    reference: str,
    task_id: str,
    user: User,
    raw: forms.coercion.Raw,
    uploads: Uploads,
    *,
    complete: bool,
    expected_version: int | None = None,
    language: str | None = None,
) -> _Posted:
    """One step: attach the files, coerce and check the form, then keep a draft or complete the task."""
    application = find_case(reference, user)
    task = _task_row(application, task_id)
    form = _form_of(application, task, language)
    if corrections.opens(form):  # the fields it opens are named in the case data
        form = corrections.opened_form(application, form, read_runtime(application).task_data(task_id), language)
    file_fields = {f.name for f in form.fields if f.widget == "file"} if form else set()
    prepared = documents.prepare_uploads(
        {name: upload for name, upload in uploads.items() if name in file_fields and upload[0]},
        forms.file_rules(form),
    )
    try:
        with case_step(application.id, user=user, task_id=task_id) as step:
            posted = _in_step(step, task_id, user, form, raw, prepared, complete, expected_version)
    except _NotAccepted as failure:  # rolled back (its incident is opened): keep what was typed as a draft
        prepared.discard()
        values = _without_files(form, failure.values)
        _draft_after_rollback(application.id, task_id, user, values)
        return _Posted(values, {"": [NOT_ACCEPTED]})
    except BaseException:
        prepared.discard()
        raise
    return posted


def _without_files(form: forms.FormSpec | None, values: dict[str, Any]) -> dict[str, Any]:
    """The typed values without file fields: documents attached in a rolled-back step were not kept."""
    file_fields = {f.name for f in form.fields if f.widget == "file"} if form else set()
    return {name: value for name, value in values.items() if name not in file_fields}


def _draft_after_rollback(application_id: int, task_id: str, user: User, values: dict[str, Any]) -> None:
    """Keep what was typed as the task's draft, in a step of its own after the failed one."""
    with case_step(application_id, user=user, task_id=task_id) as step:
        task = step.tasks().get(task_id)
        if task is not None and task.claimed_by_id in (None, user.id):
            _keep_draft(task, values, step)


def _in_step(
    step: CaseStep,
    task_id: str,
    user: User,
    form: forms.FormSpec | None,
    raw: forms.coercion.Raw,
    prepared: documents.PreparedUploads,
    complete: bool,
    expected_version: int | None,
) -> _Posted:
    step.check_access(user)
    task = step.open_task(task_id)
    step.check_lane(task, user)
    current = task.draft if task.draft is not None else step.runtime.task_data(task_id)
    values = forms.known_data(form, current) if form else {}
    data, errors = forms.coerce(form, raw, current=values) if form else ({}, {})
    if form is not None:
        _keep_stored_documents(step, form, values, data)
    if prepared.accepted:
        for name, document in documents.add_documents(step, user, task_id, prepared).items():
            data[name] = document.public_id
    errors.update(prepared.errors)
    if complete and form is not None:
        answers = {**step.runtime.task_data(task_id), **changed_answers(task)}
        context = rule_context(step.application, step.now, answers)
        for key, messages in forms.validate(form, data, context).items():
            errors.setdefault(key, messages)
        for key, messages in sponsor_limits.step_problems(step.application, task, answers, data).items():
            errors.setdefault(key, messages)
        # A correction's own words win: "upload a new file" says more than "required" on a document asked for.
        errors.update(corrections.problems(step.application, form, answers, data, context))
    # Another officer may hold the task: their draft is theirs, and so is the decision. An officer's task
    # nobody claimed takes neither a draft nor a decision until someone starts working on it.
    held_by_other = task.claimed_by_id not in (None, user.id)
    unclaimed = task.claimed_by_id is None and task.role in OFFICER_ROLES and not trial_owner(step.application, user)
    if not complete:
        if held_by_other:
            return _Posted(data, {}, Message("another officer claimed this task, so your draft was not saved"))
        if unclaimed:
            return _Posted(data, {}, Message("nobody is working on this task yet, so your draft was not saved"))
        _keep_draft(task, data, step)
        return _Posted(data, errors)
    if errors:
        if not (held_by_other or unclaimed):
            _keep_draft(task, data, step)
        return _Posted(data, errors)
    if checks_answers(step.application, task) and not step.application.trial:  # a trial: no check-answers detour
        mark_checked(task, data, step)
        return _Posted(data, {}, checking=True)
    try:
        step.check_claim(task, user)
        step.check_version(expected_version)
    except Conflict as exc:
        if not (held_by_other or unclaimed):
            _keep_draft(task, data, step)
        return _Posted(data, {}, exc.message if isinstance(exc.message, Message) else str(exc))
    if form is not None and corrections.opens(form):
        data[corrections.CHANGES] = corrections.changes(form, step.runtime.task_data(task_id), data)
    try:
        complete_in_step(step, task, user, data)
    except InvalidInput as exc:  # what the engine is given is checked once more, field by field
        _keep_draft(task, data, step)
        return _Posted(data, exc.errors)
    except CaseCannotGoOn as failure:
        raise _NotAccepted(failure, data) from failure
    return _Posted(data, {})


def _keep_stored_documents(step: CaseStep, form: forms.FormSpec, values: dict[str, Any], data: dict[str, Any]) -> None:
    """File fields keep the documents this case holds; a document reference is never taken from the browser."""
    file_fields = [f.name for f in form.fields if f.widget == "file"]
    for name in file_fields:
        data.pop(name, None)
    known = documents.documents_by_public_ids(
        [values[name] for name in file_fields if values.get(name)], application_id=step.application.id
    )
    for name in file_fields:
        if values.get(name) in known:
            data[name] = values[name]


def _keep_draft(task: HumanTask, data: dict[str, Any], step: CaseStep) -> None:
    task.draft = with_check(task, data)
    task.draft_saved_at = step.now


def _page_with(reference: str, task_id: str, user: User, posted: _Posted, language: str | None = None) -> TaskPage:
    """The task page again, showing what was posted and its errors (nothing typed is lost)."""
    page = open_task_page(reference, task_id, user, language)
    ids = document_ids(page.form, posted.values) - set(page.documents)
    page.documents.update(documents.documents_by_public_ids(ids, application_id=page.application.id))
    return replace(page, values=posted.values, errors=posted.errors)


def _readable_lanes(task: HumanTask) -> set[str] | None:
    """Whose earlier answers a task shows: none for the applicant (their own), the applicant's for the
    sponsor, every lane for officers (None)."""
    if task.role == "applicant":
        return set()
    if task.role == "sponsor":
        return catalog().lanes_of("applicant")
    return None


def _task_row(application: Application, task_id: str) -> HumanTask:
    """The open task row (read only), or the Conflict that says who completed it."""
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.task_id == task_id)
    ).first()
    if task is None:
        raise closed_task_conflict(application.id, task_id)
    return task


def _form_of(application: Application, task: HumanTask, language: str | None = None) -> forms.FormSpec | None:
    if not task.form_schema:
        return None
    return definition_form(application.definition, task.form_schema, task.form_ui_schema, language)
