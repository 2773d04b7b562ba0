"""Accounts: register, confirm the e-mail address, sign in and out, reset a forgotten password.

Sign-in limits are counted from ``login_attempt`` rows, so they hold across every
web process sharing the database. Links in e-mails are itsdangerous tokens signed
with the secret key, each kind with its own salt; their age is measured on the
application's clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ...extensions import app_clock, db
from ...models import Role, User
from ...models.user import ROLES
from ...transactions import is_postgres, write_transaction
from .. import audit, notifications
from ..errors import InvalidInput, ServiceError
from . import login_limits, passwords
from . import tokens as account_tokens
from .fields import normalize_email, normalize_phone, profile_problems

SELF_SERVICE_KINDS = ("applicant", "sponsor")  # officer roles are given, never chosen
# E-mails are also written outside any request (CLI, scheduler), where url_for cannot build URLs.
VERIFY_PATH = "/auth/verify/{token}"
RESET_PATH = "/auth/reset/{token}"
VERIFY_SUBJECT = "Confirm your e-mail address for KITAS Online"
RESET_SUBJECT = "Reset your KITAS Online password"
CHANGED_SUBJECT = "Your KITAS Online password was changed"
# At most this many verification (or reset) e-mails per account per hour, so the forms cannot flood a mailbox.
MAIL_LIMIT = 3
MAIL_LIMIT_WINDOW = timedelta(hours=1)

GENERIC_LOGIN_ERROR = "The e-mail address or password is not correct. Check both and try again."


class LoginRefused(ServiceError):
    """Unknown e-mail or wrong password (one message for both, so accounts cannot be discovered)."""

    def __init__(self) -> None:
        super().__init__(GENERIC_LOGIN_ERROR)


class LoginThrottled(ServiceError):
    """Too many failed sign-ins for this account or from this address; ``retry_at`` says when to retry."""

    def __init__(self, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__("too many failed sign-ins; try again later or reset your password")


class AccountDisabled(ServiceError):
    """The password was right but the account is closed (said only after a correct password)."""


class TokenInvalid(ServiceError):
    """A link from an e-mail is forged, damaged, used already or too old (``expired``)."""

    def __init__(self, message: str, *, expired: bool = False, email: str | None = None):
        self.expired = expired
        self.email = email  # known when an authentic link merely expired: the page offers a new one
        super().__init__(message)


def _anonymous(address: str) -> str:
    return f"anonymous ({address})"


def _user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email)).first()


def is_verified(user: User) -> bool:
    """True once the person has opened the link sent to their e-mail address."""
    return user.email_verified_at is not None


# --- creating accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    email: str
    full_name: str
    phone: str | None
    nationality: str | None


def _insert_user(profile: _Profile, password: str, roles: Sequence[str], *, verified: bool, consent: bool) -> User:
    """Add the user row and its roles inside the caller's transaction."""
    now = app_clock().now()
    found = {role.name: role for role in db.session.scalars(select(Role).where(Role.name.in_(roles)))}
    for name in roles:
        if name not in found:  # a database built without `kitas init` has no role rows yet
            found[name] = Role(name=name)
            db.session.add(found[name])
    user = User(
        email=profile.email,
        full_name=profile.full_name,
        phone=profile.phone,
        nationality=profile.nationality,
        password_hash=passwords.hash_password(password),
        email_verified_at=now if verified else None,
        consent_at=now if consent else None,
        created_at=now,
        is_active=True,
        session_token=secrets.token_hex(16),
    )
    user.roles = [found[name] for name in dict.fromkeys(roles)]
    db.session.add(user)
    db.session.flush()
    return user


def _duplicate(email: str) -> InvalidInput:
    return InvalidInput(
        {"email": [f"An account with {email} already exists. Sign in, or reset your password if you forgot it."]}
    )


def _checked_profile(fields: dict[str, Any], password: str, errors: dict[str, list[str]]) -> _Profile:
    """Validate the profile and the password; add every problem to ``errors``."""
    profile = _Profile(
        email=normalize_email(fields.get("email") or ""),
        full_name=" ".join(str(fields.get("full_name") or "").split()),
        phone=normalize_phone(fields["phone"]) if fields.get("phone") is not None else None,
        nationality=(str(fields["nationality"]).strip().upper() or None) if fields.get("nationality") else None,
    )
    for field, message in profile_problems(
        profile.email, profile.full_name, profile.phone, profile.nationality, phone_required="phone" in fields
    ).items():
        errors.setdefault(field, []).append(message)
    found = passwords.problems(password, email=profile.email, full_name=profile.full_name)
    if found:
        errors.setdefault("password", []).extend(found)
    if profile.email and "email" not in errors and _user_by_email(profile.email) is not None:
        errors["email"] = _duplicate(profile.email).errors["email"]
    return profile


