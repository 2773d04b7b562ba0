"""The applicant's own answers: "check your answers" before the case leaves her, a submitted step read
again, and what her status page shows.

Where the applicant checks her answers is data: the catalog's ``check_answers`` names the applicant
steps after which the case would leave her (to the sponsor, to payment) and, for each, the steps she
may still change there. Submitting such a step keeps what she sent (validated) as the task's draft and
shows the summary; a "change" link opens an earlier step's form with its answers, and saving it keeps
the change with that draft (``CHECK_KEY``) and returns to the summary. Confirming validates every
form again (rules included, with the changes) and completes the step with the changed answers, in one
step of the case's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

import forms
from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, AuditEvent, Document, HumanTask, User
from .. import documents
from ..audit.refusals import audited_refusals
from ..deployments import definition_form, element_names, process_model
from ..errors import NotFound
from . import sponsor_limits
from .form_rules import rule_context
from .lifecycle import complete_in_step, find_case
from .names import localized
from .summary import CaseSection, document_ids, summary_sections
from .unit_of_work import CaseStep, case_step, check_lane, closed_task_conflict, read_runtime

# The key of a task's draft that holds the check of answers: {"checked": bool, "changed": {element: {...}}}.
CHECK_KEY = "_check_answers"


@dataclass
class AnswersPage:
    """A summary of answers and documents: the check before the case leaves the applicant, or a step read again."""

    application: Application
    task: HumanTask | None
    sections: list[CaseSection]
    documents: dict[str, Document]
    # The steps a "change" link is offered for (the check of answers only).
    changeable: tuple[str, ...] = ()
    # What is still wrong, by step (element id), found when the answers were confirmed.
    errors: dict[str, list[str]] = field(default_factory=dict)
    title: str = ""


@dataclass
class ChangePage:
    """An earlier step's form opened from the summary, with its answers (and what was typed, on errors)."""

    application: Application
    task: HumanTask
    element_id: str
    form: forms.FormSpec
    values: dict[str, Any]
    documents: dict[str, Document] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    sections: list[CaseSection] = field(default_factory=list)


class ChangeRejected(Exception):
    """A changed step has errors; ``page`` shows them next to the fields with what was typed."""

    def __init__(self, page: ChangePage):
        super().__init__("the change has errors")
        self.page = page


class AnswersNotConfirmed(Exception):
    """Confirming found answers that are not valid (any more); ``page`` names them by step."""

    def __init__(self, page: AnswersPage):
        super().__init__("the answers have errors")
        self.page = page


def check_points(application: Application) -> dict[str, tuple[str, ...]]:
    """The catalog's ``check_answers`` of the case's type (empty for a type without)."""
    try:
        return dict(catalog().by_code(application.kitas_type).check_answers)
    except KeyError:
        return {}


def checks_answers(application: Application, task: HumanTask) -> bool:
    """Whether the applicant checks her answers after this task, before the case leaves her."""
    return task.role == "applicant" and task.element_id in check_points(application)


def is_checked(task: HumanTask) -> bool:
    """Whether the applicant sent this step and is now at the summary (she has not confirmed yet)."""
    return bool(_check_of(task).get("checked"))


def mark_checked(task: HumanTask, data: dict[str, Any], step: CaseStep) -> None:
    """Keep what was sent as the draft, waiting at the summary (earlier changes kept)."""
    check = {**_check_of(task), "checked": True}
    task.draft = {**data, CHECK_KEY: check}
    task.draft_saved_at = step.now


def with_check(task: HumanTask, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as the task's new draft, keeping the check of answers it holds."""
    check = _check_of(task)
    return {**data, CHECK_KEY: check} if check else dict(data)


def is_waiting_for_check(application: Application, task_id: str) -> bool:
    """Whether the open task ``task_id`` was sent and waits at the summary for the applicant to confirm."""
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.task_id == task_id)
    ).first()
    return task is not None and checks_answers(application, task) and is_checked(task)


def _check_of(task: HumanTask) -> dict[str, Any]:
    found = (task.draft or {}).get(CHECK_KEY)
    return dict(found) if isinstance(found, dict) else {}


