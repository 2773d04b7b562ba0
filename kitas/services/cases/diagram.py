"""A case on its diagram: the version it is pinned to (and the shared steps that version bundles), the path
it took, where it is now and the timers it waits on, for officers and analysts.

Read only: the runtime is restored from the stored state (``read_runtime``), traced (``engine.case_trace``)
and dropped; nothing is locked or written. Names are the diagram's in the reader's language (its ``.id.json``
texts), the diagrams' labels too, so the drawing reads like the list. Officers of the case's office (and
administrators) get each completed form step's data, as the step's own form titles it, documents by their
file names; analysts get the path and who acted by role only: personal data stays with the officers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from threading import Lock
from typing import Any

from lxml import etree
from sqlalchemy import select

import forms
from engine import CaseTrace, TraceStep, case_trace
from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, AuditEvent, Document, ProcessDefinition, User
from ..audit.refusals import record_refusal
from ..deployments import called_diagrams, definition_form, element_names, process_model
from ..errors import NotFound
from . import history_words
from .access import another_office, officer_sees
from .summary import shown_answer
from .unit_of_work import read_runtime

# The steps the list shows: forms, waits for a message (a payment), deadlines that fired, the case's end.
LISTED_KINDS = frozenset({"user", "wait", "timer", "end"})
# Who does a step of a lane, in words that name no person (analysts' pages).
LANE_WORDS = {
    "applicant": Message("the applicant"),
    "sponsor": Message("the sponsor"),
    "verifier": Message("a verifier"),
    "supervisor": Message("a supervisor"),
}
NOT_FOUND = Message("there is no such application, or it is not yours")


@dataclass(frozen=True)
class DiagramFile:
    """One diagram of the case's version: the case's own, or a shared step it calls."""

    process_id: str
    label: str  # the type's name for the case's own diagram, the call activity's name for a shared step
    xml: str  # element names in the reader's language
    called_by: tuple[str, ...] = ()  # the call activities that call it


@dataclass(frozen=True)
class DataRow:
    """One answer of a step's form: its label and value as a reviewer reads them; a document by its name."""

    label: str
    value: Any
    document: str | None = None
    is_document: bool = False


@dataclass(frozen=True)
class StepView:
    """A step of the case's path (or where it is now): its name, in which shared step, when, who, its data."""

    element_id: str
    name: str
    kind: str
    process_id: str
    called_by: str | None
    within: str | None  # the name of the shared step (call activity) it runs in
    when: datetime | None
    who: str | None = None
    interrupted: bool = False
    rows: tuple[DataRow, ...] | None = None  # officers only: what the step's form holds


@dataclass(frozen=True)
class TimerView:
    """A timer the case waits on, by name, with the step it sits on and its due time."""

    element_id: str
    name: str
    due: datetime
    attached_to: str | None
    attached_name: str | None


@dataclass(frozen=True)
class CaseDiagram:
    """Everything the case's diagram page shows, and the marks its viewer draws."""

    application: Application
    definition: ProcessDefinition
    diagrams: tuple[DiagramFile, ...]
    steps: tuple[StepView, ...]
    current: tuple[StepView, ...]
    timers: tuple[TimerView, ...]
    trace: CaseTrace = field(repr=False)
    with_data: bool = False

    @property
    def completed(self) -> bool:
        """The case reached an end of its process."""
        return self.trace.completed

    def marks(self) -> dict[str, Any]:
        """What the viewer highlights, by element id (the same ids in every diagram of the bundle)."""
        trace = self.trace
        return {
            "taken": sorted(trace.taken),
            "flows": [list(pair) for pair in trace.flows],
            "current": sorted(trace.current_ids),
            "timers": sorted(trace.timer_ids),
            "failed": sorted(trace.failed),
        }


