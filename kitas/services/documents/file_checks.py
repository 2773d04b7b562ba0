"""Checking an uploaded file: PDF, JPEG or PNG by extension and magic bytes, and a real open or decode.

PDFs with active content (pdf_content.py) are refused; images are stored as a fresh encoding of their
pixels (images.py), so what is stored, and hashed, is not always the uploaded bytes. Every refusal names
the problem in plain words and says what to do; nothing here stores anything.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfReader

from forms.texts import Message, listed

from ..errors import ServiceError
from . import pdf_content
from .images import reencode

MEGABYTE = 1024 * 1024
# Decoded page content a real document never comes near; a small compressed file can expand to gigabytes.
MAX_PDF_CONTENT_BYTES = 32 * MEGABYTE
# Far above any scan or phone photo (a 48 MP phone stores 12 MP by default), far below what hurts the server.
MAX_IMAGE_PIXELS = 40_000_000
# What the refusal of a PDF with active content says it found (pdf_content.REASONS), in that order.
_ACTIVE_CONTENT = {
    pdf_content.JAVASCRIPT: Message("contains JavaScript (a program that runs when the file is opened)"),
    pdf_content.XFA_FORM: Message("is an XFA form, which can run scripts"),
    pdf_content.AUTOMATIC_ACTION: Message("starts actions by itself when it is opened or used"),
    pdf_content.LAUNCH: Message("tries to start other programs or files (a launch action)"),
    pdf_content.EMBEDDED_FILE: Message("has other files attached or embedded in it"),
    pdf_content.TOO_COMPLEX: Message("is built of too many parts to be checked"),
}
PLAIN_PDF = Message(
    "For everyone's safety only plain PDFs are accepted: save it as a plain PDF by opening it and printing it "
    'to PDF (choose Print, then "Save as PDF" or "Microsoft Print to PDF" as the printer), '
    "then upload the new file."
)
PLAIN_PDF_ATTACHMENTS = Message(
    "For everyone's safety only plain PDFs are accepted: save it as a plain PDF by opening it and printing it "
    'to PDF (choose Print, then "Save as PDF" or "Microsoft Print to PDF" as the printer), '
    "then upload the new file. If the attached files are documents we ask for, upload each of them on its own."
)


@dataclass(frozen=True)
class FileKind:
    """A type of file we accept: its content type, file-name extensions and how people call it."""

    content_type: str
    extensions: tuple[str, ...]
    label: Message


PDF = FileKind("application/pdf", ("pdf",), Message("a PDF document"))
JPEG = FileKind("image/jpeg", ("jpg", "jpeg"), Message("a JPEG image"))
PNG = FileKind("image/png", ("png",), Message("a PNG image"))
ACCEPTED_KINDS = (PDF, JPEG, PNG)
_BY_EXTENSION = {ext: kind for kind in ACCEPTED_KINDS for ext in kind.extensions}


def accepted_formats() -> tuple[str, ...]:
    """The formats any document may be uploaded in, as people name them: ``("PDF", "JPEG", "PNG")``."""
    return tuple(kind.content_type.split("/")[1].upper() for kind in ACCEPTED_KINDS)


# What the first bytes say a file is; the refused kinds get a name people recognise.
_SIGNATURES: list[tuple[bytes, FileKind | Message]] = [
    (b"%PDF-", PDF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"PK\x03\x04", Message("a ZIP archive or an Office document (Word, Excel)")),
    (b"PK\x05\x06", Message("an empty ZIP archive")),
    (b"MZ", Message("a Windows program")),
    (b"\x7fELF", Message("a program")),
    (b"GIF8", Message("a GIF image")),
    (b"\x1f\x8b", Message("a compressed (gzip) archive")),
    (b"Rar!", Message("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", Message("a 7-Zip archive")),
    (b"II*\x00", Message("a TIFF image")),
    (b"MM\x00*", Message("a TIFF image")),
    (b"\xd0\xcf\x11\xe0", Message("an old Office document (Word, Excel)")),
]


class UploadRejected(ServiceError):
    """A file was refused; the message names the problem in plain words and says what to do."""


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed every check: the bytes to store (an image encoded afresh) and their SHA-256."""

    content_type: str
    extension: str
    sha256: str
    data: bytes

    @property
    def size(self) -> int:
        """The size of the bytes to store."""
        return len(self.data)


