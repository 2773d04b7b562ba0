"""Accounts: register, confirm the e-mail address, reset a forgotten password.

Registration never tells whether an address already has an account: the answer is the
same, and the owner of an existing account is e-mailed instead. A reset or a new
confirmation link is queued for the typed address either way (``mail.py``): the outbox
job, not the request, finds out whether there is an account to write to. Links in
e-mails are itsdangerous tokens signed with the secret key, each kind with its own salt;
their age is measured on the application's clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms.texts import LANGUAGES, Message

from ...extensions import app_clock, db
from ...models import Role, User
from ...models.user import ROLES
from ...transactions import is_postgres, write_transaction
from .. import audit, notifications
from ..errors import InvalidInput, ServiceError
from . import login_limits, mail, passwords
from . import tokens as account_tokens
from .fields import normalize_email, normalize_phone, profile_problems

SELF_SERVICE_KINDS = ("applicant", "sponsor")  # officer roles are given, never chosen
CHANGED_SUBJECT = Message("Your KITAS Online password was changed")
PASSWORDS_DIFFER = Message("The two passwords are not the same. Type both again.")
CONSENT_MISSING = Message(
    "Tick the box to agree to the processing of your personal data; "
    "without it we cannot create an account or handle an application."
)


class TokenInvalid(ServiceError):
    """A link from an e-mail is forged, damaged, used already or too old (``expired``)."""

    def __init__(self, message: str, *, expired: bool = False, email: str | None = None):
        self.expired = expired
        self.email = email  # known when an authentic link merely expired: the page offers a new one
        super().__init__(message)


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
    # The language e-mails and SMS are written in (None: Indonesian, the default).
    language: str | None = None


def _insert_user(profile: _Profile, password_hash: str, roles: Sequence[str], *, verified: bool, consent: bool) -> User:
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
        language=profile.language,
        password_hash=password_hash,
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
        {
            "email": [
                Message(
                    "An account with %(email)s already exists. Sign in, or reset your password if you forgot it.",
                    email=email,
                )
            ]
        }
    )


def _checked_profile(
    fields: dict[str, Any], password: str, errors: dict[str, list[str]], *, duplicate_is_error: bool = True
) -> _Profile:
    """Validate the profile and the password; add every problem to ``errors`` (an address that has an
    account is one only when ``duplicate_is_error``: self-service registration must not tell)."""
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
    if duplicate_is_error and profile.email and "email" not in errors and _user_by_email(profile.email) is not None:
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
    language: str | None = None,
) -> User:
    """Create an account with any roles (demo data, administrators, tests); the password policy applies.

    ``language``: the one its e-mails are written in (None: Indonesian, as for officers)."""
    errors: dict[str, list[str]] = {}
    unknown = [name for name in roles if name not in ROLES]
    if unknown or not roles:
        errors["roles"] = [
            Message(
                "Choose roles among %(roles)s (got %(unknown)s).", roles=", ".join(ROLES), unknown=", ".join(unknown)
            )
            if unknown
            else Message("Choose roles among %(roles)s (got none).", roles=", ".join(ROLES))
        ]
    fields: dict[str, Any] = {"email": email, "full_name": full_name}
    if phone is not None:
        fields["phone"] = phone
    if nationality is not None:
        fields["nationality"] = nationality
    profile = _checked_profile(fields, password, errors)
    if errors:
        raise InvalidInput(errors)
    if language in LANGUAGES:
        profile = replace(profile, language=language)
    try:
        with write_transaction():
            user = _insert_user(profile, passwords.hash_password(password), roles, verified=verified, consent=consent)
            audit.record("account_created", {"email": user.email, "roles": sorted(roles), "verified": verified})
            if not verified:
                mail.queue(mail.VERIFY, user.email, "")
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
    language: str | None = None,
) -> User | None:
    """Create a self-service account (applicant or sponsor) and queue its confirmation e-mail.

    ``language`` is the one the person registered in (``id``, ``en``): their e-mails and SMS are
    written in it; without one, Indonesian.

    When the address already has an account nothing is created and its owner is e-mailed instead
    ("someone tried to register with your address"); the caller answers the same either way.
    Returns the new user, or None for an address that had an account.
    """
    errors: dict[str, list[str]] = {}
    fields = {"email": email, "full_name": full_name, "phone": phone, "nationality": nationality}
    profile = _checked_profile(fields, password, errors, duplicate_is_error=False)
    if not profile.nationality:
        errors["nationality"] = [Message("Choose your nationality (the country of your passport).")]
    if password and password != password_confirm:
        errors.setdefault("password_confirm", []).append(PASSWORDS_DIFFER)
    if kind not in SELF_SERVICE_KINDS:
        errors["kind"] = [
            Message("Choose whether you apply for a permit yourself or sponsor someone (employer/guarantor).")
        ]
    if not consent:
        errors["consent"] = [CONSENT_MISSING]
    if errors:
        raise InvalidInput(errors)
    if language in LANGUAGES:
        profile = replace(profile, language=language)
    # Hashed whether or not the address is taken, so both answers cost the slow hash.
    password_hash = passwords.hash_password(password)
    try:
        with write_transaction():
            if _user_by_email(profile.email) is not None:
                mail.queue(mail.REGISTERED_AGAIN, profile.email, address)
                return None
            user = _insert_user(profile, password_hash, [kind], verified=False, consent=True)
            audit.record(
                "register",
                {"email": user.email, "kind": kind, "address": address, "consent_at": _iso(user.consent_at)},
                user=user,
            )
            mail.queue(mail.VERIFY, user.email, address)
    except IntegrityError:  # someone registered the same address a moment earlier
        with write_transaction():
            mail.queue(mail.REGISTERED_AGAIN, profile.email, address)
        return None
    return user


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# --- e-mail verification ------------------------------------------------------------------------


def confirm_email(token: str) -> User:
    """Mark the address in a verification link as confirmed (opening it again changes nothing)."""
    try:
        user_id, email = account_tokens.read_verification_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            old = (problem.payload or {}).get("e")
            raise TokenInvalid(
                Message("this confirmation link is more than 48 hours old"),
                expired=True,
                email=old if isinstance(old, str) else None,
            ) from None
        raise TokenInvalid(Message("this confirmation link is damaged or not one of ours")) from None
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None or user.email != email:
            raise TokenInvalid(Message("this confirmation link is for an address that is no longer registered"))
        if user.email_verified_at is None:
            user.email_verified_at = app_clock().now()
            audit.record("email_verified", {"email": user.email}, user=user)
    return user


def resend_verification(email: str, address: str) -> None:
    """Queue a new confirmation link for ``email``; the outbox job sends it only to an unconfirmed account.

    The same work whether or not the address has an account: one capped outbox row, no lookup.
    """
    with write_transaction():
        mail.queue(mail.VERIFY, normalize_email(email)[:254], address)


# --- passwords --------------------------------------------------------------------------------


def request_password_reset(email: str, address: str) -> None:
    """Queue a one-hour reset link for ``email``; the outbox job writes it only when the account exists.

    The same work whether or not the address has an account: one capped outbox row, no lookup.
    """
    with write_transaction():
        mail.queue(mail.RESET, normalize_email(email)[:254], address)


def check_reset_token(token: str) -> User:
    """The user a reset link is for, if the link is authentic, less than an hour old and unused."""
    try:
        user_id, fingerprint = account_tokens.read_reset_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            raise TokenInvalid(Message("this reset link is more than an hour old"), expired=True) from None
        raise TokenInvalid(Message("this reset link is damaged or not one of ours")) from None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or fingerprint != account_tokens.password_fingerprint(user.password_hash):
        # The password changed since the link was sent, which includes this link having been used.
        raise TokenInvalid(Message("this reset link was already used or replaced by a newer one"))
    return user


def _new_password_errors(user: User, password: str, password_confirm: str | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    found = passwords.problems(password, email=user.email, full_name=user.full_name)
    if found:
        errors["password"] = list(found)
    if password_confirm is not None and password and password != password_confirm:
        errors["password_confirm"] = [PASSWORDS_DIFFER]
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
            raise TokenInvalid(Message("this reset link was already used or replaced by a newer one"))
        user.password_hash = new_hash
        user.session_token = secrets.token_hex(16)
        user.email_verified_at = user.email_verified_at or now  # the link proved the mailbox is theirs
        # Counts as a sign-in for the limits: failures before the reset no longer hold the account.
        login_limits.record_attempt(user.email, address, True)
        audit.record("password_reset_done", {"email": user.email, "address": address}, user=user)
        body = notifications.MailTemplate("email/password_changed.txt")
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
            raise ServiceError(Message("this account no longer exists"))
        row.password_hash = new_hash
        row.session_token = secrets.token_hex(16)
        audit.record("password_set", {"email": row.email})
