"""A person's own profile: name, phone, language, time zone and notification channels; a new e-mail
address (confirmed at that address before it counts, the old address told); a new password (the
current one required, every other session ended).

Audit rows of these changes name the fields that changed, never their values: the values are
personal data, and the audit trail is kept when an account is erased (see ``privacy.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms.texts import LANGUAGES, Message

from ...extensions import app_clock, db
from ...models import User
from ...transactions import is_postgres, write_transaction
from .. import audit, notifications
from ..errors import InvalidInput, NotFound
from . import passwords
from . import tokens as account_tokens
from .fields import email_problem, name_problem, normalize_email, normalize_phone, phone_problem
from .preferences import TIME_ZONES
from .registration import TokenInvalid

EMAIL_CHANGE = "account.email_change"
EMAIL_CHANGE_PATH = "/auth/profile/email/{token}"
# At most this many confirmation links to new addresses per account an hour.
EMAIL_CHANGE_LIMIT = 3


@dataclass(frozen=True)
class ProfileChanges:
    """What the details form asks for (as typed; checked by ``update_profile``)."""

    full_name: str
    phone: str
    language: str
    time_zone: str
    notify_email: bool
    notify_sms: bool


def _locked(user_id: int) -> User:
    """The user's row, fresh and (on PostgreSQL) locked until the transaction ends."""
    query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    if is_postgres():
        query = query.with_for_update()
    user = db.session.scalars(query).first()
    if user is None or not user.is_active:
        raise NotFound(Message("This account no longer exists."))
    return user


def _one(errors: dict[str, list[str]], field: str, problem: str | None) -> None:
    if problem:
        errors.setdefault(field, []).append(problem)


def update_profile(user_id: int, changes: ProfileChanges, address: str) -> list[str]:
    """Store the details form; returns the names of the fields that changed. Raises InvalidInput."""
    full_name = " ".join(changes.full_name.split())
    phone = normalize_phone(changes.phone) if changes.phone.strip() else ""
    errors: dict[str, list[str]] = {}
    _one(errors, "full_name", name_problem(full_name))
    _one(errors, "phone", phone_problem(phone) if phone else None)
    if changes.notify_sms and not phone:
        _one(errors, "phone", Message("Enter a phone number to receive text messages, or turn SMS off."))
    if changes.language not in LANGUAGES:
        _one(errors, "language", Message("Choose Bahasa Indonesia or English."))
    if changes.time_zone not in TIME_ZONES:
        _one(errors, "time_zone", Message("Choose WIB, WITA or WIT."))
    if errors:
        raise InvalidInput(errors)
    wanted: dict[str, Any] = {
        "full_name": full_name,
        "phone": phone or None,
        "language": changes.language,
        "time_zone": changes.time_zone,
        "notify_email": changes.notify_email,
        "notify_sms": changes.notify_sms,
    }
    with write_transaction():
        user = _locked(user_id)
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, wanted[name])
        if changed:
            audit.record("profile_changed", {"fields": changed, "address": address}, user=user)
    return changed


# --- a new e-mail address -----------------------------------------------------------------------


def request_email_change(user_id: int, new_email: str, password: str, address: str) -> str:
    """Send a one-time link to ``new_email``; the address changes when it is opened. Returns the address.

    The current password is required. Raises InvalidInput (a bad or taken address, a wrong password).
    """
    email = normalize_email(new_email)
    errors: dict[str, list[str]] = {}
    current = db.session.get(User, user_id)
    if current is None or not current.is_active:
        raise NotFound(Message("This account no longer exists."))
    problem = email_problem(email)
    if problem:
        errors["email"] = [problem]
    elif email == current.email:
        errors["email"] = [Message("This is already your e-mail address.")]
    elif db.session.scalars(select(User.id).where(User.email == email)).first() is not None:
        errors["email"] = [Message("Another account uses %(email)s. Choose another address.", email=email)]
    if not passwords.verify_password(current.password_hash, password):
        errors["current_password"] = [Message("This is not your current password. Type it again.")]
    if errors:
        raise InvalidInput(errors)
    since = app_clock().now() - account_tokens.EMAIL_CHANGE_MAX_AGE
    with write_transaction():
        user = _locked(user_id)
        user.pending_email = email
        user.pending_email_nonce = secrets.token_hex(16)
        queued = notifications.queue_for_address(
            EMAIL_CHANGE, email, {"user": user.id, "address": address}, cap=EMAIL_CHANGE_LIMIT, since=since
        )
        audit.record("email_change_requested", {"address": address, "link_queued": queued}, user=user)
    return email


