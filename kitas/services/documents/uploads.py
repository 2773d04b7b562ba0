"""Document uploads: store the files that pass the checks, and open them only for people who may see the case."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import secrets
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from flask import current_app
from PIL import Image, ImageStat
from sqlalchemy import select

import forms
from forms.texts import Message

from ...adapters.storage import StoredFileMissing, new_storage_key
from ...extensions import app_clock, db
from ...models import Application, Document, User
from ...transactions import write_transaction
from .. import audit
from ..audit.refusals import record_refusal
from ..cases.access import another_office, can_see_case
from ..cases.unit_of_work import CaseStep, case_step
from ..errors import Conflict, Forbidden, NotFound, ServiceError, Unavailable
from .file_checks import CheckedUpload, UploadRejected, check_upload, clean_filename
from .store import document_store

log = logging.getLogger(__name__)

# A form field name an upload may be filed under.
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
# A document being served is read from the store in chunks of this size, into memory up to _SPOOL_MEMORY
# and into a temporary file beyond, while its size and SHA-256 are checked; only a file that matches is sent.
_CHUNK = 64 * 1024
_SPOOL_MEMORY = 1024 * 1024
STORE_DOWN = Message(
    "The file could not be stored because the document store cannot be reached right now. "
    "Nothing was lost on your side: try again in a few minutes."
)


@dataclass
class StoreResult:
    """What store_uploads did: the stored documents and the refusals, both by form field."""

    stored: dict[str, Document] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class PreparedUploads:
    """Files that passed the checks and are already in the store (not yet documents), and the refusals."""

    accepted: dict[str, tuple[str, int, CheckedUpload, str]] = field(default_factory=dict)  # name, size, check, key
    errors: dict[str, list[str]] = field(default_factory=dict)

    def discard(self) -> None:
        """Remove the stored files again (the step that was to add their rows failed)."""
        store = document_store()
        for _name, _size, _checked, key in self.accepted.values():
            try:
                store.delete(key)
            except OSError:  # the sweep removes it later: it has no document row
                log.warning("could not remove %s from %s after a failed step", key, store.description)
        self.accepted.clear()


def upload_limit() -> int:
    """The largest file accepted for any document, in bytes (``KITAS_MAX_UPLOAD_BYTES``)."""
    return int(current_app.config["KITAS_MAX_UPLOAD_BYTES"])


def prepare_uploads(
    uploads: Mapping[str, tuple[str, bytes]], rules: Mapping[str, Iterable[Mapping[str, Any]]] | None = None
) -> PreparedUploads:
    """Check every file and put the good ones in the store, before any case is locked (writing takes time).

    What is stored is what the checks return (images encoded afresh); a file the store cannot take is
    refused for its field with a "try again" message, the others go on. ``rules`` are the form's
    ``image`` rules by field (``forms.file_rules``): a file that passes the checks but not its field's
    rules (format, size, pixels) is refused for that field.
    """
    prepared = PreparedUploads()
    max_bytes = upload_limit()
    checked: dict[str, tuple[str, CheckedUpload]] = {}
    for form_field, (filename, data) in uploads.items():
        if not _FIELD.match(form_field):
            prepared.errors.setdefault(form_field, []).append(
                Message("This is not a document of this form; reload the page.")
            )
            continue
        try:
            check = check_upload(filename, data, max_bytes)
        except UploadRejected as exc:
            prepared.errors.setdefault(form_field, []).append(exc.message)
            continue
        refused = forms.file_errors((rules or {}).get(form_field, ()), _facts(check, len(data)))
        if refused:
            prepared.errors.setdefault(form_field, []).extend(refused)
            continue
        checked[form_field] = (clean_filename(filename), check)
    store = document_store()
    try:
        for form_field, (name, check) in checked.items():
            key = new_storage_key()
            try:
                store.put(key, check.data)
            except OSError as exc:
                log.error("could not store an upload in %s: %s", store.description, exc)
                prepared.errors.setdefault(form_field, []).append(STORE_DOWN)
                continue
            prepared.accepted[form_field] = (name, check.size, check, key)
    except BaseException:
        prepared.discard()
        raise
    return prepared


def _facts(check: CheckedUpload, uploaded_size: int) -> forms.FileFacts:
    """What a form's file rules look at: the format, the size as uploaded, and an image's pixels and how
    light its edges (the background of a photo) are."""
    kind = check.content_type.rsplit("/", 1)[-1]
    width = height = None
    edges: float | None = None
    if check.content_type.startswith("image/"):
        with Image.open(io.BytesIO(check.data)) as image:
            width, height = image.size
            edges = edge_lightness(image)
    return forms.FileFacts(format=kind, size=uploaded_size, width=width, height=height, edge_lightness=edges)


# The strips along the four sides whose lightness stands for a photo's background: a twentieth of each side.
EDGE_SHARE = 20


def edge_lightness(image: Image.Image) -> float:
    """The mean lightness (0-255) of the picture's four edge strips: a white background is close to 255."""
    grey = image.convert("L")
    width, height = grey.size
    band_x, band_y = max(1, width // EDGE_SHARE), max(1, height // EDGE_SHARE)
    strips = [(0, 0, width, band_y), (0, height - band_y, width, height), (0, 0, band_x, height)]
    strips.append((width - band_x, 0, width, height))
    means = [(ImageStat.Stat(grey.crop(box)).mean[0], (box[2] - box[0]) * (box[3] - box[1])) for box in strips]
    return sum(mean * area for mean, area in means) / sum(area for _, area in means)


def add_documents(step: CaseStep, user: User, task_id: str | None, prepared: PreparedUploads) -> dict[str, Document]:
    """Add the rows of prepared files to a case, inside its step; only its applicant may, while it is open."""
    _check_applicant(step.application, user)
    if task_id is not None and task_id not in step.tasks():
        raise Conflict(
            Message("this step is no longer open, so nothing was uploaded; reload the page to see the current step")
        )
    return {
        form_field: _add_document(step, user, task_id, form_field, name, size, checked, key)
        for form_field, (name, size, checked, key) in prepared.accepted.items()
    }


def store_uploads(
    application_id: int, user: User, task_id: str | None, uploads: Mapping[str, tuple[str, bytes]]
) -> StoreResult:
    """Check every file and store the good ones for a case of ``user`` (the applicant) in one step."""
    _check_may_upload(application_id, user)
    prepared = prepare_uploads(uploads)
    result = StoreResult(errors=prepared.errors)
    if not prepared.accepted:
        return result
    try:
        with case_step(application_id) as step:
            result.stored = add_documents(step, user, task_id, prepared)
    except BaseException:
        prepared.discard()
        raise
    return result


def _add_document(
    step: CaseStep,
    user: User,
    task_id: str | None,
    form_field: str,
    name: str,
    size: int,
    checked: CheckedUpload,
    key: str,
) -> Document:
    """Add the row of one stored file and its audit entry (inside the case's step)."""
    document = Document(
        public_id=secrets.token_urlsafe(24),
        application_id=step.application.id,
        uploaded_by_id=user.id,
        field=form_field,
        task_id=task_id,
        original_name=name,
        content_type=checked.content_type,
        size=size,
        sha256=checked.sha256,
        storage_key=key,
        uploaded_at=app_clock().now(),
    )
    db.session.add(document)
    # Never the content, nor the file name (names often carry personal data).
    step.audit(
        "document_uploaded",
        {
            "document": document.public_id,
            "field": form_field,
            "task_id": task_id,
            "content_type": checked.content_type,
            "size": size,
            "sha256": checked.sha256,
        },
        user=user,
    )
    return document


def _check_may_upload(application_id: int, user: User) -> None:
    application = db.session.get(Application, application_id)
    if application is None or not can_see_case(application, user):
        record_refusal(user, "application", application_id, "not the applicant's case (upload)")
        raise NotFound(Message("there is no such application"))
    try:
        _check_applicant(application, user)
    except Forbidden as exc:
        record_refusal(user, "application", application_id, str(exc))
        raise


def _check_applicant(application: Application, user: User) -> None:
    if application.applicant_id != user.id:
        raise Forbidden(
            Message("only the applicant of %(reference)s may upload its documents", reference=application.reference)
        )
    if application.closed_at is not None:
        raise Conflict(
            Message("case %(reference)s is closed; documents can no longer be added", reference=application.reference)
        )


def documents_by_public_ids(ids: Iterable[str], *, application_id: int | None = None) -> dict[str, Document]:
    """The documents with these public ids (only those of ``application_id`` when given), by public id."""
    wanted = {value for value in ids if isinstance(value, str) and value}
    if not wanted:
        return {}
    query = select(Document).where(Document.public_id.in_(sorted(wanted)))
    if application_id is not None:
        query = query.where(Document.application_id == application_id)
    return {document.public_id: document for document in db.session.scalars(query)}


def open_document(public_id: str, user: User) -> tuple[Document, IO[bytes]]:
    """A document and a stream of its verified bytes (the caller closes it) for the applicant, the case's
    sponsor or an officer; the view is audited."""
    document = db.session.scalars(select(Document).where(Document.public_id == public_id)).first()
    application = db.session.get(Application, document.application_id) if document is not None else None
    if document is None or application is None or not can_see_case(application, user):
        reason = "no such document, or not allowed to see its case"
        if application is not None and another_office(application, user):
            reason = f"the document's case {application.reference} belongs to another office"
        record_refusal(user, "document", public_id[:100], reason)
        raise NotFound(Message("there is no such document"))
    content = verified_copy(document)
    try:
        with write_transaction():
            audit.record(
                "document_viewed",
                {"case": application.reference, "document": document.public_id, "field": document.field},
                user=user,
                application_id=application.id,
            )
    except BaseException:
        content.close()
        raise
    return document, content


def verified_copy(document: Document) -> IO[bytes]:
    """The stored bytes of ``document``, read in chunks into a spooled file, checked for size and SHA-256."""
    store = document_store()
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY)
    digest, size = hashlib.sha256(), 0
    try:
        with store.open(document.storage_key) as stream:
            while size <= document.size and (chunk := stream.read(_CHUNK)):
                size += len(chunk)
                digest.update(chunk)
                spool.write(chunk)
    except StoredFileMissing as exc:
        spool.close()
        log.error("document %s: file %s missing from %s", document.public_id, document.storage_key, store.description)
        raise ServiceError(
            Message(
                "the file of this document is missing from the store; ask the applicant to upload it again "
                "and tell the service desk"
            )
        ) from exc
    except OSError as exc:
        spool.close()
        log.error("document %s: %s", document.public_id, exc)
        raise Unavailable(
            Message("the document store cannot be reached right now; try again in a few minutes")
        ) from exc
    except BaseException:
        spool.close()
        raise
    if size != document.size or digest.hexdigest() != document.sha256:
        spool.close()
        log.error(
            "document %s: the stored file %s does not match its row (size %d, expected %d)",
            document.public_id,
            document.storage_key,
            size,
            document.size,
        )
        raise ServiceError(
            Message("the stored file no longer matches its fingerprint and is not shown; tell the service desk")
        )
    spool.seek(0)
    return spool
