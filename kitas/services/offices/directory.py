"""The office table kept equal to the offices file, and the domicile rule that gives a case its office.

``sync_offices`` (``kitas init``, ``kitas offices sync``) upserts the file's offices by code and marks
those the file no longer lists inactive (their cases and officers keep them). A case's office is the
one the rule gives the province it is started with, else the file's ``default_office``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import Office
from ...transactions import write_transaction
from ..errors import InvalidInput, ServiceError
from .data import OFFICES_FILE, OfficeEntry, OfficesFile, read_offices_file, zone_label

PROVINCE_FIELD = "domicile_province"


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed: the codes added, changed and made inactive."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    deactivated: tuple[str, ...]
    unchanged: int


@dataclass(frozen=True)
class OfficeView:
    """An office as pages show it: name, city, time zone label (WIB/WITA/WIT) and hours."""

    id: int
    code: str
    name: str
    city: str
    address: str
    zone: str
    opens: str
    closes: str
    active: bool


def offices_file_path() -> Path:
    """The offices file this application reads (``KITAS_OFFICES_FILE``, else the shipped one)."""
    configured = current_app.config.get("KITAS_OFFICES_FILE")
    return Path(configured) if configured else OFFICES_FILE


def offices_file() -> OfficesFile:
    """The checked offices file (OfficesFileRefused names every problem)."""
    return read_offices_file(offices_file_path())


def provinces() -> list[str]:
    """The provinces a person may say they live in (the rule's), alphabetically."""
    return offices_file().provinces


def sync_offices() -> SyncReport:
    """Make the office table equal the file: upsert by code, deactivate the codes it no longer lists.

    Not audited: the file is versioned with the code, and the command prints what it changed."""
    data = offices_file()  # refused before anything is written
    created: list[str] = []
    updated: list[str] = []
    deactivated: list[str] = []
    unchanged = 0
    with write_transaction():
        existing = {office.code: office for office in db.session.scalars(select(Office))}
        for entry in data.offices:
            office = existing.pop(entry.code, None)
            if office is None:
                db.session.add(Office(code=entry.code, **_columns(entry)))
                created.append(entry.code)
            elif _apply(office, entry):
                updated.append(entry.code)
            else:
                unchanged += 1
        for office in existing.values():
            if office.active:
                office.active = False
                deactivated.append(office.code)
    return SyncReport(tuple(created), tuple(updated), tuple(deactivated), unchanged)


def _columns(entry: OfficeEntry) -> dict[str, object]:
    return {
        "name": entry.name,
        "city": entry.city,
        "address": entry.address,
        "time_zone": entry.time_zone,
        "opens": entry.opens,
        "closes": entry.closes,
        "working_days": ",".join(str(day) for day in entry.working_days),
        "active": True,
    }


def _apply(office: Office, entry: OfficeEntry) -> bool:
    """Give ``office`` the entry's values; whether anything changed."""
    changed = False
    for key, value in _columns(entry).items():
        if getattr(office, key) != value:
            setattr(office, key, value)
            changed = True
    return changed


def office_for_province(province: str | None) -> Office:
    """The office of a case whose applicant (or sponsor) lives in ``province`` by the domicile rule; None:
    the default office. InvalidInput on the province field for an empty choice or a province not listed."""
    data = offices_file()
    if province is None:
        code = data.default_office
    else:
        if not province.strip():
            raise InvalidInput({PROVINCE_FIELD: [Message("Choose the province where you will live in Indonesia.")]})
        if province not in data.domicile_rule:
            raise InvalidInput(
                {
                    PROVINCE_FIELD: [
                        Message(
                            "%(province)s is not a province of Indonesia; choose one from the list.",
                            province=province[:60],
                        )
                    ]
                }
            )
        code = data.domicile_rule[province]
    office = db.session.scalars(select(Office).where(Office.code == code, Office.active.is_(True))).first()
    if office is None:
        raise ServiceError(
            Message(
                "the office %(code)s is not in the database yet; run 'kitas offices sync' (or 'kitas init')", code=code
            )
        )
    return office


def default_office() -> Office:
    """The office of a case whose domicile is unknown (the file's ``default_office``)."""
    return office_for_province(None)


def office_view(office: Office) -> OfficeView:
    """What pages show of an office."""
    return OfficeView(
        id=office.id,
        code=office.code,
        name=office.name,
        city=office.city,
        address=office.address,
        zone=zone_label(office.time_zone),
        opens=office.opens,
        closes=office.closes,
        active=office.active,
    )


def office_of(office_id: int | None) -> OfficeView | None:
    """The office with this id as pages show it (None for a case without one)."""
    if office_id is None:
        return None
    office = db.session.get(Office, office_id)
    return office_view(office) if office is not None else None


def all_offices() -> list[OfficeView]:
    """Every office, the active ones first, by code."""
    rows = db.session.scalars(select(Office).order_by(Office.active.desc(), Office.code))
    return [office_view(office) for office in rows]
