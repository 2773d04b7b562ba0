"""The signed links of account e-mails: confirm an address (48 hours), reset a password (1 hour),
sign in once without a password (30 minutes, sent when an account's ceiling of failed sign-ins is reached)
confirm a new address an account is changing to (24 hours; one-time through the account's nonce), and
invite a sponsor without an account to register (14 days, bound to the case and the address it names).

Each kind of link has its own salt, so one can never be used as the other. Ages
are measured on the application's clock, so tests move time instead of sleeping.
A reset link carries a digest of the password hash it was issued for: once the
password changes (including through this very link) the link stops working. A sign-in link
carries the id of the account's latest successful sign-in: the next one, its own included, spends it.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from ...extensions import app_clock
from ...models import User

VERIFY_SALT = "kitas.email-verification"
RESET_SALT = "kitas.password-reset"
VERIFY_MAX_AGE = timedelta(hours=48)
RESET_MAX_AGE = timedelta(hours=1)
SIGN_IN_SALT = "kitas.sign-in-link"
SIGN_IN_MAX_AGE = timedelta(minutes=30)
EMAIL_CHANGE_SALT = "kitas.email-change"
EMAIL_CHANGE_MAX_AGE = timedelta(hours=24)


class LinkProblem(Exception):
    """Why a link was refused: ``expired`` (authentic but too old) or damaged/forged."""

    def __init__(self, *, expired: bool, payload: dict[str, Any] | None = None):
        self.expired = expired
        self.payload = payload  # readable only when the link was authentic
        super().__init__("expired" if expired else "invalid")


class _ClockSigner(TimestampSigner):
    """Timestamps from the application's clock rather than the wall clock."""

    def get_timestamp(self) -> int:
        return int(app_clock().now().timestamp())


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt, signer=_ClockSigner)


def _read(salt: str, token: str, max_age: timedelta) -> dict[str, Any]:
    serializer = _serializer(salt)
    try:
        data = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        old: Any = None
        if isinstance(exc.payload, bytes):
            try:
                old = serializer.load_payload(exc.payload)
            except BadSignature:
                old = None
        raise LinkProblem(expired=True, payload=old if isinstance(old, dict) else None) from None
    except BadSignature:
        raise LinkProblem(expired=False) from None
    if not isinstance(data, dict):
        raise LinkProblem(expired=False)
    return data


def password_fingerprint(password_hash: str | None) -> str:
    """A digest of a password hash; token payloads are signed, not encrypted, so never the hash itself."""
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:32]


def verification_token(user: User) -> str:
    """A link token confirming ``user``'s current e-mail address."""
    return _serializer(VERIFY_SALT).dumps({"u": user.id, "e": user.email})


def read_verification_token(token: str) -> tuple[int, str]:
    """(user id, e-mail) of a verification token; raises LinkProblem."""
    data = _read(VERIFY_SALT, token, VERIFY_MAX_AGE)
    user_id, email = data.get("u"), data.get("e")
    if not isinstance(user_id, int) or not isinstance(email, str):
        raise LinkProblem(expired=False)
    return user_id, email


def reset_token(user: User) -> str:
    """A link token that lets ``user`` set a new password once."""
    return _serializer(RESET_SALT).dumps({"u": user.id, "h": password_fingerprint(user.password_hash)})


def read_reset_token(token: str) -> tuple[int, str]:
    """(user id, password fingerprint) of a reset token; raises LinkProblem."""
    data = _read(RESET_SALT, token, RESET_MAX_AGE)
    user_id, fingerprint = data.get("u"), data.get("h")
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        raise LinkProblem(expired=False)
    return user_id, fingerprint


def sign_in_token(user: User, last_success_id: int) -> str:
    """A link token that signs ``user`` in once, until any other successful sign-in."""
    return _serializer(SIGN_IN_SALT).dumps({"u": user.id, "s": last_success_id})


def read_sign_in_token(token: str) -> tuple[int, int]:
    """(user id, the latest successful sign-in id when it was issued) of a sign-in token; raises LinkProblem."""
    data = _read(SIGN_IN_SALT, token, SIGN_IN_MAX_AGE)
    user_id, last_success = data.get("u"), data.get("s")
    if not isinstance(user_id, int) or not isinstance(last_success, int):
        raise LinkProblem(expired=False)
    return user_id, last_success


def email_change_token(user: User) -> str:
    """A link token confirming the new address ``user`` asked to change to (their pending e-mail and nonce)."""
    payload = {"u": user.id, "e": user.pending_email, "n": user.pending_email_nonce}
    return _serializer(EMAIL_CHANGE_SALT).dumps(payload)


def read_email_change_token(token: str) -> tuple[int, str, str]:
    """(user id, new e-mail, nonce) of an e-mail change token; raises LinkProblem."""
    data = _read(EMAIL_CHANGE_SALT, token, EMAIL_CHANGE_MAX_AGE)
    user_id, email, nonce = data.get("u"), data.get("e"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(email, str) or not isinstance(nonce, str):
        raise LinkProblem(expired=False)
    return user_id, email, nonce


SPONSOR_INVITATION_SALT = "kitas.sponsor-invitation"
# As long as the sponsor step waits (the diagram's deadline): a newer invitation carries a fresh link.
SPONSOR_INVITATION_MAX_AGE = timedelta(days=14)


def sponsor_invitation_token(application_id: int, email: str) -> str:
    """A link token inviting ``email`` to register as the sponsor the case ``application_id`` names."""
    return _serializer(SPONSOR_INVITATION_SALT).dumps({"a": application_id, "e": email})


def read_sponsor_invitation_token(token: str) -> tuple[int, str]:
    """(case id, invited e-mail) of a sponsor invitation token; raises LinkProblem."""
    data = _read(SPONSOR_INVITATION_SALT, token, SPONSOR_INVITATION_MAX_AGE)
    application_id, email = data.get("a"), data.get("e")
    if not isinstance(application_id, int) or not isinstance(email, str):
        raise LinkProblem(expired=False)
    return application_id, email
