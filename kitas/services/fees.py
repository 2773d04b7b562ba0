"""The fee of a KITAS, from the one decision table every page and every case reads (``bpmn/fees.dmn``).

The table is the one of the DEPLOYED newest version of the type's process: the version new cases
run, whose business rule task (``compute_fee``) puts the same amount into the case data that the
billing code charges (``payments.billing``). So a deployed change of the table is what the type
pages, the fee shown before applying and the billing code all say. Only when the type's process is
not deployed (or has no process) is the repository's file read, and the table says so (``source``).
Every amount is evaluated by the engine (``engine.decisions``), never read from a cell here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from flask import current_app
from sqlalchemy import select

from engine import DiagramError, ScriptError
from engine.decisions import DecisionTable, decide, decision_ids, read_decision
from forms.texts import Message
from workflows import KitasType, catalog

from ..extensions import db
from ..models import ProcessDefinition
from .errors import ServiceError
from .payments.billing import FEE_VARIABLE

# The decision the diagrams' compute_fee calls (the contract of issue 10), and where its answer goes.
FEE_DECISION = "kitas_fee"
DEPLOYED = "deployed"
REPOSITORY = "repository"
# Amounts already evaluated, by (table content, type, index code, months): a table's content never changes
# under its hash, and every page showing fees would otherwise run the engine once per row.
_AMOUNTS: dict[tuple[str, str, str, int], int | None] = {}
_AMOUNTS_LOCK = Lock()
_AMOUNTS_KEPT = 4096
_FEE_TABLES: dict[str, str | None] = {}  # a deployed version's content hash -> its fee table (DMN text)


@dataclass(frozen=True)
class FeeRow:
    """The fee for one length of stay (and index code, when the codes of a type differ); None: not in the table."""

    duration_months: int
    amount: int | None
    index_code: str | None = None


@dataclass(frozen=True)
class FeeTable:
    """A type's fees, one row per length of stay it offers, and which table they come from."""

    kitas_type: str
    rows: tuple[FeeRow, ...]
    source: str  # DEPLOYED (the newest version's table) | REPOSITORY (nothing deployed: the file in bpmn/)
    version: int | None = None  # the deployed version of the type's process the table belongs to

    @property
    def lowest(self) -> int | None:
        """The smallest fee of the table (None when it has none)."""
        amounts = [row.amount for row in self.rows if row.amount is not None]
        return min(amounts) if amounts else None

    @property
    def highest(self) -> int | None:
        """The largest fee of the table (None when it has none)."""
        amounts = [row.amount for row in self.rows if row.amount is not None]
        return max(amounts) if amounts else None

    @property
    def by_index_code(self) -> bool:
        """True when the rows differ by index code (the page then shows a column for it)."""
        return any(row.index_code for row in self.rows)


def fee_table(code: str) -> FeeTable:
    """Every fee of a type (``worker``): one row per length of stay in the catalog, the amount from the table."""
    kitas_type = catalog().by_code(code)
    dmn, source, version = _fee_decision(kitas_type)
    codes = [entry.code for entry in kitas_type.index_codes] or [kitas_type.index_code]
    amounts = {
        (index_code, months): _evaluate(dmn, kitas_type.code, index_code, months)
        for index_code in codes
        for months in kitas_type.durations_months
    }
    same_for_every_code = all(
        len({amounts[(index_code, months)] for index_code in codes}) == 1 for months in kitas_type.durations_months
    )
    if same_for_every_code:
        rows = tuple(FeeRow(months, amounts[(codes[0], months)]) for months in kitas_type.durations_months)
    else:
        rows = tuple(
            FeeRow(months, amounts[(index_code, months)], index_code)
            for index_code in codes
            for months in kitas_type.durations_months
        )
    return FeeTable(kitas_type.code, rows, source, version)


def fee_for(code: str, index_code: str, duration_months: int) -> int | None:
    """The fee for a type, index code and length of stay, as the type's newest deployed version charges it
    (None when the table has no row for them)."""
    kitas_type = catalog().by_code(code)
    dmn, _source, _version = _fee_decision(kitas_type)
    return _evaluate(dmn, kitas_type.code, index_code, duration_months)


def decision_rows(code: str) -> DecisionTable:
    """The fee table a type's pages read, as its analyst wrote it (every type's rows)."""
    dmn, _source, _version = _fee_decision(catalog().by_code(code))
    return read_decision(dmn, FEE_DECISION)


def _evaluate(dmn: str, kitas_type: str, index_code: str, months: int) -> int | None:
    key = (hashlib.sha256(dmn.encode("utf-8")).hexdigest(), kitas_type, index_code, months)
    if key in _AMOUNTS:
        return _AMOUNTS[key]
    amount = _evaluated(dmn, kitas_type, index_code, months)
    with _AMOUNTS_LOCK:
        if len(_AMOUNTS) >= _AMOUNTS_KEPT:
            _AMOUNTS.clear()
        _AMOUNTS[key] = amount
    return amount


def _evaluated(dmn: str, kitas_type: str, index_code: str, months: int) -> int | None:
    try:
        answer = decide(
            dmn, FEE_DECISION, {"kitas_type": kitas_type, "index_code": index_code, "duration_months": months}
        )
    except (ScriptError, DiagramError):
        current_app.logger.warning("the fee table fails for %s %s %s months", kitas_type, index_code, months)
        return None
    amount = answer.get(FEE_VARIABLE)
    return amount if isinstance(amount, int) and not isinstance(amount, bool) else None


def _fee_decision(kitas_type: KitasType) -> tuple[str, str, int | None]:
    """(DMN text, source, version): the deployed newest version's table, else the repository's file."""
    latest = _latest_version(kitas_type.process_id) if kitas_type.process_id else None
    if latest is not None:
        content_hash, version, definition_id = latest
        if content_hash not in _FEE_TABLES:
            definition = db.session.get(ProcessDefinition, definition_id)
            _FEE_TABLES[content_hash] = _decision_file(definition) if definition is not None else None
        deployed = _FEE_TABLES[content_hash]
        if deployed is not None:
            return deployed, DEPLOYED, version
    return _repository_file(), REPOSITORY, None


def _latest_version(process_id: str) -> tuple[str, int, int] | None:
    """(content hash, version, id) of the newest deployed version of a process: the light columns only."""
    row = db.session.execute(
        select(ProcessDefinition.content_hash, ProcessDefinition.version, ProcessDefinition.id)
        .where(ProcessDefinition.process_id == process_id)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def _decision_file(definition: ProcessDefinition) -> str | None:
    """The DMN file of a deployed version that defines the fee decision (shared steps' files included)."""
    for name in sorted(definition.files):
        text = definition.files[name]
        if name.endswith(".dmn") and FEE_DECISION in decision_ids(text):
            return text
    return None


_REPOSITORY: dict[Path, tuple[Path, float, str]] = {}  # folder -> (its fee table file, modified, text)


def _repository_file() -> str:
    """The fee table in the repository's diagrams folder (``KITAS_BPMN_DIR``), read again when it changes."""
    folder = Path(current_app.config["KITAS_BPMN_DIR"])
    known = _REPOSITORY.get(folder)
    if known is not None:
        path, modified, text = known
        if path.is_file() and path.stat().st_mtime == modified:
            return text
    for path in sorted(folder.rglob("*.dmn")):
        text = path.read_text(encoding="utf-8")
        if FEE_DECISION in decision_ids(text):
            _REPOSITORY[folder] = (path, path.stat().st_mtime, text)
            return text
    raise ServiceError(
        Message("There is no fee table %(decision)s under %(folder)s.", decision=FEE_DECISION, folder=folder.name)
    )
