"""The individual sponsor's limit: a sponsor of a limited kind (``person``) may stand for at most the
catalog's ``sponsor_limits`` number of foreigners in open cases (10 today). Active means a case not in
a final status (not closed). It is checked where a sponsor takes on more people: when a group would pass
it, when an applicant names the sponsor (the ``sponsor_email`` answer), and when the sponsor confirms.
The number is data: every refusal says the limit as the catalog has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select, text

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, HumanTask
from ...transactions import is_postgres
from ..accounts.fields import normalize_email

SPONSOR_FIELD = "sponsor_email"  # the answer that names a case's sponsor (the unit of work reads it too)
KIND_FIELD = "sponsor_kind"


def sponsor_kind_of(kitas_type: str, data: Mapping[str, Any]) -> str | None:
    """The kind of the case's sponsor: the case data's ``sponsor_kind``, else the type's only kind."""
    kind = data.get(KIND_FIELD)
    if isinstance(kind, str) and kind.strip():
        return kind.strip()
    try:
        kinds = catalog().by_code(kitas_type).sponsor_kinds
    except KeyError:
        return None
    return kinds[0] if len(kinds) == 1 else None


def limit_of(kind: str | None) -> int | None:
    """The most active sponsored foreigners a sponsor of ``kind`` may have; None when unlimited."""
    return catalog().sponsor_limits.get(kind) if kind else None


def active_sponsored(email: str, kind: str, *, excluding: int | None = None) -> int:
    """How many open cases name ``email`` as their sponsor of ``kind`` (``excluding`` one case)."""
    where = [
        Application.sponsor_email == normalize_email(email),
        Application.closed_at.is_(None),
        Application.sponsor_kind == kind,
    ]
    if excluding is not None:
        where.append(Application.id != excluding)
    return db.session.scalar(select(func.count()).select_from(Application).where(*where)) or 0


def hold_sponsor(email: str) -> None:
    """Serialise the checks for one sponsor inside the caller's writing transaction (PostgreSQL: an
    advisory lock on the address until the commit; SQLite's write lock already serialises them)."""
    if is_postgres():
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:email))"), {"email": normalize_email(email)})


def room_problem(email: str, kind: str | None, adding: int, *, excluding: int | None = None) -> Message | None:
    """Why ``adding`` more foreigners would take the sponsor past their kind's limit, or None."""
    limit = limit_of(kind)
    if limit is None or not email or kind is None:
        return None
    hold_sponsor(email)
    active = active_sponsored(email, kind, excluding=excluding)
    if active + adding <= limit:
        return None
    if adding == 1:
        return Message(
            "%(email)s already sponsors %(active)s foreigners in open applications; an individual sponsor may "
            "sponsor at most %(limit)s at a time. Name another sponsor, or wait until one of those applications "
            "closes.",
            email=normalize_email(email),
            active=active,
            limit=limit,
        )
    return Message(
        "A group of %(count)s people would make %(total)s foreigners sponsored by %(email)s in open applications "
        "(%(active)s now); an individual sponsor may sponsor at most %(limit)s at a time. Start a smaller group.",
        count=adding,
        total=active + adding,
        email=normalize_email(email),
        active=active,
        limit=limit,
    )


def step_problems(
    application: Application, task: HumanTask, answers: Mapping[str, Any], sent: Mapping[str, Any]
) -> dict[str, list[str]]:
    """The limit's refusal of a step, by field: the sponsor confirming past it (on the answer that
    confirms), or an applicant naming a sponsor who is at it (on ``sponsor_email``)."""
    merged = {**answers, **sent}
    kind = sponsor_kind_of(application.kitas_type, merged)
    if limit_of(kind) is None:
        return {}
    if task.role == "sponsor":
        confirms = catalog().confirms_of(application.kitas_type)
        if not confirms or any(sent.get(key) != value for key, value in confirms.items()):
            return {}  # declining is always possible
        problem = room_problem(application.sponsor_email or "", kind, 1, excluding=application.id)
        return {next(iter(confirms)): [problem]} if problem else {}
    if SPONSOR_FIELD not in sent and KIND_FIELD not in sent:
        return {}
    email = merged.get(SPONSOR_FIELD)
    if not isinstance(email, str) or not email.strip():
        return {}
    problem = room_problem(email, kind, 1, excluding=application.id)
    return {SPONSOR_FIELD: [problem]} if problem else {}
