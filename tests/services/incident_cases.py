"""Cases of the incident scenario diagram (tests/data/incidents), for service and page tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, Incident, User
from kitas.services import cases
from kitas.services.deployments import DeployResult, collect_files, deploy, deploy_path
from tests.conftest import DATA

FLOW = DATA / "incidents"
PROCESS = "incident_flow"


def deploy_broken() -> DeployResult:
    """Version 1: its scripts fail (each uses a name nothing defines)."""
    return deploy_path(FLOW / "incident_flow.bpmn", FLOW)


def deploy_fixed() -> DeployResult:
    """The same process and element ids with working scripts."""
    return deploy_path(FLOW / "incident_flow_fixed.bpmn", FLOW)


def deploy_variant(old: str, new: str) -> DeployResult:
    """The fixed diagram with one piece of text replaced (an element renamed, a script added...)."""
    bpmn, files = collect_files(FLOW / "incident_flow_fixed.bpmn", FLOW)
    assert old in bpmn, old
    return deploy(bpmn.replace(old, new), files)


def start(applicant: User, **data: Any) -> Application:
    """A case of the scenario; ``path`` (form, timer or message) chooses where it goes."""
    return cases.start_process(PROCESS, applicant, kitas_type="test", index_code="T", data=data)


def fresh(application_id: int) -> Application:
    """The case as stored now."""
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None
    return application


def incidents(application_id: int | None = None) -> list[Incident]:
    """Every incident (of one case), oldest first, fresh from the database."""
    db.session.expire_all()
    query = select(Incident).order_by(Incident.id)
    if application_id is not None:
        query = query.where(Incident.application_id == application_id)
    return list(db.session.scalars(query))