def megabytes(size: int) -> str:
    """A byte count as people read it: ``5 MB``, ``0.25 MB``."""
    text = f"{size / MEGABYTE:.2f}".rstrip("0").rstrip(".")
    return f"{text if text != '0' else '0.01'} MB"


def clean_filename(filename: str) -> str:
    """The last part of a file name without folders or control characters, at most 255 characters."""
    name = re.split(r"[/\\]", filename or "")[-1]
    # Cc: control characters (CR, LF, NUL); Cf: invisible format characters such as right-to-left override.
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if name in (".", ".."):
        return ""
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 254 - len(ext)] + dot + ext if dot and len(ext) <= 10 else name[:255]
    return name


def sniff(data: bytes) -> FileKind | Message:
    """What the content says the file is: an accepted kind, or a description of a refused one."""
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        if b"<svg" in head and b"<html" not in head:
            return Message("an SVG drawing")
        if b"html" in head or b"<script" in head:
            return Message("a web page (HTML)")
        return Message("an HTML or XML document")
    return Message("not a PDF, JPEG or PNG file")


def check_upload(filename: str, data: bytes, max_bytes: int) -> CheckedUpload:
    """Check a file by name, size, magic bytes and full decoding; raise UploadRejected naming the problem."""
    name = clean_filename(filename)
    if not name:
        raise UploadRejected(
            Message("The file has no name. Choose the file again from your device. Upload a PDF, JPEG or PNG file.")
        )
    if not data:
        raise UploadRejected(
            Message(
                "The file %(name)s is empty (0 bytes). Open it on your device to check it, save or scan it again, "
                "then upload it again.",
                name=name,
            )
        )
    if len(data) > max_bytes:
        size, limit = megabytes(len(data)), megabytes(max_bytes)
        if size == limit:
            raise UploadRejected(
                Message(
                    "The file %(name)s is just over the limit; the largest file accepted is %(limit)s. "
                    "Scan it at a lower resolution (150 to 300 dpi) or compress it, then upload it again.",
                    name=name,
                    limit=limit,
                )
            )
        raise UploadRejected(
            Message(
                "The file %(name)s is %(size)s; the largest file accepted is %(limit)s. "
                "Scan it at a lower resolution (150 to 300 dpi) or compress it, then upload it again.",
                name=name,
                size=size,
                limit=limit,
            )
        )
    stem, dot, extension = name.rpartition(".")
    extension = extension.lower() if dot else ""
    if not extension:
        raise UploadRejected(
            Message(
                "The file name %(name)s has no extension. Upload a PDF, JPEG or PNG file (.pdf, .jpg, .jpeg or .png).",
                name=name,
            )
        )
    claimed = _BY_EXTENSION.get(extension)
    if claimed is None:
        raise UploadRejected(
            Message(
                "Files of type .%(extension)s are not accepted (%(name)s). Upload a PDF, JPEG or PNG file.",
                extension=extension,
                name=name,
            )
        )
    actual = sniff(data)
    if isinstance(actual, Message):
        raise UploadRejected(
            Message(
                "The file %(name)s is named .%(extension)s but its content is %(actual)s. "
                "Upload a PDF, JPEG or PNG file of the document itself; a renamed file is refused.",
                name=name,
                extension=extension,
                actual=actual,
            )
        )
    if actual is not claimed:
        raise UploadRejected(
            Message(
                "The file %(name)s is named .%(extension)s but its content is %(actual)s. "
                "Rename it to .%(right)s or save it again as %(claimed)s, then upload it again.",
                name=name,
                extension=extension,
                actual=actual.label,
                right=actual.extensions[0],
                claimed=claimed.label,
            )
        )
    if actual is PDF:
        _check_pdf(name, data)
        stored = data
    else:
        stored = _check_image(name, data, actual)
    return CheckedUpload(actual.content_type, extension, hashlib.sha256(stored).hexdigest(), stored)


