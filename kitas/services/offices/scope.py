"""Which offices' cases and tasks a person may see: an admin every office, an officer her own; nobody
the studio's trial cases (no office, ``trial_task_ids``)."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Application, HumanTask, User, officer_offices


def visible_office_ids(user: User) -> frozenset[int] | None:
    """The offices whose cases ``user`` sees as an officer; None means every office (an admin).

    An officer with no office sees no office's cases: membership is given, never assumed.
    """
    if user.has_role("admin"):
        return None
    rows = db.session.execute(select(officer_offices.c.office_id).where(officer_offices.c.user_id == user.id))
    return frozenset(row[0] for row in rows)


def trial_task_ids() -> tuple[int, ...]:
    """The open task rows of the studio's trial cases, which no officer's list or figure holds. The cases
    have no office, so an officer's office scope leaves them out already; an admin's view (every office,
    and no office) leaves out these rows by id: the id is in every index of the task table on SQLite, so
    the inbox's counts stay index-only. Read through the case's office index (the cases of no office are
    few), then the tasks' case index."""
    cases = select(Application.id).where(Application.office_id.is_(None), Application.trial.is_(True))
    query = select(HumanTask.id).where(HumanTask.application_id.in_(cases)).order_by(HumanTask.id)
    return tuple(db.session.scalars(query))
