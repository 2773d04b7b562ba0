"""Routes of the documents blueprint: serve a stored document to someone allowed to see its case."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, request

from ...services import documents
from ...services.documents.file_checks import clean_filename
from ..access import require_roles, signed_in_user

bp = Blueprint("documents", __name__, url_prefix="/documents")
require_roles(bp, "applicant", "sponsor", "verifier", "supervisor")

_EXTENSION = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}

# Served files never run script, whatever is inside them:
# - default-src 'none' gives script-src 'none' (and nothing else loads), base-uri/form-action close the rest;
# - object-src 'self' is needed because Chrome shows a PDF by wrapping it in a page with an <embed> of this
#   same URL, and that page obeys this policy: 'none' (or default-src 'none' alone) leaves a grey box;
# - img-src 'self' lets the browser's own image page load the image it displays;
# - frame-ancestors 'self' lets our task pages preview documents in an <iframe>, no other site may;
# - `sandbox` is NOT used for PDFs: Chrome refuses to start its PDF viewer in a sandboxed document
#   (it shows "This page has been blocked"); images, which have no viewer, get it as an extra wall.
# PDF JavaScript runs inside the viewer's own isolated interpreter, not in our origin.
_PDF_POLICY = (
    "default-src 'none'; object-src 'self'; img-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
_IMAGE_POLICY = _PDF_POLICY + "; sandbox"


def content_disposition(original_name: str, content_type: str, *, attachment: bool) -> str:
    """A Content-Disposition value (RFC 6266): an ASCII ``filename`` fallback and the UTF-8 ``filename*``."""
    name = clean_filename(original_name)
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if not re.fullmatch(r"[A-Za-z0-9]{1,5}", extension):
        extension = _EXTENSION.get(content_type, "bin")
    # Letters with accents lose them; anything but a small safe set (no quotes, slashes, ';', '%') becomes '_'.
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"[^A-Za-z0-9 ._()-]+", "_", ascii_stem)
    ascii_stem = re.sub(r"_{2,}", "_", ascii_stem).strip(" ._-")[:100] or "document"
    full_name = f"{stem}.{extension}" if stem else f"document.{extension}"
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{ascii_stem}.{extension}\"; filename*=UTF-8''{quote(full_name, safe='')}"


@bp.get("/<public_id>")
def show(public_id: str) -> Response:
    """Serve a document inline (previews in an iframe or img) or, with ``?download=1``, as a download."""
    document, data = documents.open_document(public_id, signed_in_user())
    response = Response(data, mimetype=document.content_type)
    response.headers["Content-Disposition"] = content_disposition(
        document.original_name, document.content_type, attachment=request.args.get("download") == "1"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = (
        _PDF_POLICY if document.content_type == "application/pdf" else _IMAGE_POLICY
    )
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
