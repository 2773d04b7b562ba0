"""A case's history in plain words, read from its audit rows, and where it stands now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, AuditEvent, User
from ..deployments import element_names
from ..incidents import OpenIncident, open_for_case
from ..offices.directory import OfficeView, office_of
from . import history_words
from .access import OFFICER_ROLES
from .history_words import HIDDEN_EVENTS, OFFICER_ONLY, Words
from .invitations import SponsorInvitation, invitation_of
from .listings import case_deadline, open_tasks
from .summary import field_titles


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a case (or, when ``current``, what it waits for now)."""

    when: datetime | None
    text: str
    by: str | None = None
    current: bool = False
    due_at: datetime | None = None


@dataclass(frozen=True)
class CaseStatus:
    """Where a case stands: status words, the reason of a negative outcome, journey steps and history."""

    application: Application
    label: str
    explanation: str
    tone: str  # how the status is coloured: success, danger or primary
    reason: str | None  # why a negative outcome (a rejection...), in the deciding person's words
    detail: str | None  # where and when, for a status that sends the applicant somewhere
    journey: list[tuple[str, str]]  # (label, "done" | "current" | "todo")
    entries: list[TimelineEntry]
    # Open incidents: the applicant is only told that we are looking into a problem; officers see which.
    incidents: list[OpenIncident]
    # The invitation to a sponsor without an account the case waits on (shown to the applicant only).
    invitation: SponsorInvitation | None = None
    # The immigration office the case belongs to (officers' pages name it: name, city, WIB/WITA/WIT).
    office: OfficeView | None = None


def case_status(application: Application, viewer: User, language: str | None = None) -> CaseStatus:
    """The status page's content for one viewer (officers also see claims and names); status words
    and step names in ``language`` (English without one)."""
    cat = catalog(language)
    names = element_names(application.definition, language)
    text = cat.status_text(application.status)
    officer = is_officer(viewer)
    return CaseStatus(
        application=application,
        label=text.label,
        explanation=(text.officer_explanation if officer else text.explanation),
        tone=text.tone,
        reason=application.status_detail if application.status in cat.status_reasons else None,
        detail=application.status_detail if application.status in cat.status_details else None,
        journey=_journey(application, language),
        entries=_history(application, viewer, officer, names, language) + _now(application, names, officer, language),
        incidents=_incidents(application, names),
        invitation=invitation_of(application) if viewer.id == application.applicant_id else None,
        office=office_of(application.office_id),
    )


def is_officer(viewer: User) -> bool:
    """Whether the viewer reads a case as the office does (officers and administrators)."""
    return any(viewer.has_role(role) for role in (*OFFICER_ROLES, "admin"))


def _incidents(application: Application, names: dict[str, str]) -> list[OpenIncident]:
    return [
        replace(incident, element_name=names.get(incident.element_id, Message("a step of the process")))
        if incident.element_id
        else incident
        for incident in open_for_case(application.id)
    ]


def _history(
    application: Application, viewer: User, officer: bool, names: dict[str, str], language: str | None
) -> list[TimelineEntry]:
    rows = db.session.scalars(
        select(AuditEvent).where(AuditEvent.application_id == application.id).order_by(AuditEvent.seq)
    ).all()
    shown = [r for r in rows if r.action not in HIDDEN_EVENTS and (officer or r.action not in OFFICER_ONLY)]
    cat = catalog(language)
    documents = _document_names(application, language)
    people = _people({row.actor_id for row in shown if row.actor_id is not None})
    entries = []
    for row in shown:
        words = Words(application, row.detail or {}, row.actor or "", names, documents, cat)
        text = history_words.describe(row, words)
        if text:
            who = _who(row, application, viewer, officer, people.get(row.actor_id or 0), cat)
            entries.append(TimelineEntry(row.occurred_at, text, who))
    return entries


def _document_names(application: Application, language: str | None) -> dict[str, str]:
    """Document keys by name: the form fields' titles, the catalog's names of the type's documents over them."""
    names = dict(field_titles(application, language))
    try:
        documents = catalog(language).by_code(application.kitas_type).documents
    except KeyError:
        documents = ()
    names.update({doc.key: doc.name for doc in documents})
    return names


def _people(ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _who(
    row: AuditEvent, application: Application, viewer: User, officer: bool, actor: User | None, cat: Any
) -> str | None:
    """Who did it: to officers, a person by name and role, a machine in plain words; to the applicant and the
    sponsor, themselves as "you", others by their part."""
    if officer:
        if actor is not None:
            return history_words.person(actor, application)
        return history_words.machine(row.actor or "", cat) or (row.actor or None)
    if row.actor_id is not None and row.actor_id == viewer.id:
        return Message("you")
    if row.actor_id == application.applicant_id:
        return Message("the applicant")
    if (row.actor or "").startswith("payment:"):
        return history_words.machine(row.actor, cat)
    if row.actor_id is None:
        return None
    return Message("your sponsor") if _is_sponsor(row, application) else Message("an immigration officer")


def _is_sponsor(row: AuditEvent, application: Application) -> bool:
    return bool(application.sponsor_email) and f"<{application.sponsor_email}>" in row.actor


# Whose turn an open task is, as the officers' history says it.
_TURN = {
    "applicant": Message("Now with the applicant: %(step)s"),
    "sponsor": Message("Now with the sponsor: %(step)s"),
    "verifier": Message("Now with a verifier: %(step)s"),
    "supervisor": Message("Now with a supervisor: %(step)s"),
}


def _now(application: Application, names: dict[str, str], officer: bool, language: str | None) -> list[TimelineEntry]:
    cat = catalog(language)
    if application.closed_at is not None:
        return [TimelineEntry(application.closed_at, cat.status_text(application.status).label, current=True)]
    tasks = open_tasks(application.id)
    if tasks:
        entries = []
        for t in tasks:
            step = names.get(t.element_id) or Message("a step of the process")
            turn = _TURN.get(t.role or "") if officer else None
            now = Message(turn.msgid, step=step) if turn is not None else Message("Now: %(step)s", step=step)
            entries.append(TimelineEntry(None, now, current=True, due_at=t.due_at))
        return entries
    text = cat.status_text(application.status)
    deadline = case_deadline(application.id)
    due = deadline.due_at if deadline is not None else None
    step = text.label if officer else (text.applicant_action or text.label)
    return [TimelineEntry(None, Message("Now: %(step)s", step=step), current=True, due_at=due)]


def _journey(application: Application, language: str | None = None) -> list[tuple[str, str]]:
    cat = catalog(language)
    try:
        steps = cat.by_code(application.kitas_type).journey
    except KeyError:
        steps = ()
    if application.status in steps:
        position = steps.index(application.status)
    else:
        position = _nearest_step(application.status, steps, -1)
    marks = []
    for index, step in enumerate(steps):
        state = "done" if index < position else ("current" if index == position else "todo")
        marks.append((cat.status_text(step).label, state))
    return marks


def _nearest_step(status: str, steps: tuple[str, ...], default: int) -> int:
    """Off-journey statuses sit on the step the catalog says they belong to (corrections during verification...)."""
    target = catalog().status_text(status).journey_step
    return steps.index(target) if target in steps else default
