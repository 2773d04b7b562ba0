"""Give every case without an office one (``kitas offices-backfill``, run by ``kitas init``).

Cases started before offices existed have no domicile: they go to the default office. A case with a
province but no office (the table was empty when it started) gets the rule's office. Their open task
rows then take their case's office, so officers find them in their inboxes.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from ...extensions import db
from ...models import Application, HumanTask, Office
from ...transactions import write_transaction
from .. import audit
from .directory import default_office, offices_file


@dataclass(frozen=True)
class BackfillReport:
    """How many cases and task rows were given an office."""

    cases: int
    tasks: int


def backfill_offices(actor: str = "cli") -> BackfillReport:
    """Give cases without an office the rule's office of their province (else the default office), and
    task rows without one their case's office; one transaction, audited when it changed anything."""
    data = offices_file()
    cases = tasks = 0
    with write_transaction():
        default_id = default_office().id  # an unsynced table: the ServiceError that says to sync first
        ids = {code: id_ for id_, code in db.session.execute(select(Office.id, Office.code).where(Office.active))}
        table = Application.__table__
        without = table.c.office_id.is_(None) & table.c.trial.is_(False)  # a trial case never gets an office
        for province in db.session.scalars(
            select(table.c.domicile_province).where(without, table.c.domicile_province.is_not(None)).distinct()
        ).all():
            code = data.domicile_rule.get(province)
            if code in ids:
                result = db.session.execute(
                    update(table).where(without, table.c.domicile_province == province).values(office_id=ids[code])
                )
                cases += result.rowcount  # type: ignore[attr-defined]
        result = db.session.execute(update(table).where(without).values(office_id=default_id))
        cases += result.rowcount  # type: ignore[attr-defined]
        tasks_table = HumanTask.__table__
        case_office = select(table.c.office_id).where(table.c.id == tasks_table.c.application_id).scalar_subquery()
        result = db.session.execute(
            update(tasks_table)
            .where(tasks_table.c.office_id.is_(None), case_office.is_not(None))
            .values(office_id=case_office)
        )
        tasks = result.rowcount  # type: ignore[attr-defined]
        if cases or tasks:
            audit.record("offices_backfilled", {"cases": cases, "tasks": tasks}, actor=actor)
    return BackfillReport(cases, tasks)
