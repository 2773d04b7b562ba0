"""Routes of the documents blueprint: serve a stored document to someone allowed to see its case."""

from __future__ import annotations

import re

from flask import Blueprint, Response, request, send_file

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


def download_name(original_name: str, content_type: str) -> str:
    """The name a served document carries: the uploaded one without folders or control characters,
    with the extension of its type when its own is not a plain one (``document.pdf`` if nothing is left).
    """
    name = clean_filename(original_name)
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if not re.fullmatch(r"[A-Za-z0-9]{1,5}", extension):
        extension = _EXTENSION.get(content_type, "bin")
    return f"{stem or 'document'}.{extension}"


@bp.get("/<public_id>")
def show(public_id: str) -> Response:
    """Serve a document inline (previews in an iframe or img) or, with ``?download=1``, as a download.

    The body is streamed from the verified copy the service hands over (size and SHA-256 already checked).
    """
    document, content = documents.open_document(public_id, signed_in_user())
    # Werkzeug writes the Content-Disposition: the UTF-8 name in filename* with an ASCII fallback.
    # Not conditional: a range or revalidation request would be a new, audited view of the whole file.
    response = send_file(
        content,
        mimetype=document.content_type,
        as_attachment=request.args.get("download") == "1",
        download_name=download_name(document.original_name, document.content_type),
        conditional=False,
        etag=False,
    )
    response.content_length = document.size
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = (
        _PDF_POLICY if document.content_type == "application/pdf" else _IMAGE_POLICY
    )
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/<public_id>/pages/<int:page>.png")
def preview(public_id: str, page: int) -> Response:
    """One page of a PDF document as a picture, for the officers' workspace (rendered and cached by the service)."""
    picture = documents.page_picture(public_id, page, signed_in_user())
    response = Response(picture, mimetype="image/png")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = _IMAGE_POLICY
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
