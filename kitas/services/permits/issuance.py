"""The permit a case gets when it reaches the issued status, created inside the step that issued it.

``issue_for_case`` is called by the case unit of work's ``save()`` (next to the projections and the
notifications) when a step moves a case to ``permit_issued``; it is idempotent (one permit per case).
The validity runs from the issue day in Jakarta for ``duration_months`` (case data) less one day, and
never past any of the catalog's ``valid_until_caps`` the case data holds (a student's ``study_end``,
the ``passport_expiry``).
"""

from __future__ import annotations

import calendar
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, Permit
from ..errors import ServiceError
from .tokens import new_token_id

ISSUED_STATUS = "permit_issued"
JAKARTA = ZoneInfo("Asia/Jakarta")
# Crockford's base32 without I, L, O, U: nothing to misread when a number is typed from paper.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_permit_number(index_code: str, year: int) -> str:
    """A permit number that cannot be guessed from another: ``E23-2026-P4KQ7X-M2XA9``."""
    parts = ["".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(5)) for _ in range(2)]
    return f"{index_code}-{year}-P{parts[0]}-{parts[1]}"


def add_months(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on (the 31st becomes the month's last day when it has fewer)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def validity(issued_at: datetime, data: Mapping[str, Any]) -> tuple[date, date]:
    """(valid from, valid until) of a permit issued at ``issued_at`` for a case with ``data``."""
    months = data.get("duration_months", data.get("permit_months"))
    if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
        raise ServiceError(
            Message("The case has no length of stay (duration_months), so no permit can be issued; tell the analysts.")
        )
    start = issued_at.astimezone(JAKARTA).date()
    until = add_months(start, months) - timedelta(days=1)
    for name in catalog().permit.get("valid_until_caps", ()):
        cap = _date(data.get(name))
        if cap is not None and cap < until:
            until = cap
    if until < start:
        raise ServiceError(
            Message(
                "The permit would end before it starts (%(until)s): the passport or the study ends too soon.",
                until=until.isoformat(),
            )
        )
    return start, until


def _sponsor(kitas_type: str, data: Mapping[str, Any]) -> str | None:
    """Who guarantees the holder: the first sponsor field the case fills, for a type that has a sponsor
    (an investor's company is the company invested in, not a sponsor)."""
    try:
        if not catalog().by_code(kitas_type).sponsor_kinds:
            return None
    except KeyError:
        pass
    for name in catalog().permit.get("sponsor_fields", ()):
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None


def permit_of_case(application_id: int) -> Permit | None:
    """The permit a case was issued, if any."""
    return db.session.scalars(select(Permit).where(Permit.application_id == application_id)).first()


def issue_for_case(application: Application, data: Mapping[str, Any], now: datetime) -> tuple[Permit, bool]:
    """The case's permit, created now unless it exists: (permit, created). Runs inside the case's step."""
    existing = permit_of_case(application.id)
    if existing is not None:
        return existing, False
    valid_from, valid_until = validity(now, data)
    index_code = str(data.get("index_code") or application.kitas_type)[:16]
    office = data.get("office")
    permit = Permit(
        number=new_permit_number(index_code, valid_from.year),
        token_id=new_token_id(),
        application_id=application.id,
        holder_id=application.applicant_id,
        holder_name=str(data.get("full_name") or application.applicant.full_name or "")[:200],
        nationality=str(data.get("nationality") or "")[:64],
        date_of_birth=_date(data.get("date_of_birth")),
        kitas_type=application.kitas_type,
        index_code=index_code,
        sponsor=_sponsor(application.kitas_type, data),
        valid_from=valid_from,
        valid_until=valid_until,
        office=str(office)[:200]
        if isinstance(office, str) and office
        else current_app.config["KITAS_PERMIT_DEFAULT_OFFICE"],
        issued_at=now,
    )
    db.session.add(permit)
    db.session.flush()
    return permit, True


def download_path(reference: str) -> str:
    """Where the holder downloads the permit of case ``reference`` (the status page links it, so does the e-mail)."""
    return f"/applications/{reference}/permit.pdf"


def permits_of_holder(holder_id: int) -> list[Permit]:
    """Every permit of a person, oldest first (their data export lists them)."""
    return list(db.session.scalars(select(Permit).where(Permit.holder_id == holder_id).order_by(Permit.id)))


def erase_holder(holder_id: int) -> int:
    """Remove the person's data from their permits (an account erased), inside the caller's transaction.

    The permit stays as issued (it is the state's record, and a checker may still meet it): its number,
    type and validity are kept; name, nationality and date of birth go (the photo went with the documents).
    Returns how many permits were touched.
    """
    permits = permits_of_holder(holder_id)
    for permit in permits:
        permit.holder_name, permit.nationality, permit.date_of_birth = "", "", None
    return len(permits)
