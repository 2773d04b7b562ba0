"""Drafts: the process models analysts edit, saved on the server.

A draft holds a whole diagram file (it may define several processes; ``process_id`` is the one the
draft is about) and the files it uses: form schemas, UI schemas, their translations and decision
tables, under plain names. Each save names the revision it was made on; a save on an older revision
is refused with who saved last and when, so two analysts editing one draft never overwrite each
other silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select

from engine import DiagramError, ProcessInfo, decode_bpmn, list_processes
from forms.texts import Message

from ...extensions import app_clock, db
from ...models import ProcessDefinition, StudioDraft, User
from ...transactions import write_transaction
from .. import audit
from ..deployments import CALLED, latest_definition
from ..errors import Conflict, InvalidInput, NotFound, ServiceError

# An uploaded diagram larger than this is refused (the shipped ones are 20-60 kB).
MAX_DIAGRAM_BYTES = 2 * 1024 * 1024
# A file of a draft: a plain name in the model's folder (no path), of a kind the deployment reads.
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.(json|dmn)$")
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BAD_FILE_NAME = Message("A file name must be a plain name ending .json or .dmn, without a folder or “..”.")


class ChooseProcess(ServiceError):
    """The uploaded diagram defines several processes and none was chosen: the page lists them."""

    def __init__(self, processes: tuple[ProcessInfo, ...]):
        self.processes = processes
        super().__init__(
            Message("The diagram defines %(count)s processes; choose the one to edit.", count=len(processes))
        )


@dataclass(frozen=True)
class VersionRow:
    version: int
    definition_id: int
    deployed_by: str
    deployed_at: datetime
    comment: str | None


@dataclass(frozen=True)
class ProcessRow:
    """One process of the studio's list: its deployed versions (newest first) and open drafts."""

    process_id: str
    name: str
    shared: bool
    versions: tuple[VersionRow, ...]
    drafts: tuple[StudioDraft, ...]


def valid_file_name(name: str) -> bool:
    """A plain file name inside the model's folder: no path, no ``..``, a known extension."""
    return bool(FILE_NAME.match(name)) and ".." not in name


def processes() -> list[ProcessRow]:
    """Every process with a deployed version or an open draft, the type diagrams before the shared steps."""
    definitions = db.session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.trial.is_(False))
        .order_by(ProcessDefinition.process_id, ProcessDefinition.version.desc())
    ).all()
    drafts = db.session.scalars(
        select(StudioDraft).where(StudioDraft.status == "open").order_by(StudioDraft.updated_at.desc())
    ).all()
    ids = sorted({d.process_id for d in definitions} | {d.process_id for d in drafts})
    rows = []
    for process_id in ids:
        versions = [d for d in definitions if d.process_id == process_id]
        own = tuple(d for d in drafts if d.process_id == process_id)
        name = versions[0].name if versions else (own[0].title if own else process_id)
        rows.append(
            ProcessRow(
                process_id=process_id,
                name=name,
                shared=process_id.startswith("shared_"),
                versions=tuple(VersionRow(d.version, d.id, d.deployed_by, d.deployed_at, d.comment) for d in versions),
                drafts=own,
            )
        )
    return sorted(rows, key=lambda r: (r.shared, r.process_id))


def get_draft(draft_id: int) -> StudioDraft:
    draft = db.session.get(StudioDraft, draft_id)
    if draft is None or draft.status == "discarded":
        raise NotFound(Message("there is no draft %(id)s", id=draft_id))
    return draft


def own_files(definition: ProcessDefinition) -> dict[str, Any]:
    """The files of a version an analyst edits: its own, not the copies of the steps it calls."""
    return {name: text for name, text in definition.files.items() if not name.startswith(CALLED)}


def open_draft(process_id: str, user: User) -> StudioDraft:
    """The open draft of a process (the most recently saved), or a new one from its latest version."""
    with write_transaction():
        existing = db.session.scalars(
            select(StudioDraft)
            .where(StudioDraft.process_id == process_id, StudioDraft.status == "open")
            .order_by(StudioDraft.updated_at.desc())
            .limit(1)
        ).first()
        if existing is not None:
            return existing
        definition = latest_definition(process_id)
        if definition is None:
            raise NotFound(Message("there is no process %(process)s", process=process_id))
        draft = _new_draft(
            process_id,
            definition.name,
            definition.bpmn_xml,
            own_files(definition),
            user,
            base_definition_id=definition.id,
        )
        audit.record(
            "studio_draft_opened",
            {"draft": draft.id, "process_id": process_id, "from_version": definition.version},
            user=user,
        )
        return draft


