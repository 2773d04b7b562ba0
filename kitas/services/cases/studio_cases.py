"""The studio's ways to a case's diagram: a case found by its register number, the deployed versions that
have cases (with how many), and the newest cases of one version. Read only; any case, sandbox ones too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from forms.texts import Message
from workflows import catalog

from ...extensions import db
from ...models import Application, ProcessDefinition
from ..errors import InvalidInput, NotFound


@dataclass(frozen=True)
class CaseRow:
    """A case of a version, as the studio lists it."""

    reference: str
    status: str  # in words
    created_at: datetime
    closed_at: datetime | None
    trial: bool


@dataclass(frozen=True)
class VersionCases:
    """The newest cases of one deployed version, and how many it has."""

    definition: ProcessDefinition
    count: int
    cases: tuple[CaseRow, ...]


def version_cases(process_id: str, version: int, language: str | None = None, limit: int = 50) -> VersionCases:
    """The newest ``limit`` cases pinned to one version of a process, statuses in ``language`` (NotFound
    without that version)."""
    definition = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id, ProcessDefinition.version == version
        )
    ).first()
    if definition is None:
        raise NotFound(Message("%(process)s has no version %(version)s.", process=process_id, version=version))
    count = db.session.scalar(select(func.count(Application.id)).where(Application.definition_id == definition.id))
    rows = db.session.execute(
        select(
            Application.reference, Application.status, Application.created_at, Application.closed_at, Application.trial
        )
        .where(Application.definition_id == definition.id)
        .order_by(Application.id.desc())
        .limit(limit)
    ).all()
    cat = catalog(language)
    cases = tuple(
        CaseRow(ref, cat.status_text(status).label, created, closed, trial)
        for ref, status, created, closed, trial in rows
    )
    return VersionCases(definition, int(count or 0), cases)


@dataclass(frozen=True)
class VersionCount:
    """A deployed version and how many cases run (or ran) on it."""

    process_id: str
    version: int
    name: str
    deployed_at: datetime
    trial: bool
    count: int


def versions_with_cases() -> tuple[VersionCount, ...]:
    """Every deployed version that has cases, newest first per process, with its number of cases."""
    counts = (
        select(Application.definition_id, func.count(Application.id).label("n"))
        .group_by(Application.definition_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            ProcessDefinition.process_id,
            ProcessDefinition.version,
            ProcessDefinition.name,
            ProcessDefinition.deployed_at,
            ProcessDefinition.trial,
            counts.c.n,
        )
        .join(counts, counts.c.definition_id == ProcessDefinition.id)
        .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())
    ).all()
    return tuple(VersionCount(*row) for row in rows)


def studio_case(reference: str) -> str:
    """The register number typed in the studio's search, of a case that exists (InvalidInput otherwise,
    on the field ``reference``, what was typed kept by the page)."""
    typed = reference.strip()
    if not typed:
        raise InvalidInput({"reference": [Message("Type the register number of a case.")]})
    found = db.session.scalar(select(Application.reference).where(Application.reference == typed))
    if found is None:
        raise InvalidInput({"reference": [Message("No case has the register number %(reference)s.", reference=typed)]})
    return found