def create_account(
    email: str,
    full_name: str,
    password: str,
    roles: Sequence[str],
    *,
    phone: str | None = None,
    nationality: str | None = None,
    verified: bool = False,
    consent: bool = True,
) -> User:
    """Create an account with any roles (demo data, administrators, tests); the password policy applies."""
    errors: dict[str, list[str]] = {}
    unknown = [name for name in roles if name not in ROLES]
    if unknown or not roles:
        errors["roles"] = [f"Choose roles among {', '.join(ROLES)} (got {', '.join(unknown) or 'none'})."]
    fields: dict[str, Any] = {"email": email, "full_name": full_name}
    if phone is not None:
        fields["phone"] = phone
    if nationality is not None:
        fields["nationality"] = nationality
    profile = _checked_profile(fields, password, errors)
    if errors:
        raise InvalidInput(errors)
    try:
        with write_transaction():
            user = _insert_user(profile, password, roles, verified=verified, consent=consent)
            audit.record("account_created", {"email": user.email, "roles": sorted(roles), "verified": verified})
            if not verified:
                _queue_verification(user)
    except IntegrityError:
        raise _duplicate(profile.email) from None
    return user


def register(
    *,
    email: str,
    full_name: str,
    password: str,
    password_confirm: str,
    phone: str,
    nationality: str,
    kind: str,
    consent: bool,
    address: str,
) -> User:
    """Create a self-service account (applicant or sponsor) and e-mail its verification link."""
    errors: dict[str, list[str]] = {}
    fields = {"email": email, "full_name": full_name, "phone": phone, "nationality": nationality}
    profile = _checked_profile(fields, password, errors)
    if not profile.nationality:
        errors["nationality"] = ["Choose your nationality (the country of your passport)."]
    if password and password != password_confirm:
        errors.setdefault("password_confirm", []).append("The two passwords are not the same. Type both again.")
    if kind not in SELF_SERVICE_KINDS:
        errors["kind"] = ["Choose whether you apply for a permit yourself or sponsor someone (employer/guarantor)."]
    if not consent:
        errors["consent"] = [
            "Tick the box to agree to the processing of your personal data; "
            "without it we cannot create an account or handle an application."
        ]
    if errors:
        raise InvalidInput(errors)
    try:
        with write_transaction():
            user = _insert_user(profile, password, [kind], verified=False, consent=True)
            audit.record(
                "register",
                {"email": user.email, "kind": kind, "address": address, "consent_at": _iso(user.consent_at)},
                user=user,
            )
            _queue_verification(user)
    except IntegrityError:  # someone registered the same address a moment earlier
        raise _duplicate(profile.email) from None
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- e-mail verification ------------------------------------------------------------------------