def officer_diagram(reference: str, user: User, language: str | None = None, *, listed: bool = True) -> CaseDiagram:
    """The case's diagram for an officer of its office or an administrator, with each step's data;
    NotFound (audited) for anyone else, a sandbox case included. ``listed=False``: the diagrams and their
    marks only (what the viewer's JSON needs), no steps."""
    application = _lookup(reference)
    admin = user.has_role("admin")
    if application is None or not (admin or (officer_sees(application, user) and not application.trial)):
        _refuse(application, reference, user)
    assert application is not None
    return _diagram(application, language, with_data=True, listed=listed)


def analyst_diagram(reference: str, language: str | None = None, *, listed: bool = True) -> CaseDiagram:
    """The case's diagram for the studio (any case, sandbox ones included): the path, no data, no names
    of people; NotFound when no case has that reference. ``listed=False``: diagrams and marks only."""
    application = _lookup(reference.strip())
    if application is None:
        raise NotFound(Message("No case has the register number %(reference)s.", reference=reference.strip()))
    return _diagram(application, language, with_data=False, listed=listed)


# -- building the page --------------------------------------------------------------------------------


def _lookup(reference: str) -> Application | None:
    return db.session.scalars(select(Application).where(Application.reference == reference)).first()


def _refuse(application: Application | None, reference: str, user: User) -> None:
    if application is not None and another_office(application, user):
        reason, detail = f"case {reference} belongs to another office", {"office_id": application.office_id}
    else:
        reason, detail = f"case {reference}", {}
    record_refusal(user, "application", application.id if application else None, reason, **detail)
    raise NotFound(NOT_FOUND)


def _diagram(application: Application, language: str | None, *, with_data: bool, listed: bool) -> CaseDiagram:
    definition = application.definition
    trace = case_trace(read_runtime(application))
    names = element_names(definition, language)
    model = process_model(definition)
    # When each step was done (the audit's clock), and by whom (named to officers only).
    people = _actors(application) if listed else {}
    documents = _document_names(application) if with_data and listed else {}

    def view(step: TraceStep) -> StepView:
        within = names.get(step.called_by) if step.called_by else None
        rows = (
            _rows(definition, model.user_tasks.get(step.element_id), step, documents, language) if with_data else None
        )
        return StepView(
            element_id=step.element_id,
            name=names.get(step.element_id, step.name),
            kind=step.kind,
            process_id=step.process_id,
            called_by=step.called_by,
            within=within,
            when=people.get(step.task_id, (step.when, None))[0] or step.when,
            who=_who(step, application, people, model, with_data),
            interrupted=step.interrupted,
            rows=rows,
        )

    shown = [s for s in trace.steps if s.kind in LISTED_KINDS and (s.kind != "end" or s.called_by is None)]
    current = [s for s in trace.current if s.kind != "call"]
    timers = tuple(
        TimerView(
            t.element_id, names.get(t.element_id, t.element_id), t.due, t.attached_to, names.get(t.attached_to or "")
        )
        for t in sorted(trace.timers, key=lambda t: t.due)
    )
    return CaseDiagram(
        application=application,
        definition=definition,
        diagrams=_diagram_files(application, definition, names, language),
        steps=tuple(view(s) for s in shown) if listed else (),
        current=tuple(view(s) for s in current) if listed else (),
        timers=timers,
        trace=trace,
        with_data=with_data,
    )


def _who(
    step: TraceStep, application: Application, people: Mapping[str, tuple[Any, Any]], model: Any, named: bool
) -> str | None:
    """Who did a step: to officers the person (or machine) the audit row names; else the lane's part."""
    if named:
        _, actor = people.get(step.task_id, (None, None))
        if isinstance(actor, User):
            return history_words.person(actor, application)
        if isinstance(actor, str):
            return history_words.machine(actor, catalog()) or None
    info = model.user_tasks.get(step.element_id)
    role = catalog().role_for_lane(info.lane) if info is not None and info.lane else None
    return LANE_WORDS.get(role or "")


