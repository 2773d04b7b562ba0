"""Public routes: the start page, what each KITAS type needs, the guide, the FAQ, and the service's health."""

from __future__ import annotations

import math
from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from kitas.extensions import app_clock
from kitas.i18n import LANGUAGE_COOKIE, LANGUAGES, current_language
from kitas.services import accounts, information
from kitas.services.health import ping_database, service_health
from kitas.services.permits import verification

from ..auth.forms import client_address, safe_next

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    """Send signed-in people to their own start page; show everyone else what the service does."""
    if current_user.is_authenticated:
        for role, endpoint in (
            ("verifier", "officer.inbox"),
            ("supervisor", "officer.inbox"),
            ("applicant", "applicant.dashboard"),
            ("sponsor", "sponsor.requests"),
            ("analyst", "studio.index"),
        ):
            if current_user.has_role(role):
                return redirect(url_for(endpoint))
    return render_template("public/home.html", overview=information.type_overview(current_language()))


@bp.get("/types")
def types() -> ResponseReturnValue:
    """Every KITAS type: index code, who it is for, fees, and whether it can be applied for online."""
    return render_template("public/types.html", overview=information.type_overview(current_language()))


@bp.get("/types/<code>")
def type_detail(code: str) -> ResponseReturnValue:
    """What one KITAS type needs, generated: who it is for, sponsor, documents, fees, steps, typical duration."""
    chosen = request.args.get("index", "")[:20]  # the guide's answer, handed on to the start of an application
    return render_template(
        "public/type_detail.html", page=information.type_page(code, current_language()), chosen_index=chosen
    )


@bp.get("/guide")
def guide() -> ResponseReturnValue:
    """Which KITAS do I need? One question per page, the answers so far in the address."""
    answers = [answer for answer in request.args.getlist("a") if answer][:12]
    return render_template("public/guide.html", page=information.guide_page(answers, current_language()))


@bp.get("/faq")
def faq() -> ResponseReturnValue:
    """Frequently asked questions, their numbers from the catalog and the fee table."""
    return render_template("public/faq.html", page=information.faq_page(current_language()))


@bp.get("/verify/<token>")
def verify(token: str) -> ResponseReturnValue:
    """Anyone checks a permit from its QR code: valid, revoked or expired, and only what a checker needs."""
    try:
        status = verification.check_permit(token, client_address(), current_language())
    except verification.TooManyChecks as limited:
        page = render_template("public/verify_limited.html", retry_at=limited.retry_at)
        return page, 429, {"Retry-After": _seconds_until(limited.retry_at)}
    except verification.NotAPermit:
        return render_template("public/verify.html", status=None, token=token), 404
    response = Response(render_template("public/verify.html", status=status, token=token))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/verify/<token>/photo.jpg")
def verify_photo(token: str) -> ResponseReturnValue:
    """The small photo of the verification page (its pixels encoded afresh, never the upload itself)."""
    try:
        data = verification.permit_thumbnail(token, client_address())
    except verification.TooManyChecks as limited:
        return "", 429, {"Retry-After": _seconds_until(limited.retry_at)}
    response = Response(data, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def _seconds_until(moment: datetime) -> str:
    """A Retry-After value: the whole seconds until ``moment`` (at least one)."""
    return str(max(1, math.ceil((moment - app_clock().now()).total_seconds())))


@bp.post("/language")
def choose_language() -> ResponseReturnValue:
    """The language switch on every page: remembered in a cookie, and in the account when signed in."""
    language = request.form.get("language", "")
    back = _page_it_came_from() or url_for("public.home")
    response = redirect(back)
    if language not in LANGUAGES:
        return response
    if current_user.is_authenticated:
        accounts.set_language(current_user.id, language)
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", secure=request.is_secure, httponly=True
    )
    return response


def _page_it_came_from() -> str | None:
    """The page the switch was pressed on, with its query (``/inbox?page=2``), when it is this site's."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host:
        return None
    return safe_next(referrer.path + (f"?{referrer.query}" if referrer.query else ""))


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Report whether the database answers, which diagrams are deployed, and how many timers wait."""
    report = service_health()
    return jsonify(report), (200 if report["database"] == "ok" else 503)


@bp.get("/ping")
def ping() -> ResponseReturnValue:
    """The smallest page that reads one row; the HTTP benchmark's yardstick."""
    return {"ok": True, "audit_seq": ping_database()}
