"""The profile pages: my details and settings, a new e-mail address, a new password, my data as JSON,
and withdrawing consent (deleting the account). Each form posts to its own address; after an error the
page comes back with what was typed and each message next to its field (passwords never echoed)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required, logout_user

from kitas.i18n import translate
from kitas.services.accounts import TIME_ZONES, TokenInvalid, privacy
from kitas.services.accounts import profile as profiles
from kitas.services.accounts.passwords import MAX_LENGTH, MIN_LENGTH, RECOMMENDED_LENGTH
from kitas.services.errors import InvalidInput

from ..access import SECOND_FACTOR_KEY, complete_sign_in, signed_in_user
from . import forms
from .routes import bp

DETAIL_FIELDS = ("full_name", "phone", "language", "time_zone")


def _checked(name: str) -> bool:
    return request.form.get(name) in ("1", "on", "yes", "true")


def _details_of(user: Any) -> dict[str, Any]:
    return {
        "full_name": user.full_name,
        "phone": user.phone or "",
        "language": user.language or "id",
        "time_zone": user.time_zone or TIME_ZONES[0],
        "notify_email": user.notify_email,
        "notify_sms": user.notify_sms,
    }


def _translated(errors: dict[str, list[Any]]) -> dict[str, list[str]]:
    """The services' messages in the reader's language (names people typed stay as they are)."""
    return {field: [str(translate(message)) for message in messages] for field, messages in errors.items()}


def _page(form: str | None = None, values: dict[str, Any] | None = None, errors: Any = None) -> str:
    """The profile page; ``form`` names the form that failed, shown with ``values`` and ``errors``."""
    user = signed_in_user()
    details = _details_of(user)
    if form == "details" and values is not None:
        details = values
    return render_template(
        "auth/profile.html",
        user=user,
        details=details,
        failed=form,
        values=values or {},
        errors=_translated(errors or {}),
        time_zones=TIME_ZONES,
        min_length=MIN_LENGTH,
        recommended_length=RECOMMENDED_LENGTH,
        max_length=MAX_LENGTH,
    )


@bp.get("/profile")
@login_required
def profile() -> ResponseReturnValue:
    """My profile: details, settings and my rights over my data."""
    return _page()


@bp.post("/profile")
@login_required
def profile_details() -> ResponseReturnValue:
    """Save name, phone, language, time zone and notification channels."""
    values: dict[str, Any] = {name: forms.text(name) for name in DETAIL_FIELDS}
    values["notify_email"] = _checked("notify_email")
    values["notify_sms"] = _checked("notify_sms")
    changes = profiles.ProfileChanges(**values)
    try:
        changed = profiles.update_profile(signed_in_user().id, changes, forms.client_address())
    except InvalidInput as exc:
        return _page("details", values, exc.errors), 422
    flash(_("Your profile is saved.") if changed else _("Nothing changed."), "success" if changed else "info")
    return redirect(url_for("auth.profile"))


@bp.post("/profile/email")
@login_required
def profile_email() -> ResponseReturnValue:
    """Ask to change the e-mail address: a link goes to the new address; nothing changes until it is opened."""
    values = {"email": forms.text("email")}
    try:
        email = profiles.request_email_change(
            signed_in_user().id, values["email"], forms.secret("current_password"), forms.client_address()
        )
    except InvalidInput as exc:
        return _page("email", values, exc.errors), 422
    flash(
        _(
            "We sent a confirmation link to %(email)s. Your address changes when you open it; until then we "
            "keep writing to your current address.",
            email=email,
        ),
        "success",
    )
    return redirect(url_for("auth.profile"))


@bp.post("/profile/email/cancel")
@login_required
def profile_email_cancel() -> ResponseReturnValue:
    """Forget the new address waiting for its confirmation."""
    profiles.cancel_email_change(signed_in_user().id)
    flash(_("The change of e-mail address is cancelled."), "info")
    return redirect(url_for("auth.profile"))


@bp.get("/profile/email/<token>")
def profile_email_confirm(token: str) -> ResponseReturnValue:
    """Open the link sent to the new address (signed in or not: the link is the proof)."""
    try:
        user = profiles.confirm_email_change(token, forms.client_address())
    except TokenInvalid as exc:
        return render_template("auth/profile_link_invalid.html", problem=exc.message, expired=exc.expired), 400
    return render_template("auth/profile_email_changed.html", email=user.email)


@bp.post("/profile/password")
@login_required
def profile_password() -> ResponseReturnValue:
    """Change the password: the current one first; every other session ends, this one stays signed in."""
    user = signed_in_user()
    had_second_factor = session.get(SECOND_FACTOR_KEY) == user.get_id()
    try:
        changed = profiles.change_password(
            user.id,
            forms.secret("current_password"),
            forms.secret("password"),
            forms.secret("password_confirm"),
            forms.client_address(),
        )
    except InvalidInput as exc:
        return _page("password", {}, exc.errors), 422
    complete_sign_in(changed, second_factor_given=had_second_factor)
    flash(_("Your password is changed. Every other session of your account has ended."), "success")
    return redirect(url_for("auth.profile"))


@bp.get("/profile/export")
@login_required
def profile_export() -> ResponseReturnValue:
    """Download everything we keep about me as one JSON file."""
    user = signed_in_user()
    data = privacy.export_data(user.id, forms.client_address())
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="kitas-my-data-{user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/profile/delete", methods=["GET", "POST"])
@login_required
def profile_delete() -> ResponseReturnValue:
    """Withdraw consent and delete the account: refused while a case is open, with what to do."""
    user = signed_in_user()
    errors: dict[str, Any] = {}
    refused: privacy.ErasureRefused | None = None
    status = 200
    if request.method == "POST":
        try:
            privacy.erase_account(user.id, forms.secret("current_password"), forms.client_address())
        except InvalidInput as exc:
            errors, status = exc.errors, 422
        except privacy.ErasureRefused as exc:
            refused, status = exc, 409
        else:
            logout_user()
            session.clear()
            return render_template("auth/profile_deleted.html")
    open_cases = refused.references if refused is not None else privacy.open_cases(user.id)
    page = render_template(
        "auth/profile_delete.html", user=user, open_cases=open_cases, refused=refused, errors=_translated(errors)
    )
    return page, status