def _changed(task: HumanTask) -> dict[str, dict[str, Any]]:
    changed = _check_of(task).get("changed")
    return {k: dict(v) for k, v in changed.items() if isinstance(v, dict)} if isinstance(changed, dict) else {}


def changed_answers(task: HumanTask) -> dict[str, Any]:
    """The earlier answers changed at this task's check, by field (what the task's rules must see)."""
    return _flat(_changed(task))


def _flat(changed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {name: value for values in changed.values() for name, value in values.items()}


def _own_task(application: Application, task_id: str, user: User) -> HumanTask:
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.task_id == task_id)
    ).first()
    if task is None:
        raise closed_task_conflict(application.id, task_id)
    with audited_refusals(user, "application", application.id, task_id=task_id):
        check_lane(application, task, user)
    if not checks_answers(application, task):
        raise NotFound(Message("this step has no check of answers"))
    return task


def _answers(application: Application, task: HumanTask, base: dict[str, Any]) -> dict[str, Any]:
    """The case's answers as they would go on: the case data, the step's draft, the changes made at the check."""
    form = _form_of_element(application, task.element_id)
    sent = forms.known_data(form, task.draft) if form is not None and task.draft else {}
    return {**base, **_flat(_changed(task)), **sent}


def _form_of_element(application: Application, element_id: str, language: str | None = None) -> forms.FormSpec | None:
    info = process_model(application.definition).user_tasks.get(element_id)
    if info is None or not info.form_schema:
        return None
    return definition_form(application.definition, info.form_schema, info.form_ui_schema, language)


def _applicant_sections(
    application: Application, data: dict[str, Any], language: str | None
) -> tuple[list[CaseSection], dict[str, Document]]:
    sections = summary_sections(application, data, lanes=catalog().lanes_of("applicant"), language=language)
    ids = {i for section in sections for i in section.document_ids}
    return sections, documents.documents_by_public_ids(ids, application_id=application.id)


def open_check(reference: str, task_id: str, user: User, language: str | None = None) -> AnswersPage:
    """The summary of every answer and document the case would go on with, and the "change" links."""
    application = find_case(reference, user)
    task = _own_task(application, task_id, user)
    data = _answers(application, task, read_runtime(application).task_data(task_id))
    sections, found = _applicant_sections(application, data, language)
    named = localized(task, element_names(application.definition, language))
    return AnswersPage(application, named, sections, found, check_points(application)[task.element_id])


def open_change(reference: str, task_id: str, element_id: str, user: User, language: str | None = None) -> ChangePage:
    """An earlier step's form, opened from the summary with the answers it would go on with."""
    application = find_case(reference, user)
    task = _own_task(application, task_id, user)
    form = _changeable_form(application, task, element_id, language)
    values = forms.known_data(form, _answers(application, task, read_runtime(application).task_data(task_id)))
    found = documents.documents_by_public_ids(document_ids(form, values), application_id=application.id)
    named = localized(task, element_names(application.definition, language))
    return ChangePage(application, named, element_id, form, values, found)


def _changeable_form(
    application: Application, task: HumanTask, element_id: str, language: str | None
) -> forms.FormSpec:
    allowed = check_points(application).get(task.element_id, ())
    form = _form_of_element(application, element_id, language) if element_id in allowed else None
    if form is None or element_id == task.element_id:
        raise NotFound(Message("this step cannot be changed here"))
    return form


