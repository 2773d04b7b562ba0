"""Routes of the auth blueprint: register, confirm the address, sign in and out, reset a password.

The second factor's pages (code step, enrolment, security settings, sign-in links) are in
``second_factor.py`` on the same blueprint.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, flash, has_request_context, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, logout_user

from kitas.extensions import app_clock
from kitas.i18n import country_choices_in_language, current_language
from kitas.services import accounts, notifications
from kitas.services.accounts.passwords import MAX_LENGTH, MIN_LENGTH, RECOMMENDED_LENGTH
from kitas.services.cases import invitations
from kitas.services.errors import InvalidInput

from ..access import begin_pending, complete_sign_in, pending_next, pending_user, signed_in_user
from ..filters import local_time
from ..text import said
from . import forms

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.app_context_processor
def _account_state() -> dict[str, Any]:
    """``email_unverified`` for every page, so the layout can show the confirmation banner."""
    if not has_request_context():  # e-mails are rendered outside requests too
        return {"email_unverified": False}
    unverified = bool(current_user.is_authenticated and not accounts.is_verified(signed_in_user()))
    return {"email_unverified": unverified, "unread_notifications": _unread_notifications}


def _unread_notifications() -> int:
    """The signed-in person's unread messages for the bell: one indexed COUNT, only when a page asks."""
    if not (has_request_context() and current_user.is_authenticated):
        return 0
    cached = request.environ.get("kitas.unread_notifications")  # this request's, however often the page asks
    if cached is None:
        cached = request.environ["kitas.unread_notifications"] = notifications.unread_count(signed_in_user())
    return int(cached)


def signed_in_after_first_factor(user: Any, target: str) -> ResponseReturnValue:
    """After a right password (or a sign-in link): the code step or enrolment when a second factor is
    due, else a brand-new signed-in session."""
    if accounts.second_factor_due(user):
        begin_pending(user, target)
        return redirect(url_for("auth.code" if accounts.is_enrolled(user) else "auth.enrol"))
    complete_sign_in(user, second_factor_given=False)
    if not accounts.is_verified(user):
        flash(_("Please confirm your e-mail address: open the link we sent you, or ask for a new one."), "warning")
    return redirect(target)


def _password_rules() -> dict[str, int]:
    return {"min_length": MIN_LENGTH, "recommended_length": RECOMMENDED_LENGTH, "max_length": MAX_LENGTH}


