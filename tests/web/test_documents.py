"""Serving documents over HTTP: who may open them, and the headers that keep them harmless.

Tests that take ``stored_files`` run on the local disk and in a bucket of a real S3-compatible server.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.http import parse_options_header

from kitas.extensions import db
from kitas.models import AuditEvent, Document
from kitas.services import cases, documents
from kitas.web.documents.routes import download_name
from tests import uploads
from tests.factories import make_user
from tests.stores import StoredFiles

Login = Callable[[Any], FlaskClient]


@pytest.fixture()
def upload_dir(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty KITAS_UPLOAD_DIR for one test."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "KITAS_UPLOAD_DIR", str(folder))
    return folder


def _upload(users: dict[str, Any], name: str, data: bytes) -> Document:
    application = cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")
    result = documents.store_uploads(application.id, users["applicant"], None, {"passport_scan": (name, data)})
    assert result.errors == {}
    return result.stored["passport_scan"]


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("who", ["applicant", "sponsor", "verifier", "supervisor"])
def test_people_of_the_case_see_the_document_inline(
    worker: int, users: dict[str, Any], stored_files: StoredFiles, login_as: Login, who: str
) -> None:
    data = uploads.pdf_of_size(1200)  # many chunks of the stream, and more than is spooled in memory
    assert len(data) > 1024 * 1024
    document = _upload(users, "passport.pdf", data)
    response = login_as(users[who]).get(f"/documents/{document.public_id}")
    assert response.status_code == 200 and response.is_streamed
    assert response.data == data and response.mimetype == "application/pdf"
    assert response.content_length == len(data)
    assert response.headers["Content-Disposition"].startswith("inline; ")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "object-src 'self'" in policy and "sandbox" not in policy
    assert "frame-ancestors 'self'" in policy
    assert [row.actor for row in _audit("document_viewed")] == [users[who].label]


def test_image_is_served_with_its_type_and_a_sandbox(
    worker: int, users: dict[str, Any], stored_files: StoredFiles, login_as: Login
) -> None:
    document = _upload(users, "nib.png", uploads.png_with_metadata_and_payload())
    response = login_as(users["verifier"]).get(f"/documents/{document.public_id}")
    assert response.status_code == 200 and response.data == stored_files.read(document.storage_key)
    assert uploads.PAYLOAD not in response.data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Security-Policy"].endswith("; sandbox")


def test_download_has_a_safe_disposition_for_a_hostile_name(
    worker: int, users: dict[str, Any], upload_dir: Path, login_as: Login
) -> None:
    document = _upload(users, '../../evil"\r\n.pdf', uploads.pdf_bytes())
    assert document.original_name == 'evil".pdf'
    response = login_as(users["applicant"]).get(f"/documents/{document.public_id}?download=1")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="evil\\".pdf"'  # a quoted-string: the quote is escaped
    assert response.headers["X-Content-Type-Options"] == "nosniff"


_CONTENT = {".pdf": uploads.pdf_bytes, ".png": uploads.png_bytes, ".jpg": uploads.jpeg_bytes}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('../../evil"\r\n.pdf', 'inline; filename="evil\\".pdf"'),
        (
            "Paspor Ñoño 日本.pdf",
            "inline; filename=\"Paspor Nono .pdf\"; filename*=UTF-8''Paspor%20%C3%91o%C3%B1o%20%E6%97%A5%E6%9C%AC.pdf",
        ),
        ("日本.png", "inline; filename=.png; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png"),
        ("a;b=c%20.jpg", 'inline; filename="a;b=c%20.jpg"'),
        ("C:\\Users\\ana\\..\\scan.PDF", "inline; filename=scan.PDF"),
    ],
    ids=["traversal-quote-crlf", "accents-and-cjk", "cjk-only", "semicolon-percent", "windows-path"],
)
def test_content_disposition(
    worker: int, users: dict[str, Any], upload_dir: Path, login_as: Login, name: str, expected: str
) -> None:
    document = _upload(users, name, _CONTENT[name[-4:].lower()]())
    value = login_as(users["applicant"]).get(f"/documents/{document.public_id}").headers["Content-Disposition"]
    assert value == expected
    # What a browser reads: parse_options_header prefers filename* as RFC 6266 says.
    kind, options = parse_options_header(value)
    assert kind == "inline" and options["filename"] == document.original_name
    fallback = parse_options_header(value.partition("; filename*=")[0])[1]["filename"]
    assert fallback.isascii() and not any(c in fallback for c in "\\/\r\n")


def test_a_range_request_gets_the_whole_file_as_one_audited_view(
    worker: int, users: dict[str, Any], stored_files: StoredFiles, login_as: Login
) -> None:
    data = uploads.pdf_bytes()
    document = _upload(users, "passport.pdf", data)
    response = login_as(users["verifier"]).get(f"/documents/{document.public_id}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 200 and response.data == data
    assert "Accept-Ranges" not in response.headers and "ETag" not in response.headers
    assert len(_audit("document_viewed")) == 1


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("C:\\Users\\ana\\..\\scan.PDF", "application/pdf", "scan.PDF"),
        ("\\\\", "application/pdf", "document.pdf"),
        ("photo", "image/jpeg", "photo.jpg"),
        ("scan.p d f", "image/png", "scan.png"),
        ("日本.png", "image/png", "日本.png"),
    ],
    ids=["windows-path", "backslashes-only", "no-extension", "spaced-extension", "cjk"],
)
def test_download_name_keeps_the_name_and_a_plain_extension(name: str, content_type: str, expected: str) -> None:
    assert download_name(name, content_type) == expected


@pytest.mark.parametrize("who", ["other_applicant", "other_sponsor"])
def test_another_applicant_or_sponsor_gets_404_and_an_audit_row(
    worker: int, users: dict[str, Any], upload_dir: Path, login_as: Login, who: str
) -> None:
    document = _upload(users, "passport.pdf", uploads.pdf_bytes())
    # Another employer's sponsor with a confirmed address: only the address rule keeps them out.
    person = users[who] if who in users else make_user("sponsor", email="hr@other.co.id", confirmed=True)
    response = login_as(person).get(f"/documents/{document.public_id}")
    assert response.status_code == 404
    assert b"%PDF" not in response.data
    refused = _audit("access_refused")
    assert len(refused) == 1 and refused[0].actor == person.label
    assert refused[0].detail["object"] == "document" and refused[0].detail["id"] == document.public_id
    assert _audit("document_viewed") == []


def test_unknown_document_is_404(worker: int, users: dict[str, Any], upload_dir: Path, login_as: Login) -> None:
    assert login_as(users["verifier"]).get("/documents/no-such-document").status_code == 404


def test_signed_out_people_and_other_roles_are_kept_out(
    worker: int, users: dict[str, Any], upload_dir: Path, client: FlaskClient, login_as: Login
) -> None:
    document = _upload(users, "passport.pdf", uploads.pdf_bytes())
    response = client.get(f"/documents/{document.public_id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert b"%PDF" not in response.data
    response = login_as(users["analyst"]).get(f"/documents/{document.public_id}")
    assert response.status_code == 403 and b"%PDF" not in response.data
    assert _audit("document_viewed") == []


def test_a_tampered_file_is_not_sent_and_the_page_says_so(
    worker: int, users: dict[str, Any], stored_files: StoredFiles, login_as: Login
) -> None:
    data = uploads.pdf_bytes()
    document = _upload(users, "passport.pdf", data)
    stored_files.write(document.storage_key, data.replace(b"/MediaBox", b"/MediaBix"))
    response = login_as(users["verifier"]).get(f"/documents/{document.public_id}")
    assert response.status_code == 400 and b"%PDF" not in response.data
    assert b"no longer matches its fingerprint" in response.data
    assert _audit("document_viewed") == []


def test_an_unreachable_store_is_a_503_that_says_to_try_again(
    app: Flask,
    worker: int,
    users: dict[str, Any],
    stored_files: StoredFiles,
    login_as: Login,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.conftest import free_port

    document = _upload(users, "passport.pdf", uploads.pdf_bytes())
    if stored_files.kind == "s3":
        monkeypatch.setitem(app.config, "KITAS_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    else:
        path = Path(app.config["KITAS_UPLOAD_DIR"], document.storage_key)
        path.unlink()
        path.mkdir()  # reading it fails with an I/O error, as a disk that went away would
    response = login_as(users["verifier"]).get(f"/documents/{document.public_id}")
    assert response.status_code == 503 and b"try again in a few minutes" in response.data
