"""Which offices each officer works in, as an administrator sees and sets it (every change audited)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from forms.texts import Message

from ...extensions import db
from ...models import Office, Role, User, officer_offices
from ...transactions import write_transaction
from .. import audit
from ..cases.access import OFFICER_ROLES
from ..errors import Forbidden, InvalidInput, NotFound
from .directory import OfficeView, office_view

OFFICES_FIELD = "offices"


@dataclass(frozen=True)
class OfficerRow:
    """An officer and the offices she works in."""

    id: int
    name: str
    email: str
    roles: tuple[str, ...]
    active: bool
    office_ids: frozenset[int]
    offices: tuple[OfficeView, ...]


def _require_admin(user: User) -> None:
    if not user.has_role("admin"):
        raise Forbidden(Message("only an administrator may set officers' offices"))


def _officers() -> list[User]:
    query = (
        select(User).join(User.roles).where(Role.name.in_(OFFICER_ROLES)).distinct().order_by(User.full_name, User.id)
    )
    return list(db.session.scalars(query))


def officer_offices_page(admin: User) -> tuple[list[OfficerRow], list[OfficeView]]:
    """Every officer (verifier, supervisor) with her offices, and the offices one can be given."""
    _require_admin(admin)
    offices = {office.id: office_view(office) for office in db.session.scalars(select(Office).order_by(Office.code))}
    memberships: dict[int, set[int]] = {}
    for user_id, office_id in db.session.execute(select(officer_offices.c.user_id, officer_offices.c.office_id)):
        memberships.setdefault(user_id, set()).add(office_id)
    rows = []
    for user in _officers():
        mine = memberships.get(user.id, set())
        rows.append(
            OfficerRow(
                id=user.id,
                name=user.full_name,
                email=user.email,
                roles=tuple(role for role in OFFICER_ROLES if user.has_role(role)),
                active=user.is_active,
                office_ids=frozenset(mine),
                offices=tuple(offices[office_id] for office_id in sorted(mine) if office_id in offices),
            )
        )
    return rows, [office for office in offices.values() if office.active]


def set_officer_offices(admin: User, officer_id: int, office_ids: Iterable[int]) -> list[str]:
    """Give officer ``officer_id`` exactly these (active) offices; audited in the administrator's chain.
    NotFound for someone who is not an officer; InvalidInput for an office that does not exist or is closed.
    Returns the codes she now works in."""
    _require_admin(admin)
    wanted = sorted(set(office_ids))
    with write_transaction():
        officer = db.session.get(User, officer_id)
        if officer is None or not any(officer.has_role(role) for role in OFFICER_ROLES):
            raise NotFound(Message("there is no officer with this number"))
        offices = list(db.session.scalars(select(Office).where(Office.id.in_(wanted), Office.active.is_(True))))
        if len(offices) != len(wanted):
            raise InvalidInput(
                {OFFICES_FIELD: [Message("choose only offices from the list; an office there is no longer open")]}
            )
        return _place(officer, offices, user=admin)


def place_officer(officer: User, codes: Iterable[str], actor: str) -> list[str]:
    """Give an officer exactly the active offices with these codes (the demo's and set-up scripts'; audited)."""
    with write_transaction():
        offices = list(db.session.scalars(select(Office).where(Office.code.in_(sorted(set(codes))), Office.active)))
        return _place(officer, offices, actor=actor)


def offices_of(officer: User) -> list[str]:
    """The codes of the offices an officer works in."""
    return sorted(
        db.session.scalars(
            select(Office.code)
            .join(officer_offices, officer_offices.c.office_id == Office.id)
            .where(officer_offices.c.user_id == officer.id)
        )
    )


def _place(officer: User, offices: list[Office], *, user: User | None = None, actor: str | None = None) -> list[str]:
    """Inside the caller's transaction: replace the officer's offices, audit the change (if any)."""
    before = offices_of(officer)
    db.session.execute(delete(officer_offices).where(officer_offices.c.user_id == officer.id))
    if offices:
        db.session.execute(insert(officer_offices), [{"user_id": officer.id, "office_id": o.id} for o in offices])
    codes = sorted(office.code for office in offices)
    if codes != before:
        audit.record(
            "officer_offices_set",
            {"officer": officer.id, "email": officer.email, "before": before, "after": codes},
            user=user,
            actor=actor,
        )
    return codes
