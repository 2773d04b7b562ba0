"""Error pages: every refusal says what went wrong and what to do next."""

from __future__ import annotations

import logging

from flask import Flask, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..services.errors import (
    DATABASE_UNAVAILABLE,
    CaseStateUnreadable,
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    Unavailable,
)
from .text import sentence

log = logging.getLogger(__name__)
# Seconds a client is asked to wait after a 503 (a database restart takes a few seconds).
RETRY_AFTER = 10

_SERVICE_STATUS: list[tuple[type[ServiceError], int, str]] = [
    (NotFound, 404, "Not found"),
    (Forbidden, 403, "Not allowed"),
    (Conflict, 409, "Someone else was first"),
    (CaseStateUnreadable, 500, "This case cannot be opened"),
    (Unavailable, 503, "Please try again shortly"),
    (ServiceError, 400, "This could not be done"),
]


def register_error_pages(app: Flask) -> None:
    """Render service errors, HTTP errors and CSRF failures as pages (JSON for API clients)."""

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> ResponseReturnValue:
        for kind, status, title in _SERVICE_STATUS:
            if isinstance(exc, kind):
                return _page(status, title, sentence(str(exc)))
        return _page(400, "This could not be done", sentence(str(exc)))  # pragma: no cover

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return _page(
            400,
            "The form expired",
            "The page you sent was too old or came from another site. Go back, reload the page and send it again.",
        )

    def _database_unavailable(exc: Exception) -> ResponseReturnValue:
        # One line, no traceback: the database's own log says why; this one says what the users saw.
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exc.__class__.__name__)
        title = "The service is briefly unavailable"
        message = (
            "We cannot reach our database right now, so nothing was shown or saved. "
            "Try again in a minute; if you were sending a form, send it again."
        )
        headers = {"Retry-After": str(RETRY_AFTER)}
        if _wants_json():
            return {"error": title, "message": message}, 503, headers
        # A page that needs nothing from the database: the usual layout and the context processors ask who
        # is signed in, so the template is rendered on its own.
        page = current_app.jinja_env.get_template("errors/unavailable.html")
        return page.render(title=title, message=message, request=request, url_for=url_for), 503, headers

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, _database_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        messages = {
            404: "There is no such page, or you may not see it. Check the address or go back to your dashboard.",
            413: "The upload is larger than the service accepts. Send smaller files, one document at a time.",
        }
        message = (exc.description or "") if status == 403 else messages.get(status, exc.description or "")
        return _page(status, exc.name, message)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.path.startswith(("/webhooks/", "/health"))


def _page(status: int, title: str, message: str) -> ResponseReturnValue:
    if _wants_json():
        return {"error": title, "message": message}, status
    return render_template("errors/error.html", title=title, message=message, status=status), status
