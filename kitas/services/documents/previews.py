"""PDF pages as PNG pictures for the officers' workspace, rendered on the server with pypdfium2, so a preview
works in every browser (a phone's browser often shows no PDF inline). Pictures are cached on disk by the
document's SHA-256 (``KITAS_PREVIEW_DIR``): the same bytes render once, whoever uploads them. Only officers
who may see the case get them (the documents' own rule, ``can_see_case``), each page view audited."""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pypdfium2 as pdfium
from flask import current_app
from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import Application, Document, User
from ...transactions import write_transaction
from .. import audit
from ..audit.refusals import record_refusal
from ..cases.access import OFFICER_ROLES, another_office, can_see_case
from ..errors import NotFound
from .uploads import verified_copy

log = logging.getLogger(__name__)

MAX_PAGES = 30  # pages shown of one document; the rest is in the download
MAX_EDGE = 1600  # pixels of a page picture's longer side
SCALE = 2.0  # 144 dpi, sharp enough to read a passport's small print when zoomed


def _folder() -> Path:
    folder = Path(current_app.config["KITAS_PREVIEW_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all (two requests may render the same page at once)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def page_counts(documents: Iterable[Document]) -> dict[str, int]:
    """How many pages of each PDF the workspace shows (at most MAX_PAGES), by public id; 0 when the file
    cannot be read (the page then offers the download)."""
    counts = {}
    for document in documents:
        if document.content_type == "application/pdf":
            try:
                counts[document.public_id] = min(MAX_PAGES, _count(document))
            except Exception as exc:  # noqa: BLE001 - a preview that cannot be made never breaks the task page
                log.warning("document %s: no preview: %s", document.public_id, exc)
                counts[document.public_id] = 0
    return counts


def _count(document: Document) -> int:
    cached = _folder() / f"{document.sha256}.json"
    if cached.exists():
        return int(json.loads(cached.read_text())["pages"])
    with verified_copy(document) as content:
        pdf = pdfium.PdfDocument(content.read())
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    _write(cached, json.dumps({"pages": pages}).encode())
    return pages


def page_picture(public_id: str, page: int, user: User) -> bytes:
    """The PNG of one page (counted from 1) of a PDF document, for an officer who may see its case."""
    document = db.session.scalars(select(Document).where(Document.public_id == public_id)).first()
    application = db.session.get(Application, document.application_id) if document is not None else None
    officer = any(user.has_role(role) for role in OFFICER_ROLES)
    if document is None or application is None or not officer or not can_see_case(application, user):
        reason = "no such document, or no officer of its case (preview)"
        if application is not None and officer and another_office(application, user):
            reason = f"the document's case {application.reference} belongs to another office (preview)"
        record_refusal(user, "document", public_id[:100], reason)
        raise NotFound(Message("there is no such document"))
    if document.content_type != "application/pdf" or not 1 <= page <= MAX_PAGES:
        raise NotFound(Message("this document has no such page"))
    cached = _folder() / f"{document.sha256}-{page}.png"
    if cached.exists():
        picture = cached.read_bytes()
    else:
        picture = _render(document, page)
        _write(cached, picture)
    with write_transaction():
        audit.record(
            "document_viewed",
            {"case": application.reference, "document": document.public_id, "field": document.field, "page": page},
            user=user,
            application_id=application.id,
        )
    return picture


def _render(document: Document, page: int) -> bytes:
    with verified_copy(document) as content:
        pdf = pdfium.PdfDocument(content.read())
    try:
        if page > len(pdf):
            raise NotFound(Message("this document has no such page"))
        sheet = pdf[page - 1]
        try:
            width, height = sheet.get_size()
            scale = min(SCALE, MAX_EDGE / max(width, height, 1))
            image = sheet.render(scale=scale).to_pil()
        finally:
            sheet.close()
    finally:
        pdf.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