def import_draft(data: bytes, filename: str, user: User, process_id: str | None = None) -> StudioDraft:
    """A new draft from an uploaded BPMN 2.0 file of any modeler; it need not be executable yet.

    Refused with the reason: an empty or too large file, bytes that are not XML (with the line), XML
    that is not BPMN 2.0. A file of several processes needs ``process_id`` (``ChooseProcess`` lists
    them)."""
    text = _diagram_text(data, filename)
    found = _processes_of(text)
    chosen = _choose(found, process_id)
    with write_transaction():
        latest = latest_definition(chosen.process_id)
        draft = _new_draft(
            chosen.process_id,
            chosen.name,
            text,
            own_files(latest) if latest is not None else {},
            user,
            base_definition_id=latest.id if latest is not None else None,
            source_name=filename[:255] or None,
        )
        audit.record(
            "studio_draft_imported",
            {"draft": draft.id, "process_id": chosen.process_id, "file": filename[:255]},
            user=user,
        )
        return draft


def save_draft(
    draft_id: int, revision: int, user: User, *, bpmn_xml: str | None = None, files: dict[str, str] | None = None
) -> StudioDraft:
    """Save the diagram and/or some files of a draft made on ``revision``; returns the draft at its new
    revision. Another save since ``revision`` refuses this one (``Conflict``, naming who and when); a
    diagram that is not BPMN XML, and a file name with a path, are refused and nothing is saved."""
    if bpmn_xml is not None:
        _processes_of(bpmn_xml)
    for name in files or {}:
        if not valid_file_name(name):
            raise InvalidInput({name: [BAD_FILE_NAME]})
    with write_transaction():
        # The draft row only: PostgreSQL cannot lock the outer-joined users its relationships load.
        query = select(StudioDraft).where(StudioDraft.id == draft_id).with_for_update(of=StudioDraft)
        draft = db.session.scalars(query).first()
        if draft is None or draft.status != "open":
            raise NotFound(Message("there is no open draft %(id)s", id=draft_id))
        if draft.revision != revision:
            raise Conflict(
                Message(
                    "%(who)s saved this draft at %(when)s, after the copy you edited; reload it to see their "
                    "changes (yours are not saved)",
                    who=draft.updated_by.label,
                    when=draft.updated_at.strftime("%Y-%m-%d %H:%M UTC"),
                )
            )
        if bpmn_xml is not None:
            draft.bpmn_xml = bpmn_xml
        if files:
            draft.files = {**draft.files, **files}
        draft.revision += 1
        draft.updated_by_id = user.id
        draft.updated_at = app_clock().now()
        db.session.flush()
        return draft


def discard_draft(draft_id: int, user: User) -> None:
    with write_transaction():
        draft = get_draft(draft_id)
        draft.status = "discarded"
        draft.updated_by_id = user.id
        draft.updated_at = app_clock().now()
        audit.record("studio_draft_discarded", {"draft": draft.id, "process_id": draft.process_id}, user=user)


def open_drafts_count() -> int:
    return int(db.session.scalar(select(func.count(StudioDraft.id)).where(StudioDraft.status == "open")) or 0)


def _new_draft(
    process_id: str,
    title: str,
    bpmn_xml: str,
    files: dict[str, Any],
    user: User,
    *,
    base_definition_id: int | None,
    source_name: str | None = None,
) -> StudioDraft:
    now = app_clock().now()
    draft = StudioDraft(
        process_id=process_id,
        title=title[:200] or process_id,
        status="open",
        bpmn_xml=bpmn_xml,
        files=dict(files),
        base_definition_id=base_definition_id,
        source_name=source_name,
        revision=1,
        created_by_id=user.id,
        created_at=now,
        updated_by_id=user.id,
        updated_at=now,
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def _diagram_text(data: bytes, filename: str) -> str:
    if not data:
        raise InvalidInput({"file": [Message("The file is empty; choose a .bpmn file.")]})
    if len(data) > MAX_DIAGRAM_BYTES:
        raise InvalidInput({"file": [Message("The file is larger than 2 MB; a BPMN diagram is far smaller.")]})
    try:
        return decode_bpmn(data)
    except DiagramError as exc:
        raise InvalidInput({"file": [why for _element, why in exc.problems]}) from exc


def _processes_of(text: str) -> tuple[ProcessInfo, ...]:
    try:
        root = etree.fromstring(text.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(
            {"file": [Message("The file is not XML (line %(line)s): %(error)s", line=exc.lineno, error=exc.msg)]}
        ) from exc
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise InvalidInput(
            {"file": [Message("The file is XML but not a BPMN 2.0 diagram: its root is not bpmn:definitions.")]}
        )
    found = list_processes(text)
    if not found:
        raise InvalidInput({"file": [Message("The diagram defines no process.")]})
    return found


def _choose(found: tuple[ProcessInfo, ...], process_id: str | None) -> ProcessInfo:
    if process_id:
        for info in found:
            if info.process_id == process_id:
                return info
        raise InvalidInput({"process_id": [Message("The diagram has no process %(process)s.", process=process_id)]})
    if len(found) == 1:
        return found[0]
    raise ChooseProcess(found)
