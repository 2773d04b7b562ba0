"""The second factor's pages: the code step of a sign-in, enrolling an app, the security settings, and
the one-time sign-in link that the limits send after very many failed sign-ins."""

from __future__ import annotations

import math
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from kitas.extensions import app_clock
from kitas.services import accounts
from kitas.services.errors import ServiceError

from ..access import complete_sign_in, mark_second_factor_given, pending_next, pending_user, signed_in_user
from ..filters import local_time
from ..text import message_of, said
from . import forms
from .routes import bp, signed_in_after_first_factor


def _wait_message(exc: Any) -> str:
    minutes = max(1, math.ceil((exc.retry_at - app_clock().now()).total_seconds() / 60))
    return ngettext(
        "Too many wrong codes. Try again after %(time)s (in about %(num)d minute).",
        "Too many wrong codes. Try again after %(time)s (in about %(num)d minutes).",
        minutes,
        time=local_time(exc.retry_at),
    )


def _signed_in_again() -> ResponseReturnValue:
    flash(_("Sign in again: the sign-in waited too long for its code, or it ended."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/code", methods=["GET", "POST"])
def code() -> ResponseReturnValue:
    """The code step of a sign-in: a 6-digit code from the app, or a recovery code."""
    user = pending_user()
    if user is None:
        return _signed_in_again()
    if not accounts.is_enrolled(user):
        return redirect(url_for("auth.enrol"))
    if request.method == "GET":
        return render_template("auth/code.html", user=user, error=None)
    try:
        kind = accounts.verify_sign_in_code(user, forms.text("code"), forms.client_address())
    except accounts.CodeThrottled as exc:
        return render_template("auth/code.html", user=user, error=_wait_message(exc)), 429
    except accounts.CodeRefused as exc:
        return render_template("auth/code.html", user=user, error=message_of(exc)), 422
    target = forms.safe_next(pending_next()) or url_for("public.home")
    complete_sign_in(user, second_factor_given=True)
    if kind == "recovery":
        left = accounts.recovery_codes_left(user)
        flash(
            ngettext(
                "You signed in with a recovery code; %(num)d of them is left. "
                "Make new ones on the security page if you lost your app.",
                "You signed in with a recovery code; %(num)d of them are left. "
                "Make new ones on the security page if you lost your app.",
                left,
            ),
            "warning",
        )
    return redirect(target)


def _enrolling() -> tuple[Any, bool]:
    """(who is setting up an app, whether they are fully signed in); (None, False) for nobody."""
    if current_user.is_authenticated:
        return signed_in_user(), True
    return pending_user(), False


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    """Set up an authenticator app: a QR code and the secret as text, confirmed with a first code."""
    user, signed_in = _enrolling()
    if user is None:
        return _signed_in_again()
    if accounts.is_enrolled(user):
        return redirect(url_for("auth.security" if signed_in else "auth.code"))
    enrolment = accounts.start_enrolment(user)
    required = accounts.requires_second_factor(user)
    page = {"user": user, "enrolment": enrolment, "required": required, "signed_in": signed_in}
    if request.method == "GET":
        return render_template("auth/enrol.html", error=None, **page)
    try:
        codes = accounts.confirm_enrolment(user, forms.text("code"), forms.client_address())
    except accounts.CodeThrottled as exc:
        return render_template("auth/enrol.html", error=_wait_message(exc), **page), 429
    except accounts.CodeRefused as exc:
        return render_template("auth/enrol.html", error=message_of(exc), **page), 422
    if signed_in:
        mark_second_factor_given(user)  # this session just proved the code; others need it at their next request
        target = url_for("auth.security")
    else:
        target = forms.safe_next(pending_next()) or url_for("public.home")
        complete_sign_in(user, second_factor_given=True)
    return render_template("auth/recovery_codes.html", codes=codes, target=target, first=True)


@bp.get("/security")
@login_required
def security() -> ResponseReturnValue:
    """Sign-in security: whether the app is set up, recovery codes left, turn on or off, new codes."""
    return _security_page(None)


def _security_page(error: str | None, status: int = 200) -> ResponseReturnValue:
    user = signed_in_user()
    page = render_template(
        "auth/security.html",
        enrolled=accounts.is_enrolled(user),
        required=accounts.requires_second_factor(user),
        codes_left=accounts.recovery_codes_left(user) if accounts.is_enrolled(user) else 0,
        error=error,
    )
    return page, status


@bp.post("/security/disable")
@login_required
def disable_second_factor() -> ResponseReturnValue:
    """Turn the second factor off (applicants and sponsors), with a current code."""
    try:
        accounts.disable_second_factor(signed_in_user(), forms.text("code"), forms.client_address())
    except accounts.CodeThrottled as exc:
        return _security_page(_wait_message(exc), 429)
    except accounts.CodeRefused as exc:
        return _security_page(message_of(exc), 422)
    except ServiceError as exc:
        return _security_page(said(exc), 409)
    flash(_("Signing in no longer asks for a code from your app."), "success")
    return redirect(url_for("auth.security"))


@bp.post("/security/recovery-codes")
@login_required
def new_recovery_codes() -> ResponseReturnValue:
    """Replace the recovery codes (the old ones stop working), with a current code from the app."""
    try:
        codes = accounts.regenerate_recovery_codes(signed_in_user(), forms.text("code"), forms.client_address())
    except accounts.CodeThrottled as exc:
        return _security_page(_wait_message(exc), 429)
    except accounts.CodeRefused as exc:
        return _security_page(message_of(exc), 422)
    except ServiceError as exc:
        return _security_page(said(exc), 409)
    return render_template("auth/recovery_codes.html", codes=codes, target=url_for("auth.security"), first=False)


@bp.route("/link/<token>", methods=["GET", "POST"])
def sign_in_link(token: str) -> ResponseReturnValue:
    """The one-time sign-in link: opening it shows a button (mail scanners that open links spend nothing)."""
    try:
        if request.method == "GET":
            user = accounts.check_sign_in_link(token)
            return render_template("auth/sign_in_link.html", token=token, email=user.email)
        user = accounts.sign_in_with_link(token, forms.client_address())
    except accounts.SignInLinkInvalid as exc:
        page = render_template(
            "auth/link_invalid.html", kind="sign_in", problem=said(exc), expired=exc.expired, email=""
        )
        return page, 400
    return signed_in_after_first_factor(user, url_for("public.home"))