def _queue_verification(user: User) -> None:
    """Put a verification e-mail for ``user`` in the outbox (the caller's transaction)."""
    link = VERIFY_PATH.format(token=account_tokens.verification_token(user))
    hours = int(account_tokens.VERIFY_MAX_AGE.total_seconds() // 3600)
    body = render_template("email/verify_email.txt", user=user, link=notifications.absolute_link(link), hours=hours)
    notifications.notify(user, VERIFY_SUBJECT, body, link=link, channels=("email",))


def _mail_allowed(user: User, subject: str) -> bool:
    since = app_clock().now() - MAIL_LIMIT_WINDOW
    return notifications.sent_recently(user, subject, since) < MAIL_LIMIT


def confirm_email(token: str) -> User:
    """Mark the address in a verification link as confirmed (opening it again changes nothing)."""
    try:
        user_id, email = account_tokens.read_verification_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            old = (problem.payload or {}).get("e")
            raise TokenInvalid(
                "this confirmation link is more than 48 hours old",
                expired=True,
                email=old if isinstance(old, str) else None,
            ) from None
        raise TokenInvalid("this confirmation link is damaged or not one of ours") from None
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.email != email:
            raise TokenInvalid("this confirmation link is for an address that is no longer registered")
        if user.email_verified_at is None:
            user.email_verified_at = app_clock().now()
            audit.record("email_verified", {"email": user.email}, user=user)
    return user


def resend_verification(email: str, address: str) -> None:
    """Send a new verification link when the account exists, is unconfirmed and under the hourly cap."""
    email = normalize_email(email)
    with write_transaction():
        user = _user_by_email(email)
        if user is None or not user.is_active or is_verified(user):
            return  # the page says the same thing either way
        sent = _mail_allowed(user, VERIFY_SUBJECT)
        if sent:
            _queue_verification(user)
        audit.record("email_verification_sent", {"email": email, "address": address, "sent": sent}, user=user)


# --- signing in and out -------------------------------------------------------------------------


def authenticate(email: str, password: str, address: str) -> User:
    """Check an e-mail and password, within the per-account and per-address limits; returns the user."""
    account = normalize_email(email)[:254]
    address = (address or "unknown")[:64]
    with write_transaction():
        # Check the limits and count this attempt as a failure in one locked step, before the slow
        # hash: parallel guesses queue here and each sees the ones before it.
        login_limits.lock_keys(account, address)
        retry_at = login_limits.throttled_until(account, address)
        if retry_at is None:
            attempt_id = login_limits.record_attempt(account, address, succeeded=False)
        else:
            user = _user_by_email(account)
            throttled: dict[str, Any] = {"email": account, "address": address, "retry_at": retry_at.isoformat()}
            throttled["user_id"] = user.id if user else None
            audit.record("login_throttled", throttled, actor=_anonymous(address))
    if retry_at is not None:
        raise LoginThrottled(retry_at)
    user = _user_by_email(account)
    # The slow hash is checked outside any transaction: no lock is held while argon2 works.
    matched = passwords.verify_password(user.password_hash if user else None, password)
    new_hash = None
    if user is not None and matched and user.password_hash and passwords.needs_rehash(user.password_hash):
        new_hash = passwords.hash_password(password)
    succeeded = matched and user is not None and user.is_active
    detail: dict[str, Any] = {"email": account, "address": address}
    with write_transaction():
        user = _user_by_email(account)
        if succeeded and user is not None:
            login_limits.mark_succeeded(attempt_id)
            if new_hash is not None:
                user.password_hash = new_hash
            audit.record("login_succeeded", detail | {"rehashed": new_hash is not None}, user=user)
        else:
            reason = "unknown_account" if user is None else ("account_disabled" if matched else "wrong_password")
            detail |= {"reason": reason, "user_id": user.id if user else None}
            audit.record("login_failed", detail, actor=_anonymous(address))
    if not succeeded or user is None:
        if matched and user is not None:
            raise AccountDisabled("this account is closed; contact the immigration office if you think this is wrong")
        raise LoginRefused()
    return user


def logout(user: User, address: str) -> None:
    """End every session of ``user``: a copied session cookie stops working too."""
    with write_transaction():
        row = db.session.get(User, user.id)
        if row is None:
            return
        row.session_token = secrets.token_hex(16)
        audit.record("logout", {"email": row.email, "address": address}, user=row)


# --- passwords --------------------------------------------------------------------------------


def request_password_reset(email: str, address: str) -> None:
    """E-mail a one-hour reset link when the account exists (the caller always says the same thing)."""
    email = normalize_email(email)[:254]
    with write_transaction():
        user = _user_by_email(email)
        sent = user is not None and user.is_active and _mail_allowed(user, RESET_SUBJECT)
        if user is not None and sent:
            link = RESET_PATH.format(token=account_tokens.reset_token(user))
            minutes = int(account_tokens.RESET_MAX_AGE.total_seconds() // 60)
            body = render_template(
                "email/reset_password.txt", user=user, link=notifications.absolute_link(link), minutes=minutes
            )
            notifications.notify(user, RESET_SUBJECT, body, link=link, channels=("email",))
        detail = {"email": email, "address": address, "sent": sent, "known": user is not None}
        audit.record("password_reset_requested", detail, user=user, actor=_anonymous(address))


def check_reset_token(token: str) -> User:
    """The user a reset link is for, if the link is authentic, less than an hour old and unused."""
    try:
        user_id, fingerprint = account_tokens.read_reset_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            raise TokenInvalid("this reset link is more than an hour old", expired=True) from None
        raise TokenInvalid("this reset link is damaged or not one of ours") from None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or fingerprint != account_tokens.password_fingerprint(user.password_hash):
        # The password changed since the link was sent, which includes this link having been used.
        raise TokenInvalid("this reset link was already used or replaced by a newer one")
    return user


def _new_password_errors(user: User, password: str, password_confirm: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    found = passwords.problems(password, email=user.email, full_name=user.full_name)
    if found:
        errors["password"] = found
    if password_confirm is not None and password and password != password_confirm:
        errors["password_confirm"] = ["The two passwords are not the same. Type both again."]
    return errors


def reset_password(token: str, password: str, password_confirm: str, address: str) -> User:
    """Set a new password from a reset link, end every session of the account and confirm the address."""
    user = check_reset_token(token)
    errors = _new_password_errors(user, password, password_confirm)
    if errors:
        raise InvalidInput(errors)
    fingerprint = account_tokens.password_fingerprint(user.password_hash)
    new_hash = passwords.hash_password(password)
    now = app_clock().now()
    with write_transaction():
        query = select(User).where(User.id == user.id).execution_options(populate_existing=True)
        if is_postgres():
            query = query.with_for_update()
        user = db.session.scalars(query).one()
        if account_tokens.password_fingerprint(user.password_hash) != fingerprint:  # another tab was first
            raise TokenInvalid("this reset link was already used or replaced by a newer one")
        user.password_hash = new_hash
        user.session_token = secrets.token_hex(16)
        user.email_verified_at = user.email_verified_at or now  # the link proved the mailbox is theirs
        # Counts as a sign-in for the limits: failures before the reset no longer hold the account.
        login_limits.record_attempt(user.email, address, True)
        audit.record("password_reset_done", {"email": user.email, "address": address}, user=user)
        body = render_template("email/password_changed.txt", user=user)
        notifications.notify(user, CHANGED_SUBJECT, body, channels=("email", "in_app"))
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (administrators, demo data); the policy applies, other sessions end."""
    errors = _new_password_errors(user, password, None)
    if errors:
        raise InvalidInput(errors)
    new_hash = passwords.hash_password(password)
    with write_transaction():
        row = db.session.get(User, user.id)
        if row is None:
            raise ServiceError("this account no longer exists")
        row.password_hash = new_hash
        row.session_token = secrets.token_hex(16)
        audit.record("password_set", {"email": row.email})
