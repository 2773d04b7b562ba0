"""Error pages: every refusal says what went wrong and what to do next, in the reader's language.

Pages are in the reader's language; JSON answers (webhooks, health, API clients) are in English,
the language machines and their logs read.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..i18n import DEFAULT_LANGUAGE, LANGUAGE_COOKIE, LANGUAGES, in_language
from ..services.errors import (
    DATABASE_UNAVAILABLE,
    CaseStateUnreadable,
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    Unavailable,
)
from .text import said

log = logging.getLogger(__name__)
# Seconds a client is asked to wait after a 503 (a database restart takes a few seconds).
RETRY_AFTER = 10

_SERVICE_STATUS: list[tuple[type[ServiceError], int, Any]] = [
    (NotFound, 404, _l("Not found")),
    (Forbidden, 403, _l("Not allowed")),
    (Conflict, 409, _l("Someone else was first")),
    (CaseStateUnreadable, 500, _l("This case cannot be opened")),
    (Unavailable, 503, _l("Please try again shortly")),
    (ServiceError, 400, _l("This could not be done")),
]

# The titles of HTTP errors (Werkzeug's English names are the message ids, so English pages read as before).
_HTTP_TITLES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}
_HTTP_MESSAGES = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    404: _l("There is no such page, or you may not see it. Check the address or go back to your dashboard."),
    405: _l("This page cannot be used this way. Go back and use the page's own buttons and links."),
    413: _l("The upload is larger than the service accepts. Send smaller files, one document at a time."),
    429: _l("Too many requests in a short time. Wait a minute, then try again."),
    500: _l("Something went wrong on our side. Try again in a minute; if it keeps happening, contact us."),
}


def register_error_pages(app: Flask) -> None:
    """Render service errors, HTTP errors and CSRF failures as pages (JSON for API clients)."""

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError) -> ResponseReturnValue:
        for kind, status, title in _SERVICE_STATUS:
            if isinstance(exc, kind):
                return _page(status, title, lambda: said(exc))
        return _page(400, _l("This could not be done"), lambda: said(exc))  # pragma: no cover

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> ResponseReturnValue:
        return _page(
            400,
            _l("The form expired"),
            _l("The page you sent was too old or came from another site. Go back, reload the page and send it again."),
        )

    def _database_unavailable(exc: Exception) -> ResponseReturnValue:
        # One line, no traceback: the database's own log says why; this one says what the users saw.
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exc.__class__.__name__)
        title = _l("The service is briefly unavailable")
        message = _l(
            "We cannot reach our database right now, so nothing was shown or saved. "
            "Try again in a minute; if you were sending a form, send it again."
        )
        headers = {"Retry-After": str(RETRY_AFTER)}
        if _wants_json():
            with force_locale("en"):
                return {"error": str(title), "message": str(message)}, 503, headers
        # A page that needs nothing from the database: the usual layout and the context processors ask who
        # is signed in, so the template is rendered on its own, in the language the browser chose.
        page = current_app.jinja_env.get_template("errors/unavailable.html")
        with in_language(_language_without_database()):
            html = page.render(title=str(title), message=str(message), request=request, url_for=url_for)
        return html, 503, headers

    for kind in DATABASE_UNAVAILABLE:
        app.register_error_handler(kind, _database_unavailable)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        title = _HTTP_TITLES.get(status, exc.name)
        # A 403 says why (``abort(403, description=...)`` is written in the reader's language).
        message = (exc.description or "") if status == 403 else _HTTP_MESSAGES.get(status, exc.description or "")
        return _page(status, title, message)


def _language_without_database() -> str:
    """The reader's language from the switch's cookie or the browser (the account's setting needs the database)."""
    cookie = request.cookies.get(LANGUAGE_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.path.startswith(("/webhooks/", "/health"))


def _page(status: int, title: Any, message: Any) -> ResponseReturnValue:
    """``title`` and ``message`` are texts, lazy texts or functions giving one (evaluated in the language used)."""

    def text(value: Any) -> str:
        return str(value() if callable(value) else value)

    if _wants_json():
        with force_locale("en"):
            return {"error": text(title), "message": text(message)}, status
    return render_template("errors/error.html", title=text(title), message=text(message), status=status), status