def _actors(application: Application) -> dict[str, tuple[datetime, User | str]]:
    """Engine task id -> (when, who) of the case's completed tasks and fired timers, from the audit rows."""
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application.id, AuditEvent.action.in_(("task_completed", "timer_fired")))
        .order_by(AuditEvent.seq)
    ).all()
    ids = {row.actor_id for row in rows if row.actor_id is not None}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    found: dict[str, tuple[datetime, User | str]] = {}
    for row in rows:
        task_id = str((row.detail or {}).get("task_id") or "")
        if task_id:
            person = users.get(row.actor_id) if row.actor_id is not None else None
            found[task_id] = (row.occurred_at, person or row.actor or "")
    return found


def _document_names(application: Application) -> dict[str, str]:
    rows = db.session.execute(
        select(Document.public_id, Document.original_name).where(Document.application_id == application.id)
    ).all()
    return {public_id: name for public_id, name in rows}


def _rows(
    definition: ProcessDefinition,
    info: Any,
    step: TraceStep,
    documents: Mapping[str, str],
    language: str | None,
) -> tuple[DataRow, ...] | None:
    """The values a completed form step holds, field by field as its form titles them (read-only fields,
    earlier answers shown to the step, left out)."""
    if step.data is None or info is None or not info.form_schema:
        return None
    form = definition_form(definition, info.form_schema, info.form_ui_schema, language)
    rows = []
    for item in form.fields:
        value = step.data.get(item.name)
        if item.read_only or item.widget == "hidden" or value in (None, "", []):
            continue
        rows.append(_row(item, value, documents))
    return tuple(rows)


def _row(item: forms.FormField, value: Any, documents: Mapping[str, str]) -> DataRow:
    label = item.review_title or item.title
    if item.widget == "file":
        return DataRow(label, value, documents.get(str(value), Message("missing")), is_document=True)
    return DataRow(label, shown_answer(item, value))


# -- the diagrams, their names in the reader's language --------------------------------------------------

_LOCALIZED: dict[tuple[str, str, str], str] = {}
_LOCALIZED_LOCK = Lock()


def _diagram_files(
    application: Application, definition: ProcessDefinition, names: Mapping[str, str], language: str | None
) -> tuple[DiagramFile, ...]:
    """The case's own diagram, then each shared step its version bundles (in the order the diagram calls them)."""
    model = process_model(definition)
    try:
        kind = catalog(language).by_code(application.kitas_type)
        label = kind.name_id if language == "id" else kind.name_en
    except KeyError:
        label = model.name or definition.process_id
    files = [
        DiagramFile(
            definition.process_id,
            label,
            _localized(definition, definition.process_id, definition.bpmn_xml, names, language),
        )
    ]
    called = called_diagrams(definition.files)
    callers: dict[str, list[str]] = {}
    for activity, process in model.calls.items():
        callers.setdefault(process, []).append(activity)
    for process in sorted(called, key=lambda p: _first_call(model, p)):
        activities = tuple(callers.get(process, ()))
        shown = names.get(activities[0], process) if activities else process
        xml = _localized(definition, process, called[process], names, language)
        files.append(DiagramFile(process, shown, xml, activities))
    return tuple(files)


def _first_call(model: Any, process: str) -> int:
    order = list(model.calls)
    positions = [order.index(a) for a, p in model.calls.items() if p == process]
    return min(positions) if positions else len(order)


def _localized(
    definition: ProcessDefinition, process: str, xml: str, names: Mapping[str, str], language: str | None
) -> str:
    """The diagram with every element's ``name`` in the reader's language (as is in English), cached per
    version, process and language (deployed content never changes)."""
    if not language or language == "en":
        return xml
    key = (definition.content_hash, process, language)
    with _LOCALIZED_LOCK:
        cached = _LOCALIZED.get(key)
    if cached is not None:
        return cached
    try:
        root = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return xml
    for node in root.iter():
        element = node.get("id") if isinstance(node.tag, str) else None
        if element and element in names and node.get("name") is not None:
            node.set("name", names[element])
    text = etree.tostring(root, encoding="unicode")
    with _LOCALIZED_LOCK:
        _LOCALIZED[key] = text
    return text


__all__ = [
    "CaseDiagram",
    "DataRow",
    "DiagramFile",
    "StepView",
    "TimerView",
    "analyst_diagram",
    "officer_diagram",
]