def cancel_email_change(user_id: int) -> None:
    """Forget a pending new address (its link stops working)."""
    with write_transaction():
        user = _locked(user_id)
        if user.pending_email is not None:
            user.pending_email = user.pending_email_nonce = None
            audit.record("email_change_cancelled", {}, user=user)


def confirm_email_change(token: str, address: str) -> User:
    """Make the address of a confirmation link the account's e-mail; the old address is told.

    Raises TokenInvalid for a damaged, expired, used or replaced link, or an address taken meanwhile.
    """
    try:
        user_id, email, nonce = account_tokens.read_email_change_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            raise TokenInvalid(
                Message("This confirmation link is more than 24 hours old. Ask for a new one on your profile."),
                expired=True,
            ) from None
        raise TokenInvalid(Message("This confirmation link is damaged or not one of ours.")) from None
    try:
        with write_transaction():
            query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
            if is_postgres():
                query = query.with_for_update()
            user = db.session.scalars(query).first()
            if user is None or not user.is_active or user.pending_email != email or user.pending_email_nonce != nonce:
                raise TokenInvalid(Message("This confirmation link was already used or replaced by a newer one."))
            # Told first, while the row still holds the old address: the notice goes there.
            # Written when it is sent, in the reader's language (not the language of whoever opened the link).
            body = notifications.MailTemplate("email/profile_email_changed.txt", {"new_email": email})
            notifications.notify(
                user, Message("Your KITAS Online e-mail address was changed"), body, channels=("email",)
            )
            user.email = email
            user.email_verified_at = app_clock().now()  # the link proved the new mailbox is theirs
            user.pending_email = user.pending_email_nonce = None
            db.session.flush()
            audit.record("email_changed", {"address": address}, user=user)
    except IntegrityError:  # another account took the address between the request and the link
        raise TokenInvalid(Message("Another account uses this address now. Choose another address.")) from None
    return user


def _email_change_mail(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    """The confirmation e-mail to a new address, written when it is sent (with a fresh link)."""
    user = db.session.get(User, params.get("user"))
    if user is None or not user.is_active or user.pending_email != email:
        return None  # confirmed, cancelled or replaced meanwhile: nothing to send
    link = EMAIL_CHANGE_PATH.format(token=account_tokens.email_change_token(user))
    hours = int(account_tokens.EMAIL_CHANGE_MAX_AGE.total_seconds() // 3600)
    with notifications.in_language_of(user):  # the account's language and zone, as every account e-mail
        body = render_template(
            "email/profile_email_confirm.txt", user=user, link=notifications.absolute_link(link), hours=hours
        )
        subject = notifications.localized(Message("Confirm your new e-mail address for KITAS Online"))
    return notifications.RenderedMail(subject, body, link)


notifications.register_renderer(EMAIL_CHANGE, _email_change_mail)


# --- a new password -----------------------------------------------------------------------------


def change_password(user_id: int, current: str, new: str, confirm: str, address: str) -> User:
    """Set a new password when the current one is given; every session ends except the caller's, which
    signs in again with the returned user (its new session token). Raises InvalidInput."""
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound(Message("This account no longer exists."))
    errors: dict[str, list[str]] = {}
    if not passwords.verify_password(user.password_hash, current):
        errors["current_password"] = [Message("This is not your current password. Type it again.")]
    found = passwords.problems(new, email=user.email, full_name=user.full_name)
    if found:
        errors["password"] = list(found)
    elif new != confirm:
        errors["password_confirm"] = [Message("The two passwords are not the same. Type both again.")]
    elif passwords.verify_password(user.password_hash, new):
        errors["password"] = [Message("This is your current password. Choose a new one.")]
    if errors:
        raise InvalidInput(errors)
    new_hash = passwords.hash_password(new)
    with write_transaction():
        user = _locked(user_id)
        user.password_hash = new_hash
        user.session_token = secrets.token_hex(16)
        audit.record("password_changed", {"address": address}, user=user)
        body = notifications.MailTemplate("email/profile_password_changed.txt")
        notifications.notify(
            user, Message("Your KITAS Online password was changed"), body, channels=("email", "in_app")
        )
    return user
