"""What an accepted file may carry: PDFs with active content are refused, images are stored as their pixels only."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from pypdf import PdfReader

from kitas.models import Application
from kitas.services import cases, documents
from kitas.services.documents import pdf_content
from kitas.services.documents.file_checks import UploadRejected, check_upload
from tests import uploads
from tests.stores import StoredFiles

MB = 1024 * 1024
PLAIN_PDF_ADVICE = "save it as a plain PDF by opening it and printing it to PDF"

REFUSED_PDFS: list[tuple[str, Callable[[], bytes], list[str]]] = [
    ("javascript", uploads.pdf_with_javascript, ["contains JavaScript"]),
    ("open-action-javascript", uploads.pdf_with_open_action_javascript, ["contains JavaScript", "by itself"]),
    ("open-action-uri", uploads.pdf_with_open_action_uri, ["starts actions by itself when it is opened"]),
    ("page-additional-action", uploads.pdf_with_page_additional_action, ["starts actions by itself"]),
    ("launch", uploads.pdf_with_launch_action, ["tries to start other programs or files (a launch action)"]),
    ("embedded-files", uploads.pdf_with_embedded_file, ["has other files attached or embedded in it"]),
    ("file-attachment", uploads.pdf_with_file_attachment_annotation, ["has other files attached or embedded"]),
    ("xfa", uploads.pdf_with_xfa_form, ["is an XFA form, which can run scripts"]),
    ("incremental-update", uploads.pdf_with_incremental_javascript, ["contains JavaScript"]),
    (
        "object-stream",
        lambda: uploads.pdf_in_object_stream(b"/OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
        ["contains JavaScript", "starts actions by itself"],
    ),
    ("outside-the-xref", uploads.pdf_with_object_outside_the_xref, ["a launch action"]),
    (
        "escaped-names",
        lambda: uploads.pdf_with_object_outside_the_xref(b"/S /J#61vaScript /J#53 (app.alert(1))"),
        ["contains JavaScript"],
    ),
]


@pytest.mark.parametrize(("kind", "build", "phrases"), REFUSED_PDFS, ids=[r[0] for r in REFUSED_PDFS])
def test_a_pdf_with_active_content_is_refused_naming_the_file_and_what_to_do(
    kind: str, build: Callable[[], bytes], phrases: list[str]
) -> None:
    with pytest.raises(UploadRejected) as refused:
        check_upload("Passport scan.pdf", build(), 5 * MB)
    message = refused.value.message
    assert message.startswith("The PDF Passport scan.pdf ")
    for phrase in phrases:
        assert phrase in message
    assert PLAIN_PDF_ADVICE in message and "then upload the new file" in message


def test_every_kind_found_is_named_once_in_a_stable_order() -> None:
    with pytest.raises(UploadRejected) as refused:
        check_upload("x.pdf", uploads.pdf_with_javascript_and_attachment(), 5 * MB)
    message = refused.value.message
    assert message.startswith(
        "The PDF x.pdf contains JavaScript (a program that runs when the file is opened), "
        "starts actions by itself when it is opened or used and has other files attached or embedded in it."
    )
    assert message.endswith("If the attached files are documents we ask for, upload each of them on its own.")


CLEAN_PDFS: list[tuple[str, Callable[[], bytes]]] = [
    ("blank", uploads.pdf_bytes),
    ("opens-at-a-destination", uploads.pdf_opening_at_a_destination),
    ("web-link", uploads.pdf_with_web_link),
    ("object-stream", uploads.pdf_in_object_stream),
    ("ten-pages", lambda: uploads.pdf_bytes(10)),
]


@pytest.mark.parametrize(("kind", "build"), CLEAN_PDFS, ids=[c[0] for c in CLEAN_PDFS])
def test_a_plain_pdf_is_accepted_as_uploaded(kind: str, build: Callable[[], bytes]) -> None:
    data = build()
    checked = check_upload("letter.pdf", data, 5 * MB)
    assert checked.data == data and checked.sha256 == hashlib.sha256(data).hexdigest()


def test_each_line_of_the_pdf_check_sees_on_its_own() -> None:
    # The parsed objects: JavaScript in an ASCII-hex object stream, which the raw scan cannot read.
    hidden = uploads.pdf_in_object_stream(b"/OpenAction << /S /JavaScript /JS (x) >>", hex_encoded=True)
    assert pdf_content.in_raw_bytes(hidden, open_action_explained=False) == set()
    found, _ = pdf_content.in_parsed_objects(PdfReader(io.BytesIO(hidden)))
    assert found == {pdf_content.JAVASCRIPT, pdf_content.AUTOMATIC_ACTION}
    # The raw bytes: an object no cross-reference table names, which pypdf never reads.
    unlisted = uploads.pdf_with_object_outside_the_xref()
    assert pdf_content.in_parsed_objects(PdfReader(io.BytesIO(unlisted))) == (set(), False)
    assert pdf_content.in_raw_bytes(unlisted, open_action_explained=False) == {pdf_content.LAUNCH}
    # ... and a deflated object stream, unpacked by the raw scan itself.
    packed = uploads.pdf_in_object_stream(b"/OpenAction << /S /Launch /F (x) >>")
    assert b"Launch" not in packed
    assert pdf_content.LAUNCH in pdf_content.in_raw_bytes(packed, open_action_explained=False)


def test_an_opening_destination_is_accepted_but_an_unexplained_open_action_is_not() -> None:
    data = uploads.pdf_opening_at_a_destination()
    assert pdf_content.in_parsed_objects(PdfReader(io.BytesIO(data))) == (set(), True)
    assert pdf_content.in_raw_bytes(data, open_action_explained=True) == set()
    assert pdf_content.in_raw_bytes(data, open_action_explained=False) == {pdf_content.AUTOMATIC_ACTION}


def test_a_pdf_of_too_many_objects_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_content, "MAX_OBJECTS", 3)
    with pytest.raises(UploadRejected, match="is built of too many parts to be checked"):
        check_upload("many.pdf", uploads.pdf_bytes(5), 5 * MB)


# --- images ---------------------------------------------------------------------------------------


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_a_jpeg_loses_gps_exif_comment_and_trailing_payload_and_stands_upright() -> None:
    data = uploads.jpeg_with_gps_and_payload(orientation=6)
    source = _open(data)
    assert source.getexif() and uploads.PAYLOAD in data and source.size == (120, 80)

    checked = check_upload("photo.jpg", data, 5 * MB)
    stored = _open(checked.data)
    assert stored.format == "JPEG" and checked.content_type == "image/jpeg"
    assert not stored.getexif() and "exif" not in stored.info and "comment" not in stored.info
    assert uploads.PAYLOAD not in checked.data and b"Exif" not in checked.data and b"PhoneMaker" not in checked.data
    # Orientation 6 (turn 90 degrees clockwise) applied to the pixels: the white corner is now top right.
    assert stored.size == (80, 120)
    assert _close(stored.getpixel((75, 5)), (255, 255, 255)) and _close(stored.getpixel((5, 5)), (200, 30, 30))
    assert checked.sha256 == hashlib.sha256(checked.data).hexdigest() != hashlib.sha256(data).hexdigest()


def test_a_png_loses_its_exif_text_and_trailing_payload_and_keeps_its_pixels() -> None:
    data = uploads.png_with_metadata_and_payload()
    checked = check_upload("scan.png", data, 5 * MB)
    stored = _open(checked.data)
    assert stored.format == "PNG" and not stored.getexif() and stored.info == {}
    assert uploads.PAYLOAD not in checked.data and b"Sudirman" not in checked.data
    assert ImageChops.difference(stored.convert("RGB"), _open(data).convert("RGB")).getbbox() is None  # lossless


def test_the_quality_of_a_photo_stays_close_to_the_upload() -> None:
    source = uploads.photo((400, 300))
    for x in range(0, 400, 7):  # some detail, as text on a scan has
        source.putpixel((x, (x * 3) % 300), (0, 0, 0))
    buffer = io.BytesIO()
    source.save(buffer, format="JPEG", quality=95)
    stored = _open(check_upload("p.jpg", buffer.getvalue(), 5 * MB).data)
    difference = ImageStat.Stat(ImageChops.difference(stored.convert("RGB"), _open(buffer.getvalue()).convert("RGB")))
    assert max(difference.mean) < 3  # mean difference per channel, out of 255


def test_a_colour_profile_is_applied_and_not_kept() -> None:
    data = uploads.jpeg_with_colour_profile()
    assert "icc_profile" in _open(data).info
    stored = _open(check_upload("p.jpg", data, 5 * MB).data)
    assert "icc_profile" not in stored.info
    assert _close(stored.getpixel((5, 5)), (255, 255, 255)) and _close(stored.getpixel((100, 70)), (200, 30, 30))


def test_a_decompression_bomb_is_still_refused_before_anything_is_encoded() -> None:
    with pytest.raises(UploadRejected, match="too large in pixels .* Save it at a smaller size"):
        check_upload("bomb.png", uploads.png_bomb(), 5 * MB)


def _close(pixel: Any, expected: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


@pytest.fixture()
def case(worker: int, users: dict[str, Any]) -> Application:
    """A worker case of users['applicant']."""
    return cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")


def test_the_row_holds_the_hash_of_the_stored_image_and_the_store_holds_no_metadata(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    data = uploads.jpeg_with_gps_and_payload()
    result = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("photo.jpg", data)})
    document = result.stored["photo"]
    stored = stored_files.read(document.storage_key)
    assert document.sha256 == hashlib.sha256(stored).hexdigest() and document.size == len(stored)
    assert uploads.PAYLOAD not in stored and b"Exif" not in stored and not _open(stored).getexif()
    _, content = documents.open_document(document.public_id, users["verifier"])
    with content:
        assert content.read() == stored


def test_a_pdf_with_javascript_is_refused_through_the_service_and_nothing_is_stored(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    result = documents.store_uploads(
        case.id, users["applicant"], None, {"passport_scan": ("passport.pdf", uploads.pdf_with_javascript())}
    )
    assert result.stored == {} and "The PDF passport.pdf contains JavaScript" in result.errors["passport_scan"][0]
    assert stored_files.keys() == []
