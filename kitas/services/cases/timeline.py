"""A case's history in plain words, read from its audit rows, and where it stands now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, AuditEvent, User
from ..deployments import element_names
from ..incidents import OpenIncident, open_for_case
from .access import OFFICER_ROLES
from .invitations import CORRECTED, INVITED, REGISTERED, SponsorInvitation, invitation_of
from .listings import case_deadline, open_tasks

# Audit actions an applicant does not need to see on their timeline.
_OFFICER_ONLY = {
    "task_claimed",
    "task_released",
    "task_assigned",
    "task_taken_back",
    "document_uploaded",
    "document_viewed",
    "access_refused",
    "incident_opened",
    "incident_retried",
    "incident_resolved",
}
_HIDDEN = {"access_refused", "document_viewed"}


_INCIDENT_WORDS = {"incident_opened", "incident_retried", "incident_resolved"}


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


def case_status(application: Application, viewer: User, language: str | None = None) -> CaseStatus:
    """The status page's content for one viewer (officers also see claims and names); status words
    and step names in ``language`` (English without one)."""
    cat = catalog(language)
    names = element_names(application.definition, language)
    text = cat.status_text(application.status)
    officer = any(viewer.has_role(role) for role in (*OFFICER_ROLES, "admin"))
    return CaseStatus(
        application=application,
        label=text.label,
        explanation=text.explanation,
        tone=text.tone,
        reason=application.status_detail if application.status in cat.status_reasons else None,
        detail=application.status_detail if application.status in cat.status_details else None,
        journey=_journey(application, language),
        entries=_history(application, viewer, officer, names, language) + _now(application, names, language),
        incidents=_incidents(application, names),
        invitation=invitation_of(application) if viewer.id == application.applicant_id else None,
    )


def _incidents(application: Application, names: dict[str, str]) -> list[OpenIncident]:
    return [
        replace(incident, element_name=names.get(incident.element_id, incident.element_id))
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
    entries = []
    for row in rows:
        if row.action in _HIDDEN or (row.action in _OFFICER_ONLY and not officer):
            continue
        text = _describe(row, names, language)
        if text:
            entries.append(TimelineEntry(row.occurred_at, text, _who(row, application, viewer, officer)))
    return entries


def _describe(row: AuditEvent, names: dict[str, str], language: str | None = None) -> str | None:
    detail = row.detail or {}
    if row.action == "case_started":
        return Message("Application started")
    if row.action == "task_completed":
        return Message("%(task)s: done", task=names.get(detail.get("task", ""), detail.get("task", Message("A step"))))
    if row.action == "message_delivered":
        return catalog(language).messages.get(str(detail.get("message", "")), Message("Message received"))
    if row.action == "timer_fired":
        name = names.get(detail.get("timer", ""), Message("A deadline"))
        if detail.get("escalates"):
            return Message("Escalated to a supervisor: %(deadline)s", deadline=name)
        return Message("Deadline passed: %(deadline)s", deadline=name)
    if row.action == INVITED:
        return Message("Invitation to register sent to the sponsor (%(email)s)", email=str(detail.get("email", "")))
    if row.action == CORRECTED:
        return Message("Sponsor's e-mail address corrected to %(email)s", email=str(detail.get("to", "")))
    if row.action == REGISTERED:
        return Message("The sponsor created their account from the invitation")
    if row.action == "billing_created":
        return Message("Billing code issued")
    if row.action == "document_uploaded":
        return Message("Document uploaded (%(field)s)", field=str(detail.get("field", "")).replace("_", " "))
    if row.action == "task_claimed":
        return Message("Task claimed: %(task)s", task=names.get(detail.get("task", ""), ""))
    if row.action == "task_released":
        return Message("Task released: %(task)s", task=names.get(detail.get("task", ""), ""))
    if row.action == "task_assigned":
        return Message(
            "Task given to %(officer)s: %(task)s",
            officer=str(detail.get("officer", "")),
            task=names.get(detail.get("task", ""), ""),
        )
    if row.action == "task_taken_back":
        return Message(
            "Task taken back from %(officer)s: %(task)s",
            officer=str(detail.get("officer", "")),
            task=names.get(detail.get("task", ""), ""),
        )
    if row.action in _INCIDENT_WORDS:
        element = detail.get("element") or ""
        about = names.get(element, element) or Message("the case")
        if row.action == "incident_opened":
            return Message("Stopped by a problem (an incident for administrators): %(element)s", element=about)
        if row.action == "incident_retried":
            return Message("Incident retried: %(element)s", element=about)
        return Message("Incident resolved: %(element)s", element=about)
    return None


def _who(row: AuditEvent, application: Application, viewer: User, officer: bool) -> str | None:
    if row.actor_id is not None and row.actor_id == viewer.id:
        return Message("you")
    if officer:
        return row.actor
    if row.actor_id == application.applicant_id:
        return Message("the applicant")
    if row.actor.startswith(("scheduler", "payment:")) or row.actor_id is None:
        return None
    return Message("your sponsor") if _is_sponsor(row, application) else Message("an immigration officer")


def _is_sponsor(row: AuditEvent, application: Application) -> bool:
    return bool(application.sponsor_email) and f"<{application.sponsor_email}>" in row.actor


def _now(application: Application, names: dict[str, str], language: str | None) -> list[TimelineEntry]:
    cat = catalog(language)
    if application.closed_at is not None:
        return [TimelineEntry(application.closed_at, cat.status_text(application.status).label, current=True)]
    tasks = open_tasks(application.id)
    if tasks:
        return [
            TimelineEntry(
                None, Message("Now: %(step)s", step=names.get(t.element_id, t.name)), current=True, due_at=t.due_at
            )
            for t in tasks
        ]
    text = cat.status_text(application.status)
    deadline = case_deadline(application.id)
    due = deadline.due_at if deadline is not None else None
    now = Message("Now: %(step)s", step=text.applicant_action or text.label)
    return [TimelineEntry(None, now, current=True, due_at=due)]


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
