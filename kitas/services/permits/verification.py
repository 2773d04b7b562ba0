"""The public check of a permit (``/verify/<token>``): only what a checker needs, within a rate limit.

A lookup is refused unless its token is signed by this service (``tokens``). Every lookup that is let
through is logged as a ``permit_check`` row (address, time, outcome), and those rows are the limit:
``KITAS_VERIFY_MAX_PER_ADDRESS`` lookups per address within ``KITAS_VERIFY_WINDOW_MINUTES``, so the limit
holds across processes. A refused address is audited at most once per window. What is shown: valid,
revoked or expired, the type and index, the validity dates, the masked name and a small photo; never
the passport number, the address or the date of birth (none of them is even kept on the permit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, insert, select, text

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import Permit, PermitCheck
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..errors import NotFound, ServiceError
from . import tokens
from .issuance import JAKARTA
from .photos import holder_photo, thumbnail
from .texts import masked_name, type_name

VALID, REVOKED, EXPIRED, REFUSED = "valid", "revoked", "expired", "refused"


class NotAPermit(NotFound):
    """The token is not one this service signed, or names no permit."""

    def __init__(self) -> None:
        super().__init__(Message("this is not a valid permit code"))


class TooManyChecks(ServiceError):
    """The address made too many lookups within the window; ``retry_at`` says when it may again."""

    def __init__(self, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__(Message("too many permit checks from your address; try again at %(when)s", when=retry_at))


@dataclass(frozen=True)
class PermitStatus:
    """What the verification page shows."""

    state: str  # valid | revoked | expired
    type_name: str
    index_code: str
    valid_from: date
    valid_until: date
    masked_name: str
    has_photo: bool
    revoked_on: datetime | None


def _window() -> timedelta:
    return timedelta(minutes=int(current_app.config["KITAS_VERIFY_WINDOW_MINUTES"]))


def _retry_at(address: str, now: datetime) -> datetime | None:
    """When ``address`` may look up again, or None when it is under the limit now."""
    limit = int(current_app.config["KITAS_VERIFY_MAX_PER_ADDRESS"])
    if limit <= 0:
        return None
    window = _window()
    moment = db.session.scalar(
        select(PermitCheck.checked_at)
        .where(PermitCheck.address == address, PermitCheck.checked_at >= now - window)
        .order_by(PermitCheck.checked_at.desc(), PermitCheck.id.desc())
        .offset(limit - 1)
        .limit(1)
    )
    return moment + window if moment is not None else None


def state_of(permit: Permit, today: date) -> str:
    """valid, revoked or expired, on ``today`` (a day in Jakarta)."""
    if permit.revoked_at is not None:
        return REVOKED
    return EXPIRED if today > permit.valid_until else VALID


def _permit_of(token: str) -> Permit | None:
    token_id = tokens.read(token)
    if token_id is None:
        return None
    return db.session.scalars(select(Permit).where(Permit.token_id == token_id)).first()


def check_permit(token: str, address: str, language: str) -> PermitStatus:
    """Look a permit up by its public token from ``address`` (logged, rate-limited); NotAPermit or
    TooManyChecks otherwise."""
    address = (address or "unknown")[:64]
    now = app_clock().now()
    with write_transaction():
        if is_postgres():  # parallel lookups from one address count one after the other
            db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"verify:{address}"})
        retry_at = _retry_at(address, now)
        if retry_at is not None:
            audit.record_once_per_window(
                f"permit_checks_limited:{address}",
                _window(),
                "permit_checks_limited",
                {"address": address, "retry_at": retry_at.isoformat()},
                actor=f"anonymous ({address})",
            )
            permit = None
        else:
            permit = _permit_of(token)
            outcome = state_of(permit, now.astimezone(JAKARTA).date()) if permit is not None else REFUSED
            db.session.execute(
                insert(PermitCheck.__table__),
                [
                    {
                        "permit_id": permit.id if permit else None,
                        "address": address,
                        "outcome": outcome,
                        "checked_at": now,
                    }
                ],
            )
    if retry_at is not None:
        raise TooManyChecks(retry_at)
    if permit is None:
        raise NotAPermit()
    return PermitStatus(
        state=outcome,
        type_name=type_name(permit, language),
        index_code=permit.index_code,
        valid_from=permit.valid_from,
        valid_until=permit.valid_until,
        masked_name=masked_name(permit.holder_name),
        has_photo=holder_photo(permit.application_id) is not None,
        revoked_on=permit.revoked_at,
    )


def permit_thumbnail(token: str, address: str) -> bytes:
    """The small photo the verification page shows; refused like the page (the limit is checked, not counted)."""
    address = (address or "unknown")[:64]
    retry_at = _retry_at(address, app_clock().now())
    if retry_at is not None:
        raise TooManyChecks(retry_at)
    permit = _permit_of(token)
    photo = holder_photo(permit.application_id) if permit is not None else None
    if photo is None:
        raise NotAPermit()
    return thumbnail(photo)


def checks_of(permit_id: int) -> int:
    """How many lookups found the permit (for the admin's page)."""
    return int(db.session.scalar(select(func.count(PermitCheck.id)).where(PermitCheck.permit_id == permit_id)) or 0)
