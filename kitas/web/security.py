"""Response headers every page carries (OWASP ASVS level 2 baseline)."""

from __future__ import annotations

from flask import Flask, Response

# Scripts and styles come only from our own static folder (no inline script anywhere);
# documents may be previewed in a frame of our own origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-src 'self'; frame-ancestors 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
)


def register_security_headers(app: Flask) -> None:
    """Add CSP, anti-sniffing, framing, referrer and cache headers to every response."""

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            # Pages show personal data: never keep them in shared caches or the back-button cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response
