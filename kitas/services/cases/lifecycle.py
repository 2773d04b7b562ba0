"""Start cases, complete their tasks and deliver messages to them: each one step of the unit of work."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select

import forms
from engine import CaseRuntime
from forms.texts import Message
from workflows import KitasType, catalog

from ...extensions import app_clock, db
from ...models import Application, HumanTask, ProcessDefinition, User
from ..accounts.fields import normalize_email
from ..appointments import places
from ..audit.refusals import record_refusal
from ..deployments import definition_form, latest_definition, process_model
from ..errors import CaseCannotGoOn, InvalidInput, NotFound, ServiceError
from ..offices.directory import office_for_province
from . import corrections, four_eyes, sponsor_limits
from .access import another_office, can_see_case
from .engine_errors import guard_engine
from .form_rules import rule_context
from .unit_of_work import CaseStep, case_step, new_case_step

_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def new_reference(index_code: str, year: int) -> str:
    """A register number that cannot be guessed from another one: ``E23-2026-7KQ2M9XA``."""
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    return f"{index_code}-{year}-{suffix}"


INDEX_FIELD = "index_code"  # the case data's index code, which the register number starts with


def start_case(
    kitas_type: str,
    applicant: User,
    *,
    index_code: str | None = None,
    domicile_province: str | None = None,
    sponsor_email: str | None = None,
    data: dict[str, Any] | None = None,
) -> Application:
    """Start a case of a KITAS type on the newest deployed version of its diagram, for ``index_code``
    (one of the type's index codes; none: the catalog's default). The register number starts with it
    and the start data holds it, so the diagram's relation or study step shows it filled in. The case
    belongs to the office the domicile rule gives ``domicile_province`` (None: the default office);
    InvalidInput names every problem of the choices (index code, province) at once."""
    try:
        entry = catalog().by_code(kitas_type)
    except KeyError as exc:
        raise NotFound(Message("there is no KITAS type %(code)r", code=kitas_type)) from exc
    if entry.process_id is None:
        raise NotFound(
            Message("%(name)s (%(code)s) cannot be applied for online yet", name=entry.name_en, code=entry.index_code)
        )
    errors: dict[str, list[str]] = {}
    chosen = entry.index_code
    try:
        chosen = checked_index(entry, index_code)
    except InvalidInput as exc:
        errors.update(exc.errors)
    try:
        office_for_province(domicile_province)
    except InvalidInput as exc:
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    initial = {"kitas_type": entry.code, **_profile(applicant), **(data or {}), INDEX_FIELD: chosen}
    return start_process(
        entry.process_id,
        applicant,
        kitas_type=entry.code,
        index_code=chosen,
        domicile_province=domicile_province,
        sponsor_email=sponsor_email,
        data=initial,
    )


def index_codes_of(entry: KitasType) -> list[str]:
    """The index codes a case of the type may be for (the catalog's list, else its one code)."""
    return [code.code for code in entry.index_codes] or [entry.index_code]


def checked_index(entry: KitasType, index_code: str | None) -> str:
    """``index_code`` if it is one of the type's (None: the type's default); InvalidInput on ``index_code``
    otherwise: naming the codes there are, or (an empty choice) asking for one."""
    if index_code is None:
        return entry.index_code
    codes = index_codes_of(entry)
    if not index_code.strip():
        raise InvalidInput(
            {INDEX_FIELD: [Message("Choose the index code the application is for: %(codes)s.", codes=", ".join(codes))]}
        )
    if index_code not in codes:
        raise InvalidInput(
            {
                INDEX_FIELD: [
                    Message(
                        "%(code)s is not an index code of this KITAS type; choose one of %(codes)s.",
                        code=index_code[:20],
                        codes=", ".join(codes),
                    )
                ]
            }
        )
    return index_code


def _profile(user: User) -> dict[str, Any]:
    """What the account already says about the applicant, so the first form starts filled in."""
    known = {"full_name": user.full_name, "email": user.email, "phone": user.phone, "nationality": user.nationality}
    return {key: value for key, value in known.items() if value}


def start_process(
    process_id: str,
    applicant: User,
    *,
    kitas_type: str,
    index_code: str,
    domicile_province: str | None = None,
    sponsor_email: str | None = None,
    data: dict[str, Any] | None = None,
) -> Application:
    """Start a case of any deployed process (the catalog-free core of start_case)."""
    with new_case_step() as step:
        start_in_step(
            step,
            process_id,
            applicant,
            kitas_type=kitas_type,
            index_code=index_code,
            domicile_province=domicile_province,
            sponsor_email=sponsor_email,
            data=data,
        )
    return step.application


def start_in_step(
    step: CaseStep,
    process_id: str,
    applicant: User,
    *,
    kitas_type: str,
    index_code: str,
    domicile_province: str | None = None,
    sponsor_email: str | None = None,
    data: dict[str, Any] | None = None,
    group_id: int | None = None,
    trial: ProcessDefinition | None = None,
) -> Application:
    """Inside a new case's step: run the newest version of the process to its first wait, insert the case
    in the office the domicile rule gives ``domicile_province`` (None: the default office).

    ``trial``: a sandbox case of the studio on that version instead, in NO office (so no officer's list,
    count or page ever holds it; see ``access.can_see_case`` for admins)."""
    office = office_for_province(domicile_province) if trial is None else None
    definition = latest_definition(process_id) if trial is None else trial
    if definition is None:
        raise ServiceError(Message("the process %(process)s is not deployed; run 'kitas init'", process=process_id))
    clock_now = step.now
    runtime = guard_engine(
        lambda: CaseRuntime.start(process_model(definition), dict(data or {}), app_clock(), run=False), "new case"
    )
    step.run_first(runtime)  # a script of the first steps that fails waits for an incident's retry
    application = Application(
        reference=new_reference(index_code, clock_now.year),
        kitas_type=kitas_type,
        index_code=index_code,
        applicant_id=applicant.id,
        sponsor_email=normalize_email(sponsor_email or "") or None,
        definition_id=definition.id,
        definition=definition,
        status=catalog().initial_status,
        group_id=group_id,
        domicile_province=domicile_province,
        office_id=office.id if office is not None else None,
        trial=trial is not None,
        created_at=clock_now,
        updated_at=clock_now,
    )
    step.create(application, runtime)
    detail: dict[str, Any] = {"process": definition.process_id, "version": definition.version}
    step.audit("case_started", {**detail, "trial": True} if trial is not None else detail, user=applicant)
    return application


def complete_task(
    application_id: int,
    task_id: str,
    user: User,
    data: dict[str, Any],
    *,
    expected_version: int | None = None,
) -> Application:
    """Validate a form submission and complete a READY task of a case the user may work on."""
    with case_step(application_id, user=user, task_id=task_id) as step:
        step.check_access(user)
        task = step.open_task(task_id)
        step.check_lane(task, user)
        step.check_claim(task, user)
        step.check_version(expected_version)
        complete_in_step(step, task, user, data)
    return step.application


def complete_in_step(
    step: CaseStep, task: HumanTask, user: User, data: dict[str, Any], changed: dict[str, Any] | None = None
) -> None:
    """Inside a case's step: validate the task's form data, complete the task in the engine, audit it.

    ``changed`` are earlier answers the person changed while checking them (already validated with their
    own forms): the task's rules see them, and they go into the case with the task's data."""
    answers = {**step.runtime.task_data(task.task_id), **(changed or {})}
    clean = {
        **(changed or {}),
        **validated(step.application, task, data, rule_context(step.application, step.now, answers)),
    }
    refused = sponsor_limits.step_problems(step.application, task, answers, clean)
    if refused:
        raise InvalidInput(refused)
    # A booking step takes its place in the chosen slot; the step held at an appointment records it.
    clean = places.in_step(step, task, user, clean)
    # The task itself first: if it fails, the step is rolled back and the form is shown again.
    acting = four_eyes.trial_performer(user, task.role) if step.application.trial else four_eyes.performer(user)
    try:
        completion = step.run(
            lambda runtime: runtime.complete_user_task(task.task_id, clean, run_on=False, performer=acting)
        )
    except CaseCannotGoOn as failure:
        failure.element_id = failure.element_id or task.element_id
        raise
    fields = list(completion.changed) if completion is not None else sorted(clean)
    step.audit("task_completed", {"task": task.element_id, "task_id": task.task_id, "changed": fields}, user=user)
    reason = four_eyes.send_back_in(clean)
    if reason is not None:
        step.audit(four_eyes.SENT_BACK, {"task": task.element_id, "task_id": task.task_id, "reason": reason}, user=user)
    # Then the engine tasks after it: one that fails is kept waiting as an incident, the submission stays.
    step.run(lambda runtime: runtime.run_engine())


def deliver_message(application_id: int, name: str, payload: dict[str, Any], actor: str) -> Application:
    """Deliver a BPMN message (e.g. ``payment_received``) to a waiting case, in a step of its own."""
    with case_step(application_id) as step:
        step.run(lambda runtime: runtime.deliver_message(name, payload))
        step.audit("message_delivered", {"message": name, "fields": sorted(payload)}, actor=actor)
    return step.application


def find_case(reference: str, user: User) -> Application:
    """The case with this reference, if the user may see it; otherwise NotFound, and the refusal is audited."""
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None or not can_see_case(application, user):
        reason, detail = _refusal(application, reference, user)
        record_refusal(user, "application", application.id if application else None, reason, **detail)
        raise NotFound(Message("there is no such application, or it is not yours"))
    return application


def _refusal(application: Application | None, reference: str, user: User) -> tuple[str, dict[str, Any]]:
    """Why the case is refused, as its audit row says: another office's case names its office."""
    if application is not None and another_office(application, user):
        return f"case {reference} belongs to another office", {"office_id": application.office_id}
    return f"case {reference}", {}


def validated(
    application: Application, task: HumanTask, data: dict[str, Any], context: forms.RuleContext | None = None
) -> dict[str, Any]:
    """The writable fields of ``data`` for the task's form, validated with its rules in ``context``
    (InvalidInput lists every error)."""
    if not task.form_schema:
        return {}  # a confirmation task (a manual or plain task, a user task without a form): done, no data
    form = definition_form(application.definition, task.form_schema, task.form_ui_schema)
    # A correction step writes the fields it opened (named in the case data its rules see).
    form = corrections.opened_form(application, form, context.answers if context is not None else {}) or form
    properties = form.schema.get("properties", {})
    writable = {k: v for k, v in data.items() if k in properties and not properties[k].get("readOnly")}
    errors = forms.validate(form, writable, context)
    if errors:
        raise InvalidInput(errors)
    return writable