def active_content_message(name: str, reasons: set[str]) -> Message:
    """The refusal of a PDF with active content: what was found, and how to make a plain PDF of it."""
    found = [_ACTIVE_CONTENT[reason] for reason in pdf_content.REASONS if reason in reasons]
    advice = PLAIN_PDF_ATTACHMENTS if pdf_content.EMBEDDED_FILE in reasons else PLAIN_PDF
    return Message("The PDF %(name)s %(found)s. %(advice)s", name=name, found=listed(found), advice=advice)


def _check_pdf(name: str, data: bytes) -> None:
    damaged = Message(
        "The PDF %(name)s is damaged or incomplete and cannot be opened. "
        "Open it on your device to check it, save or scan it again, then upload it again.",
        name=name,
    )
    tail = data[-2048:]
    if b"%%EOF" not in tail or b"startxref" not in tail:
        raise UploadRejected(
            Message(
                "The PDF %(name)s is incomplete: its end is missing, so the upload or download was probably cut off. "
                "Save or scan it again, then upload it again.",
                name=name,
            )
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadRejected(
                Message(
                    "The PDF %(name)s is protected with a password. Save a copy without the password "
                    "(for example with Print to PDF), then upload it again.",
                    name=name,
                )
            )
        if len(reader.pages) == 0:
            raise UploadRejected(
                Message("The PDF %(name)s has no pages. Save or scan the document again, then upload it.", name=name)
            )
        unpacked = 0
        for page in reader.pages:
            _ = page.mediabox
            contents = page.get_contents()
            if contents is not None:
                unpacked += len(contents.get_data())
            if unpacked > MAX_PDF_CONTENT_BYTES:
                raise UploadRejected(
                    Message(
                        "The PDF %(name)s unpacks to more than %(limit)s of page content, far more than any scan or "
                        "letter needs. Print it to a new PDF or scan it again, then upload it.",
                        name=name,
                        limit=megabytes(MAX_PDF_CONTENT_BYTES),
                    )
                )
        reasons = pdf_content.active_content(reader, data)
        if reasons:
            raise UploadRejected(active_content_message(name, reasons))
    except UploadRejected:
        raise
    except Exception as exc:  # pypdf raises many kinds of error for a broken file; each means "damaged"
        raise UploadRejected(damaged) from exc


def _check_image(name: str, data: bytes, kind: FileKind) -> bytes:
    """Decode the image fully (bombs refused) and return its pixels encoded afresh (images.py)."""
    formats = {"JPEG", "MPO"} if kind is JPEG else {"PNG"}  # MPO: the multi-picture JPEG of many cameras
    damaged = Message(
        "The image %(name)s is damaged or incomplete and cannot be shown. "
        "Open it on your device to check it, save or take it again, then upload it again.",
        name=name,
    )
    bomb = Message(
        "The image %(name)s is too large in pixels (over %(megapixels)s megapixels) "
        "or is built to overload the server. Save it at a smaller size, then upload it again.",
        name=name,
        megapixels=MAX_IMAGE_PIXELS // 1_000_000,
    )
    try:
        # Our own pixel cap is the real guard; Pillow's bomb warning is turned into an error as a second one.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise UploadRejected(bomb)
                if probe.format not in formats:
                    raise UploadRejected(damaged)
                probe.verify()
            # verify() leaves the image unusable; decode it again, fully.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                return reencode(image, "JPEG" if kind is JPEG else "PNG")
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UploadRejected(bomb) from exc
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError ... for a broken file
        raise UploadRejected(damaged) from exc
