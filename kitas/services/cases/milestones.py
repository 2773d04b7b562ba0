"""Write the case milestones projection (``case_milestone``) where the events happen: in a step's save.

A step that changes a case's status may reach a milestone of ``workflows/milestones.json`` (paid, sent
back for corrections, decided); a step that closes the case completes it; an officer who completes a
task of an officer's lane records an officer's decision. One INSERT per step, in the step's transaction,
so the dashboard's figures are exactly as true as the case rows and never need a workflow restored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from workflows.milestones import milestone_rules

from ...extensions import db
from ...models import Application, CaseMilestone, Office

# A case without an office counts its days in WIB, the zone of the service's home office.
HOME_ZONE = "Asia/Jakarta"
_TABLE = CaseMilestone.__table__


@dataclass(frozen=True)
class OfficerDecision:
    """An officer completed a task of an officer's lane in this step."""

    actor_id: int
    element_id: str


def case_day(application: Application, at: datetime) -> date:
    """The calendar day of ``at`` in the case's office's zone (WIB for a case without an office)."""
    office = db.session.get(Office, application.office_id) if application.office_id is not None else None
    return at.astimezone(ZoneInfo(office.time_zone if office else HOME_ZONE)).date()


def record_milestones(
    application: Application,
    previous_status: str | None,
    now: datetime,
    actor_id: int | None,
    decisions: list[OfficerDecision],
    closed: bool,
) -> None:
    """Insert the milestones this step reached (nothing when it reached none)."""
    kinds = [rule for rule in milestone_rules() if rule.reached(previous_status, application.status)]
    once = [rule.kind for rule in kinds if rule.once]
    if once:
        seen = set(
            db.session.scalars(
                select(CaseMilestone.kind).where(
                    CaseMilestone.application_id == application.id, CaseMilestone.kind.in_(once)
                )
            )
        )
        kinds = [rule for rule in kinds if not (rule.once and rule.kind in seen)]
    if not kinds and not decisions and not closed:
        return
    day = case_day(application, now)
    base = {
        "application_id": application.id,
        "at": now,
        "day": day,
        "kitas_type": application.kitas_type,
        "office_id": application.office_id,
    }
    # The officer's decision first: the milestone of the status is what it brought about.
    rows = [
        {**base, "kind": "officer_decision", "actor_id": d.actor_id, "element_id": d.element_id, "reason": None}
        for d in decisions
    ]
    rows += [
        {**base, "kind": rule.kind, "actor_id": actor_id, "element_id": None, "reason": _reason(rule.kind, application)}
        for rule in kinds
    ]
    if closed:
        rows.append(
            {**base, "kind": "completed", "actor_id": actor_id, "element_id": application.status, "reason": None}
        )
    db.session.execute(insert(_TABLE), rows)


def _reason(kind: str, application: Application) -> str | None:
    """The reason the case's new status carries (the officer's words when corrections are requested)."""
    return application.status_detail if kind == "corrections_requested" else None
