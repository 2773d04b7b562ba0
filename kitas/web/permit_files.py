"""How a permit's PDF is served: a download with a safe name, never cached, never run as a page."""

from __future__ import annotations

import io

from flask import Response, send_file

from kitas.services.permits.downloads import PermitFile


def pdf_response(permit: PermitFile) -> Response:
    """The PDF as an attachment (``KITAS-<number>.pdf``), private and not stored by caches."""
    response = send_file(
        io.BytesIO(permit.data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=permit.name,
        conditional=False,
        etag=False,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response
