"""What administrators read: the incidents, one page at a time, one incident, and the case behind it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import selectinload

from forms.texts import Message

from ...extensions import db
from ...models import INCIDENT_KINDS, Application, HumanTask, Incident, ProcessDefinition, User
from .. import catalog
from ..cases import listings, timeline
from ..cases.names import localized
from ..deployments import element_names, process_model
from ..errors import Forbidden, NotFound
from ..paging import Page, page_bounds

STATUSES = ("open", "resolved", "all")
PER_PAGE = 25


@dataclass(frozen=True)
class IncidentRow:
    """An incident with what its page shows around it: the case reference and the element's name."""

    incident: Incident
    reference: str | None
    element_name: str | None
    trial: bool = False  # an incident of a studio's trial case (the admins' list marks it)


@dataclass(frozen=True)
class IncidentFilter:
    """The list's filters, as understood (anything unknown is shown as no filter)."""

    status: str = "open"
    kind: str | None = None

    @classmethod
    def parse(cls, status: str | None, kind: str | None) -> IncidentFilter:
        """Filters from the query string: an unknown status means open, an unknown kind means every kind."""
        return cls(status if status in STATUSES else "open", kind if kind in INCIDENT_KINDS else None)


@dataclass(frozen=True)
class AdminCase:
    """A case as an administrator sees it: where it stands, its open tasks, its incidents and its version."""

    application: Application
    status: timeline.CaseStatus
    tasks: list[HumanTask]
    incidents: list[IncidentRow]
    newest_version: int
    type_name: str = ""  # the case's KITAS type as people name it (``Work KITAS (E23)``)


def require_admin(user: User) -> None:
    """Forbidden unless the user is an administrator (the pages check it too, once per blueprint)."""
    if not user.has_role("admin"):
        raise Forbidden(Message("only administrators may see and handle incidents"))


def incident_page(user: User, filters: IncidentFilter, number: int = 1, per_page: int = PER_PAGE) -> Page[IncidentRow]:
    """Incidents matching the filters, the most recent failure first."""
    require_admin(user)
    number, per_page = page_bounds(number, per_page)
    conditions: list[ColumnElement[bool]] = []
    if filters.status != "all":
        conditions.append(Incident.status == filters.status)
    if filters.kind is not None:
        conditions.append(Incident.kind == filters.kind)
    total = db.session.scalar(select(func.count()).select_from(Incident).where(*conditions)) or 0
    incidents = db.session.scalars(
        select(Incident)
        .options(selectinload(Incident.application))
        .where(*conditions)
        .order_by(Incident.last_failed_at.desc(), Incident.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return Page([_row(incident) for incident in incidents], number, per_page, total)


def incident_detail(user: User, incident_id: int) -> IncidentRow:
    """One incident (NotFound if there is none with that number)."""
    require_admin(user)
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(Message("there is no incident %(incident)s", incident=incident_id))
    return _row(incident)


def case_for_admin(user: User, reference: str, language: str | None = None) -> AdminCase:
    """The case behind incidents: status, timeline, open tasks, every incident and the newest version;
    words and step names in ``language``."""
    require_admin(user)
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None:
        raise NotFound(Message("there is no case %(reference)s", reference=reference))
    incidents = db.session.scalars(
        select(Incident)
        .where(Incident.application_id == application.id)
        .order_by(Incident.status, Incident.last_failed_at.desc(), Incident.id.desc())  # open before resolved
    ).all()
    names = element_names(application.definition, language)
    newest = db.session.scalar(
        select(func.max(ProcessDefinition.version)).where(
            ProcessDefinition.process_id == application.definition.process_id
        )
    )
    return AdminCase(
        application=application,
        status=timeline.case_status(application, user, language),
        tasks=[localized(task, names) for task in listings.open_tasks(application.id)],
        incidents=[_row(incident) for incident in incidents],
        newest_version=int(newest or application.definition.version),
        type_name=catalog.type_name(application.kitas_type, language),
    )


def _row(incident: Incident) -> IncidentRow:
    application = incident.application
    if application is None:
        return IncidentRow(incident, None, incident.element_id)
    names = process_model(application.definition).element_names
    element = incident.element_id
    name = names.get(element, element) if element else None
    return IncidentRow(incident, application.reference, name, application.trial)
