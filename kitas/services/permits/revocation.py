"""The administrators' side of permits: find one by number, revoke it with a reason (audited)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import Application, Permit, User
from ...transactions import write_transaction
from .. import audit
from ..errors import Conflict, InvalidInput, NotFound
from .issuance import JAKARTA
from .verification import checks_of, state_of

REASON_MAX = 500


@dataclass(frozen=True)
class PermitRow:
    """A permit as the admins' page lists it."""

    permit: Permit
    reference: str
    state: str
    checks: int


def _row(permit: Permit) -> PermitRow:
    application = db.session.get(Application, permit.application_id)
    today = app_clock().now().astimezone(JAKARTA).date()
    return PermitRow(
        permit, application.reference if application else "", state_of(permit, today), checks_of(permit.id)
    )


def recent_permits(number: str = "", limit: int = 50) -> list[PermitRow]:
    """The newest permits, or those whose number starts with ``number`` (typed, case and spaces ignored)."""
    query = select(Permit).order_by(Permit.issued_at.desc(), Permit.id.desc()).limit(limit)
    wanted = "".join(number.split()).upper()[:40]
    if wanted:
        query = query.where(Permit.number.startswith(wanted, autoescape=True))
    return [_row(permit) for permit in db.session.scalars(query)]


def revoke(number: str, admin: User, reason: str) -> Permit:
    """Revoke the permit ``number`` with a reason; its verification page says revoked from now on."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput({"reason": [Message("Say why the permit is revoked.")]})
    if len(reason) > REASON_MAX:
        raise InvalidInput({"reason": [Message("Use at most %(limit)s characters.", limit=REASON_MAX)]})
    with write_transaction():
        permit = db.session.scalars(select(Permit).where(Permit.number == number[:40]).with_for_update()).first()
        if permit is None:
            raise NotFound(Message("there is no such permit"))
        if permit.revoked_at is not None:
            raise Conflict(Message("permit %(number)s was already revoked", number=permit.number))
        permit.revoked_at = app_clock().now()
        permit.revoked_by_id = admin.id
        permit.revoke_reason = reason
        audit.record(
            "permit_revoked",
            {"permit": permit.number, "reason": reason},
            user=admin,
            application_id=permit.application_id,
        )
    return permit
