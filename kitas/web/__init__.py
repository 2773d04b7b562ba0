"""The web layer: one blueprint package per audience; routes parse input, call one service, render."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    """Register every blueprint, the error pages, template filters and security headers."""
    from . import access  # noqa: F401  (installs the session's user loader)
    from .admin import bp as admin_bp
    from .applicant import bp as applicant_bp
    from .auth import bp as auth_bp
    from .documents import bp as documents_bp
    from .errors import register_error_pages
    from .filters import register_filters
    from .officer import bp as officer_bp
    from .payment import bp as payment_bp
    from .public import bp as public_bp
    from .sandbox_bank import bp as sandbox_bank_bp
    from .security import register_security_headers
    from .sessions import IdleAwareSessionInterface
    from .sponsor import bp as sponsor_bp
    from .studio import bp as studio_bp
    from .webhooks import bp as webhooks_bp

    for bp in (
        public_bp,
        auth_bp,
        applicant_bp,
        sponsor_bp,
        officer_bp,
        admin_bp,
        studio_bp,
        documents_bp,
        payment_bp,
        webhooks_bp,
    ):
        app.register_blueprint(bp)
    if app.config["KITAS_PAYMENT_PROVIDER"] == "sandbox":
        # The sandbox bank stands in for a real bank; with a real provider it does not exist.
        app.register_blueprint(sandbox_bank_bp)
    app.session_interface = IdleAwareSessionInterface()
    register_error_pages(app)
    register_filters(app)
    register_security_headers(app)