def _after_login_target() -> str:
    return forms.safe_next(request.values.get("next")) or url_for("public.home")


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Create an applicant or sponsor account; every error stands next to its field, input is kept."""
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    values: dict[str, Any] = {"kind": "applicant", "consent": False}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = forms.register_values()
        try:
            accounts.register(
                email=values["email"],
                full_name=values["full_name"],
                password=forms.secret("password"),
                password_confirm=forms.secret("password_confirm"),
                phone=values["phone"],
                nationality=values["nationality"],
                kind=values["kind"],
                consent=values["consent"],
                address=forms.client_address(),
                language=current_language(),
            )
        except InvalidInput as exc:
            errors, status = exc.errors, 422
        else:
            # The same page whether the address was new or already had an account (its owner got an e-mail).
            return render_template("auth/check_email.html", kind="register", email=values["email"].strip().lower())
    page = render_template(
        "auth/register.html", values=values, errors=errors, countries=country_choices_in_language(), **_password_rules()
    )
    return page, status


@bp.get("/verify/<token>")
def verify(token: str) -> ResponseReturnValue:
    """Open the link from the confirmation e-mail."""
    try:
        user = accounts.confirm_email(token)
    except accounts.TokenInvalid as exc:
        page = render_template(
            "auth/link_invalid.html", kind="verify", problem=said(exc), expired=exc.expired, email=exc.email or ""
        )
        return page, 400
    return render_template("auth/verified.html", user=user)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> ResponseReturnValue:
    """The link an invited sponsor got: create a sponsor account for the address it was sent to."""
    values: dict[str, Any] = {"full_name": "", "phone": "", "consent": False}
    errors: dict[str, list[str]] = {}
    try:
        if request.method == "POST":
            values = {"full_name": forms.text("full_name"), "phone": forms.text("phone")}
            values["consent"] = request.form.get("consent") in ("1", "on", "yes", "true")
            try:
                user = invitations.accept_invitation(
                    token,
                    full_name=values["full_name"],
                    password=forms.secret("password"),
                    password_confirm=forms.secret("password_confirm"),
                    phone=values["phone"],
                    consent=values["consent"],
                    language=current_language(),
                )
            except InvalidInput as exc:
                errors = exc.errors
            else:
                ready = _(
                    "Your sponsor account is ready and its address confirmed. The application waits for your answer."
                )
                flash(ready, "success")
                return signed_in_after_first_factor(user, url_for("sponsor.requests"))
        found = invitations.check_invitation(token)
    except accounts.TokenInvalid as exc:
        page = render_template(
            "auth/link_invalid.html", kind="invitation", problem=said(exc), expired=exc.expired, email=exc.email or ""
        )
        return page, 400
    page = render_template(
        "auth/invitation.html", token=token, invitation=found, values=values, errors=errors, **_password_rules()
    )
    return page, (422 if errors else 200)


@bp.route("/verify/resend", methods=["GET", "POST"])
def resend_verification() -> ResponseReturnValue:
    """Ask for a new confirmation link (the answer never tells whether the address has an account)."""
    signed_in_email = signed_in_user().email if current_user.is_authenticated else ""
    if request.method == "GET":
        return render_template("auth/resend.html", email=signed_in_email, errors={})
    email = forms.text("email") or signed_in_email
    if not email:
        errors = {"email": [_("Enter the e-mail address you registered with.")]}
        return render_template("auth/resend.html", email="", errors=errors), 422
    accounts.resend_verification(email, forms.client_address())
    return render_template("auth/check_email.html", kind="verify", email=email)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in with e-mail and password (then the code step, when a second factor is due)."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_after_login_target())
    email = forms.text("email")
    next_target = forms.safe_next(request.values.get("next")) or ""
    if request.method == "GET":
        waiting = pending_user()
        if waiting is not None:  # the password was right; the code step is next
            begin_pending(waiting, next_target or pending_next())
            return redirect(url_for("auth.code" if accounts.is_enrolled(waiting) else "auth.enrol"))
        return render_template("auth/login.html", email="", next=next_target, error=None)
    try:
        user = accounts.authenticate(email, forms.secret("password"), forms.client_address())
    except accounts.LoginThrottled as exc:
        minutes = max(1, math.ceil((exc.retry_at - app_clock().now()).total_seconds() / 60))
        error = ngettext(
            "Too many failed sign-ins. Try again after %(time)s (in about %(num)d minute), "
            "or reset your password if you forgot it.",
            "Too many failed sign-ins. Try again after %(time)s (in about %(num)d minutes), "
            "or reset your password if you forgot it.",
            minutes,
            time=local_time(exc.retry_at),
        )
        return render_template("auth/login.html", email=email, next=next_target, error=error), 429
    except accounts.SignInLinkRequired:
        error = _(
            "To protect this account after very many failed sign-ins, signing in with the password is paused. "
            "If the account exists, we e-mailed its owner a one-time sign-in link: open it within 30 minutes."
        )
        return render_template("auth/login.html", email=email, next=next_target, error=error), 429
    except (accounts.LoginRefused, accounts.AccountDisabled) as exc:
        error = said(exc)
        return render_template("auth/login.html", email=email, next=next_target, error=error), 401
    return signed_in_after_first_factor(user, _after_login_target())


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out: this session ends and so does every other session of the account."""
    if current_user.is_authenticated:
        accounts.logout(signed_in_user(), forms.client_address())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/forgot", methods=["GET", "POST"])
def forgot() -> ResponseReturnValue:
    """Ask for a password reset link; the answer is the same whether or not the account exists."""
    if request.method == "GET":
        return render_template("auth/forgot.html", email="", errors={})
    email = forms.text("email")
    if not email:
        errors = {"email": [_("Enter the e-mail address you registered with.")]}
        return render_template("auth/forgot.html", email="", errors=errors), 422
    accounts.request_password_reset(email, forms.client_address())
    return render_template("auth/check_email.html", kind="reset", email=email)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> ResponseReturnValue:
    """Choose a new password from the link in the reset e-mail."""
    errors: dict[str, list[str]] = {}
    try:
        if request.method == "GET":
            user = accounts.check_reset_token(token)
        else:
            accounts.reset_password(
                token, forms.secret("password"), forms.secret("password_confirm"), forms.client_address()
            )
            logout_user()
            session.clear()
            flash(_("Your password is changed and every session has ended. Sign in with the new password."), "success")
            return redirect(url_for("auth.login"))
    except accounts.TokenInvalid as exc:
        page = render_template("auth/link_invalid.html", kind="reset", problem=said(exc), expired=exc.expired, email="")
        return page, 400
    except InvalidInput as exc:
        errors = exc.errors
        user = accounts.check_reset_token(token)
    page = render_template("auth/reset.html", token=token, user=user, errors=errors, **_password_rules())
    return page, (422 if errors else 200)


@bp.get("/notifications")
@login_required
def inbox() -> ResponseReturnValue:
    """My in-app messages, newest first, a page at a time; the unread ones stand out until opened."""
    page = notifications.page_for(signed_in_user(), request.args.get("page", 1, type=int) or 1)
    return render_template("auth/notifications.html", page=page)


@bp.get("/notifications/<int:message_id>")
@login_required
def open_notification(message_id: int) -> ResponseReturnValue:
    """Open one of my messages: it is marked read and I go to its case (or back to the list)."""
    link = notifications.open_message(signed_in_user(), message_id)
    return redirect(link if link and link.startswith("/") and not link.startswith("//") else url_for("auth.inbox"))


@bp.post("/notifications/read")
@login_required
def mark_notifications_read() -> ResponseReturnValue:
    """Mark all my messages read."""
    notifications.mark_all_read(signed_in_user())
    flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("auth.inbox"))