def save_change(
    reference: str, task_id: str, element_id: str, user: User, raw: forms.coercion.Raw, language: str | None = None
) -> None:
    """Check an earlier step's changed answers (its rules too) and keep them with the summary's step;
    on errors raise ChangeRejected with what was typed."""
    application = find_case(reference, user)
    task_row = _own_task(application, task_id, user)
    form = _changeable_form(application, task_row, element_id, language)
    with case_step(application.id, user=user, task_id=task_id) as step:
        step.check_access(user)
        task = step.open_task(task_id)
        step.check_lane(task, user)
        answers = _answers(step.application, task, step.runtime.task_data(task_id))
        values = forms.known_data(form, answers)
        data, errors = forms.coerce(form, raw, current=values)
        for name in (f.name for f in form.fields if f.widget == "file"):  # documents change in their own step
            data.pop(name, None)
            if name in values:
                data[name] = values[name]
        context = rule_context(step.application, step.now, {**answers, **data})
        for key, messages in forms.validate(form, data, context).items():
            errors.setdefault(key, messages)
        if not errors:
            check = _check_of(task)
            check["changed"] = {**_changed(task), element_id: data}
            task.draft = {**(task.draft or {}), CHECK_KEY: check}
            task.draft_saved_at = step.now
            step.audit(
                "answers_changed", {"task": task.element_id, "step": element_id, "fields": sorted(data)}, user=user
            )
    if errors:
        page = open_change(reference, task_id, element_id, user, language)
        page.values, page.errors = data, errors
        raise ChangeRejected(page)


def confirm(
    reference: str, task_id: str, user: User, expected_version: int | None = None, language: str | None = None
) -> None:
    """The applicant confirms her answers: every form is checked again and the step completes, with the
    changes; AnswersNotConfirmed names what is wrong by step (nothing is completed then)."""
    application = find_case(reference, user)
    _own_task(application, task_id, user)
    problems: dict[str, list[str]] = {}
    with case_step(application.id, user=user, task_id=task_id) as step:
        step.check_access(user)
        task = step.open_task(task_id)
        step.check_lane(task, user)
        step.check_claim(task, user)
        step.check_version(expected_version)
        base = step.runtime.task_data(task_id)
        answers = _answers(step.application, task, base)
        context = rule_context(step.application, step.now, answers)
        steps = {**_changed(task), task.element_id: None}
        for element_id in steps:
            form = _form_of_element(step.application, element_id)
            if form is None:
                continue
            messages = [m for ms in forms.validate(form, forms.known_data(form, answers), context).values() for m in ms]
            if messages:
                problems[element_id] = messages
        if not problems:
            form = _form_of_element(step.application, task.element_id)
            sent = forms.known_data(form, answers) if form is not None else {}
            refused = sponsor_limits.step_problems(step.application, task, answers, sent)
            problems = {task.element_id: [m for ms in refused.values() for m in ms]} if refused else {}
        if not problems:
            complete_in_step(step, task, user, sent, changed=_flat(_changed(task)))
    if problems:
        page = open_check(reference, task_id, user, language)
        page.errors = problems
        raise AnswersNotConfirmed(page)


def answered_step(reference: str, task_id: str, user: User, language: str | None = None) -> AnswersPage:
    """A step the user already submitted, read again: its answers as the case holds them now, read-only.

    Only for the one who worked it (the applicant her own steps); anyone else gets the Conflict that
    says who completed it."""
    application = find_case(reference, user)
    element_id = _completed_element(application, task_id)
    info = process_model(application.definition).user_tasks.get(element_id or "")
    role = catalog().role_for_lane(info.lane) if info is not None else None
    own = role == "applicant" and application.applicant_id == user.id
    if info is None or not own:
        raise closed_task_conflict(application.id, task_id)
    data = read_runtime(application).data
    sections = [
        s
        for s in summary_sections(application, data, lanes={info.lane}, language=language)
        if s.element_id == element_id
    ]
    ids = {i for section in sections for i in section.document_ids}
    found = documents.documents_by_public_ids(ids, application_id=application.id)
    title = element_names(application.definition, language).get(element_id or "", info.name)
    return AnswersPage(application, None, sections, found, title=title)


def _completed_element(application: Application, task_id: str) -> str | None:
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application.id, AuditEvent.action == "task_completed")
        .order_by(AuditEvent.id.desc())
    )
    for row in rows:
        if row.detail.get("task_id") == task_id:
            return str(row.detail.get("task"))
    return None


def own_answers(application: Application, user: User, language: str | None = None) -> AnswersPage | None:
    """The applicant's own answers and documents as the case holds them, for her status page (None for others)."""
    if application.applicant_id != user.id:
        return None
    sections, found = _applicant_sections(application, read_runtime(application).data, language)
    return AnswersPage(application, None, sections, found)
