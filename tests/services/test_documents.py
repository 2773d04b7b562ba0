"""Document uploads through the service layer: checks, storage, access and the audit trail.

Tests that take ``stored_files`` run twice: on the local disk and in a bucket of a real S3-compatible
server (tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from kitas.adapters.storage import LocalDocumentStore, StoredFileMissing, check_key, new_storage_key, store_from_config
from kitas.extensions import db
from kitas.models import Application, AuditEvent, Document
from kitas.services import audit, cases, documents
from kitas.services.documents.file_checks import UploadRejected, check_upload, clean_filename, megabytes
from kitas.services.errors import Conflict, Forbidden, NotFound, ServiceError
from tests import uploads
from tests.services.helpers import open_task
from tests.stores import StoredFiles

MB = 1024 * 1024


@pytest.fixture()
def upload_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty KITAS_UPLOAD_DIR for one test."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "KITAS_UPLOAD_DIR", str(folder))
    return folder


@pytest.fixture()
def case(worker: int, users: dict[str, Any]) -> Application:
    """A worker case of users['applicant'] naming users['sponsor'] as its sponsor."""
    return cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _document_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(Document)) or 0)


GOOD: list[tuple[str, Callable[[], bytes], str]] = [
    ("passport.pdf", uploads.pdf_bytes, "application/pdf"),
    ("Photo.JPG", uploads.jpeg_bytes, "image/jpeg"),
    ("photo.jpeg", uploads.jpeg_bytes, "image/jpeg"),
    ("nib.PNG", uploads.png_bytes, "image/png"),
]


@pytest.mark.parametrize(("name", "build", "content_type"), GOOD, ids=[g[0] for g in GOOD])
def test_good_file_is_stored_under_a_generated_name(
    stored_files: StoredFiles,
    case: Application,
    users: dict[str, Any],
    name: str,
    build: Callable[[], bytes],
    content_type: str,
) -> None:
    data = build()
    result = documents.store_uploads(case.id, users["applicant"], None, {"passport_scan": (name, data)})
    assert result.errors == {}
    document = result.stored["passport_scan"]
    assert stored_files.keys() == [document.storage_key]
    stored = stored_files.read(document.storage_key)
    if content_type == "application/pdf":
        assert stored == data  # a PDF is stored as uploaded
    # The row describes the bytes stored (an image is stored encoded afresh, see test_images_are_...).
    assert (document.content_type, document.size, document.original_name) == (content_type, len(stored), name)
    assert document.sha256 == hashlib.sha256(stored).hexdigest()
    assert document.application_id == case.id and document.uploaded_by_id == users["applicant"].id
    assert name.rsplit(".", 1)[0].lower() not in document.storage_key.lower()

    row = _audit("document_uploaded")[0]
    assert row.actor == users["applicant"].label and row.application_id == case.id
    assert {k: row.detail[k] for k in ("field", "sha256", "size")} == {
        "field": "passport_scan",
        "sha256": document.sha256,
        "size": len(stored),
    }
    assert name not in str(row.detail)


def test_a_file_on_the_local_disk_is_private_and_outside_the_web_root(
    app: Flask, upload_dir: Path, case: Application, users: dict[str, Any]
) -> None:
    result = documents.store_uploads(
        case.id, users["applicant"], None, {"passport_scan": ("p.pdf", uploads.pdf_bytes())}
    )
    document = result.stored["passport_scan"]
    stored = _files(upload_dir)
    assert stored == [upload_dir.resolve() / document.storage_key]
    assert stat.S_IMODE(stored[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(stored[0].parent.stat().st_mode) == 0o700
    assert app.static_folder and not stored[0].is_relative_to(Path(app.static_folder).resolve())


BAD: list[tuple[str, Callable[[], bytes], str]] = [
    ("empty.pdf", lambda: b"", "is empty"),
    ("", uploads.pdf_bytes, "has no name"),
    ("C:\\fakepath\\", uploads.pdf_bytes, "has no name"),
    ("setup.pdf", uploads.exe_bytes, "named .pdf but its content is a Windows program"),
    ("page.html", uploads.html_bytes, "Files of type .html are not accepted"),
    ("page.pdf", uploads.html_bytes, "named .pdf but its content is a web page (HTML)"),
    ("bomb.png", uploads.zip_bytes, "named .png but its content is a ZIP archive"),
    ("bomb2.png", uploads.png_bomb, "too large in pixels"),
    ("cut.pdf", uploads.truncated_pdf, "incomplete: its end is missing"),
    ("broken.pdf", uploads.pdf_with_broken_body, "damaged or incomplete and cannot be opened"),
    ("locked.pdf", uploads.encrypted_pdf, "protected with a password"),
    ("blank.pdf", uploads.pdf_without_pages, "has no pages"),
    ("expands.pdf", uploads.pdf_content_bomb, "unpacks to more than 32 MB of page content"),
    ("cut.png", uploads.truncated_png, "damaged or incomplete and cannot be shown"),
    ("cut.jpg", uploads.truncated_jpeg, "damaged or incomplete and cannot be shown"),
    ("photo.jpg", uploads.png_bytes, "named .jpg but its content is a PNG image. Rename it to .png"),
    ("scan", uploads.pdf_bytes, "has no extension"),
    ("big.pdf", lambda: b"%PDF-1.7\n" + b"0" * (5 * MB), "is just over the limit; the largest file accepted is 5 MB"),
    ("huge.pdf", lambda: b"%PDF-1.7\n" + b"0" * (7 * MB), "is 7 MB; the largest file accepted is 5 MB"),
]


# Plain ids (no backslash or quote), so a node id can be passed back to pytest (mutmut does).
@pytest.mark.parametrize(
    ("name", "build", "message"), BAD, ids=[re.sub(r"[^\w.]+", "-", b[0]).strip("-") or "no-name" for b in BAD]
)
def test_bad_file_is_refused_with_a_clear_message_and_nothing_stored(
    upload_dir: Path, case: Application, users: dict[str, Any], name: str, build: Callable[[], bytes], message: str
) -> None:
    result = documents.store_uploads(case.id, users["applicant"], None, {"passport_scan": (name, build())})
    assert result.stored == {}
    assert list(result.errors) == ["passport_scan"]
    assert message in result.errors["passport_scan"][0]
    assert any(word in result.errors["passport_scan"][0] for word in ("Upload", "upload", "Choose", "Rename"))
    assert _document_count() == 0 and _files(upload_dir) == []
    assert _audit("document_uploaded") == []


def test_every_file_is_checked_and_the_good_ones_stored(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    result = documents.store_uploads(
        case.id,
        users["applicant"],
        None,
        {
            "passport_scan": ("passport.pdf", uploads.pdf_bytes()),
            "photo": ("photo.png", uploads.exe_bytes()),
            "company_nib": ("nib.html", uploads.html_bytes()),
            "sponsor_letter": ("letter.png", uploads.png_bytes()),
            "bad field!": ("x.pdf", uploads.pdf_bytes()),
        },
    )
    assert sorted(result.stored) == ["passport_scan", "sponsor_letter"]
    assert sorted(result.errors) == ["bad field!", "company_nib", "photo"]
    assert _document_count() == 2 and len(stored_files.keys()) == 2
    assert len(_audit("document_uploaded")) == 2


def test_size_limit_comes_from_the_configuration(
    app: Flask, upload_dir: Path, case: Application, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "KITAS_MAX_UPLOAD_BYTES", 100_000)
    big = uploads.noisy_png(250)
    assert len(big) > 100_000
    result = documents.store_uploads(
        case.id,
        users["applicant"],
        None,
        {"photo": ("photo.png", big), "passport_scan": ("p.png", uploads.png_bytes())},
    )
    assert "the largest file accepted is 0.1 MB" in result.errors["photo"][0]
    assert list(result.stored) == ["passport_scan"]


def test_check_upload_details() -> None:
    checked = check_upload("/home/ana/Scans/PASSPORT.PDF", uploads.pdf_bytes(), MB)
    assert (checked.content_type, checked.extension) == ("application/pdf", "pdf")
    with pytest.raises(UploadRejected, match="no name"):
        check_upload("   ", uploads.pdf_bytes(), MB)
    with pytest.raises(UploadRejected, match=r"named \.pdf but its content is not a PDF, JPEG or PNG file"):
        check_upload("notes.pdf", b"just some text\n", MB)
    with pytest.raises(UploadRejected, match="an SVG drawing"):
        check_upload("logo.png", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', MB)
    assert clean_filename('../../evil"\r\n.pdf') == 'evil".pdf'
    assert clean_filename("pass\u202eport.pdf") == "passport.pdf"
    assert clean_filename("a" * 300 + ".pdf").endswith("a.pdf") and len(clean_filename("a" * 300 + ".pdf")) == 255
    assert (megabytes(5 * MB), megabytes(MB // 4)) == ("5 MB", "0.25 MB")


def test_only_the_applicant_may_upload(upload_dir: Path, case: Application, users: dict[str, Any]) -> None:
    files = {"passport_scan": ("passport.pdf", uploads.pdf_bytes())}
    with pytest.raises(NotFound, match="^there is no such application$"):
        documents.store_uploads(case.id, users["other_applicant"], None, files)
    refused = _audit("access_refused")
    assert len(refused) == 1 and refused[0].actor == users["other_applicant"].label
    assert refused[0].detail == {"object": "application", "id": case.id, "reason": "not the applicant's case (upload)"}
    for who in ("sponsor", "verifier", "supervisor"):
        with pytest.raises(Forbidden, match="only the applicant"):
            documents.store_uploads(case.id, users[who], None, files)
    forbidden = _audit("access_refused")[1:]
    assert [(row.actor_id, row.detail) for row in forbidden] == [
        (
            users[who].id,
            {
                "object": "application",
                "id": case.id,
                "reason": f"only the applicant of {case.reference} may upload its documents",
            },
        )
        for who in ("sponsor", "verifier", "supervisor")
    ]
    from tests.factories import make_user

    # Another employer's confirmed sponsor may not even know the case exists: NotFound, not Forbidden.
    with pytest.raises(NotFound):
        documents.store_uploads(case.id, make_user("sponsor", email="hr@other.co.id", confirmed=True), None, files)
    with pytest.raises(NotFound):
        documents.store_uploads(case.id + 1000, users["applicant"], None, files)
    assert _document_count() == 0 and _files(upload_dir) == []


def test_a_closed_case_takes_no_more_documents(upload_dir: Path, case: Application, users: dict[str, Any]) -> None:
    case.closed_at = case.created_at
    db.session.commit()
    with pytest.raises(Conflict) as closed:
        documents.store_uploads(case.id, users["applicant"], None, {"photo": ("p.jpg", uploads.jpeg_bytes())})
    assert str(closed.value) == f"case {case.reference} is closed; documents can no longer be added"
    assert _document_count() == 0 and _files(upload_dir) == []


def test_files_are_removed_when_the_transaction_fails(
    stored_files: StoredFiles, case: Application, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_record(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit, "append_to_case", broken_record)  # the step fails after the files were stored
    with pytest.raises(RuntimeError):
        documents.store_uploads(
            case.id,
            users["applicant"],
            None,
            {"passport_scan": ("p.pdf", uploads.pdf_bytes()), "photo": ("p.jpg", uploads.jpeg_bytes())},
        )
    assert stored_files.keys() == []
    assert _document_count() == 0


def test_task_id_is_recorded_and_must_be_open(upload_dir: Path, case: Application, users: dict[str, Any]) -> None:
    task = open_task(case.id, "applicant_data")
    result = documents.store_uploads(
        case.id, users["applicant"], task.task_id, {"photo": ("p.jpg", uploads.jpeg_bytes())}
    )
    assert result.stored["photo"].task_id == task.task_id
    with pytest.raises(Conflict, match="no longer open"):
        documents.store_uploads(case.id, users["applicant"], "gone", {"photo": ("p.jpg", uploads.jpeg_bytes())})
    assert _document_count() == 1 and len(_files(upload_dir)) == 1


def test_documents_by_public_ids(upload_dir: Path, case: Application, users: dict[str, Any]) -> None:
    first = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("a.jpg", uploads.jpeg_bytes())})
    second = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("b.png", uploads.png_bytes())})
    other_case = cases.start_case("worker", users["other_applicant"])
    other = documents.store_uploads(
        other_case.id, users["other_applicant"], None, {"photo": ("c.pdf", uploads.pdf_bytes())}
    )
    ids = [first.stored["photo"].public_id, second.stored["photo"].public_id, other.stored["photo"].public_id]

    assert set(documents.documents_by_public_ids(ids + ["nope", ""])) == set(ids)
    assert set(documents.documents_by_public_ids([*ids, 7, None, ["x"]])) == set(ids)  # a form may hold anything
    assert set(documents.documents_by_public_ids(ids, application_id=case.id)) == set(ids[:2])
    assert documents.documents_by_public_ids([]) == {}


def test_owner_sponsor_and_officers_open_a_document(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    data = uploads.pdf_bytes(40)
    stored = documents.store_uploads(case.id, users["applicant"], None, {"passport_scan": ("p.pdf", data)})
    public_id = stored.stored["passport_scan"].public_id
    for who in ("applicant", "sponsor", "verifier", "supervisor"):
        document, content = documents.open_document(public_id, users[who])
        with content:
            assert content.read() == data and document.public_id == public_id
    viewed = _audit("document_viewed")
    assert [row.actor for row in viewed] == [users[w].label for w in ("applicant", "sponsor", "verifier", "supervisor")]
    assert viewed[0].detail == {"case": case.reference, "document": public_id, "field": "passport_scan"}
    assert {row.application_id for row in viewed} == {case.id}  # in the case's own chain, beside its steps


def test_others_get_not_found_and_the_refusal_is_audited(
    upload_dir: Path, case: Application, users: dict[str, Any]
) -> None:
    from tests.factories import make_user

    stored = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("p.jpg", uploads.jpeg_bytes())})
    public_id = stored.stored["photo"].public_id
    stranger_sponsor = make_user("sponsor", email="hr@other.co.id")
    # Another employer's sponsor whose address IS confirmed: only the address rule refuses them.
    confirmed_stranger = make_user("sponsor", email="hr@third.co.id", confirmed=True)
    for who in (users["other_applicant"], stranger_sponsor, confirmed_stranger, users["analyst"]):
        with pytest.raises(NotFound):
            documents.open_document(public_id, who)
    with pytest.raises(NotFound, match="^there is no such document$"):
        documents.open_document("does-not-exist", users["verifier"])
    with pytest.raises(NotFound):
        documents.open_document("x" * 150, users["verifier"])  # what is audited of a long id stays short
    refused = _audit("access_refused")
    assert refused.pop().detail == {
        "object": "document",
        "id": "x" * 100,
        "reason": "no such document, or not allowed to see its case",
    }
    assert [row.actor for row in refused] == [
        users["other_applicant"].label,
        stranger_sponsor.label,
        confirmed_stranger.label,
        users["analyst"].label,
        users["verifier"].label,
    ]
    assert refused[0].detail["object"] == "document" and refused[0].detail["id"] == public_id
    assert _audit("document_viewed") == []


def test_a_changed_or_missing_file_is_not_served(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    stored = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("p.jpg", uploads.jpeg_bytes())})
    document = stored.stored["photo"]
    original = stored_files.read(document.storage_key)
    stored_files.write(document.storage_key, uploads.png_bytes())
    with pytest.raises(ServiceError, match="no longer matches its fingerprint"):
        documents.open_document(document.public_id, users["applicant"])
    # Same size, one byte changed: the hash, not only the size, is checked.
    stored_files.write(document.storage_key, original[:-3] + bytes([original[-3] ^ 1]) + original[-2:])
    with pytest.raises(ServiceError, match="no longer matches its fingerprint"):
        documents.open_document(document.public_id, users["applicant"])
    # The right bytes followed by more: the size is checked while reading.
    stored_files.write(document.storage_key, original + b"\x00" * 10)
    with pytest.raises(ServiceError, match="no longer matches its fingerprint"):
        documents.open_document(document.public_id, users["applicant"])
    stored_files.remove(document.storage_key)
    with pytest.raises(ServiceError) as missing:
        documents.open_document(document.public_id, users["applicant"])
    assert str(missing.value) == (
        "the file of this document is missing from the store; ask the applicant to upload it again "
        "and tell the service desk"
    )
    assert _audit("document_viewed") == []
    stored_files.write(document.storage_key, original)
    _, content = documents.open_document(document.public_id, users["applicant"])
    with content:
        assert content.read() == original


def test_local_store(tmp_path: Path) -> None:
    store = LocalDocumentStore(tmp_path / "store")
    key = new_storage_key()
    assert check_key(key) == key and not store.exists(key)
    store.put(key, b"hello")
    assert store.exists(key) and store.get(key) == b"hello"
    store.put(key, b"again")
    assert store.get(key) == b"again"
    assert [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()] == [key.split("/")[1]]
    assert stat.S_IMODE((tmp_path / "store").stat().st_mode) == 0o700
    store.delete(key)
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(StoredFileMissing):
        store.get(key)
    for bad in ("../etc/passwd", "ab/../../x", "/etc/passwd", key.upper(), ""):
        with pytest.raises(ValueError):
            store.put(bad, b"x")


def test_store_inside_the_web_root_is_refused(tmp_path: Path) -> None:
    web_root = tmp_path / "static"
    with pytest.raises(RuntimeError, match="inside the web root"):
        store_from_config({"KITAS_UPLOAD_DIR": str(web_root / "uploads")}, web_root)
    assert isinstance(store_from_config({"KITAS_UPLOAD_DIR": str(tmp_path / "up")}, web_root), LocalDocumentStore)


def test_an_unreachable_store_refuses_the_upload_with_try_again_and_keeps_nothing(
    app: Flask,
    stored_files: StoredFiles,
    case: Application,
    users: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.conftest import free_port

    if stored_files.kind == "s3":
        monkeypatch.setitem(app.config, "KITAS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    else:
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the store's folder should be")
        monkeypatch.setitem(app.config, "KITAS_UPLOAD_DIR", str(blocker / "uploads"))
    result = documents.store_uploads(
        case.id, users["applicant"], None, {"passport_scan": ("p.pdf", uploads.pdf_bytes()), "photo": ("p.exe", b"MZ")}
    )
    assert result.stored == {} and _document_count() == 0
    assert result.errors["passport_scan"] == [documents.uploads.STORE_DOWN]
    assert "try again in a few minutes" in documents.uploads.STORE_DOWN
    assert "not accepted" in result.errors["photo"][0]  # the other files are still judged on their own
