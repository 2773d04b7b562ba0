"""The holder's photo, read from the case's uploaded documents (key ``photo``) through the document store."""

from __future__ import annotations

import hashlib
import io
import logging

from PIL import Image
from sqlalchemy import select

from ...extensions import db
from ...models import Document
from ..documents.store import document_store

log = logging.getLogger(__name__)

PHOTO_FIELD = "photo"


def holder_photo(application_id: int) -> bytes | None:
    """The bytes of the case's newest ``photo`` document, checked against its fingerprint; None without one."""
    document = db.session.scalars(
        select(Document)
        .where(Document.application_id == application_id, Document.field == PHOTO_FIELD)
        .where(Document.content_type.in_(("image/jpeg", "image/png")))
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    ).first()
    if document is None:
        return None
    try:
        data = document_store().get(document.storage_key)
    except OSError:  # missing or unreachable: the permit shows the placeholder rather than fail
        log.warning("the photo %s of case %s cannot be read from the store", document.public_id, application_id)
        return None
    if len(data) != document.size or hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("the photo %s no longer matches its fingerprint; not shown", document.public_id)
        return None
    return data


def thumbnail(data: bytes, size: tuple[int, int] = (120, 160)) -> bytes:
    """A small JPEG of a photo, its pixels encoded afresh (nothing of the upload rides along)."""
    with Image.open(io.BytesIO(data)) as image:
        picture = image.convert("RGB")
    picture.thumbnail(size)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()
