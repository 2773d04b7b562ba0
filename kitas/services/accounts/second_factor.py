"""The second factor: TOTP codes from an authenticator app (RFC 6238) and one-time recovery codes.

Required for the officer roles (``MFA_ROLES``) before any of their pages open, optional for
applicants and sponsors. Enrolment keeps a pending secret until a first code from the app
confirms it, then hands out ``RECOVERY_CODES`` recovery codes, shown once and kept as SHA-256
digests (each carries 80 random bits, so a fast digest is safe). A TOTP code is accepted for
the current 30-second step or one step either side (clocks drift), and never twice: the
accepted step is stored and only later steps are accepted after it. Wrong codes are counted
like wrong passwords (``login_limits.code_verdict``) and audited.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import pyotp
import segno
from sqlalchemy import delete, select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import RecoveryCode, SecondFactor, User
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..errors import ServiceError
from . import login_limits

MFA_ROLES = ("verifier", "supervisor", "analyst", "admin")
ISSUER = "KITAS Online"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are copied by hand
_RECOVERY_LENGTH = 16


class CodeRefused(ServiceError):
    """A one-time code that is wrong, used already, or missing; the message says which and what to do."""


class CodeThrottled(ServiceError):
    """Too many wrong codes for this account or from this address; ``retry_at`` says when to retry."""

    def __init__(self, retry_at: object):
        self.retry_at = retry_at
        super().__init__(Message("too many wrong codes; wait before trying again"))


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret for manual entry, its otpauth URI and the QR code as SVG."""

    secret: str
    uri: str
    qr_svg: str

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to type into an app."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def requires_second_factor(user: User) -> bool:
    """True for the officer roles: they cannot open a page before their code step."""
    return any(user.has_role(role) for role in MFA_ROLES)


def is_enrolled(user: User) -> bool:
    """True once the person confirmed an authenticator app."""
    factor = user.second_factor
    return factor is not None and factor.confirmed_at is not None


def second_factor_due(user: User) -> bool:
    """True when signing in takes a code after the password: the role requires it or the person chose it."""
    return requires_second_factor(user) or is_enrolled(user)


def current_step() -> int:
    """The TOTP time step of now on the application's clock."""
    return int(app_clock().now().timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The six-digit code of ``secret`` for time step ``step`` (what the app shows then)."""
    return str(pyotp.TOTP(secret, interval=STEP_SECONDS).generate_otp(step))


def enrolment(secret: str, email: str) -> Enrolment:
    """The QR code and texts for entering ``secret`` into an authenticator app."""
    uri = pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(name=email, issuer_name=ISSUER)
    svg = segno.make(uri, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return Enrolment(secret, uri, svg)


def _locked_factor(user_id: int) -> SecondFactor | None:
    query = select(SecondFactor).where(SecondFactor.user_id == user_id).execution_options(populate_existing=True)
    if is_postgres():
        query = query.with_for_update()
    return db.session.scalars(query).first()


def start_enrolment(user: User, secret: str | None = None) -> Enrolment:
    """The pending secret of ``user`` (created on first call, the same one after a reload); ``secret`` is
    for demo accounts and tests that must know it. Refused when an app is already confirmed."""
    with write_transaction():
        factor = _locked_factor(user.id)
        if factor is not None and factor.confirmed_at is not None:
            raise ServiceError(Message("an authenticator app is already set up for this account"))
        if factor is None or (secret is not None and factor.secret != secret):
            if factor is not None:
                db.session.delete(factor)
                db.session.flush()
            factor = SecondFactor(user_id=user.id, secret=secret or pyotp.random_base32(), created_at=app_clock().now())
            db.session.add(factor)
        chosen = factor.secret
    db.session.expire(user, ["second_factor"])
    return enrolment(chosen, user.email)


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]+", "", code or "").lower()


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(_normalized(code).encode("ascii", "ignore")).hexdigest()


def _new_recovery_codes(user_id: int) -> list[str]:
    """Replace every recovery code of the user with ``RECOVERY_CODES`` new ones (in the caller's transaction)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    now = app_clock().now()
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append("-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4)))
        db.session.add(RecoveryCode(user_id=user_id, code_hash=_recovery_digest(raw), created_at=now))
    return codes


def _totp_step(factor: SecondFactor, code: str) -> int | None:
    """The step whose code ``code`` is, among now and one step either side, or None."""
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(factor.secret, step), code):
            return step
    return None


def _check_code(user: User, factor: SecondFactor, code: str, *, recovery_allowed: bool) -> str:
    """Accept ``code`` (a TOTP code, or a recovery code when allowed) or raise CodeRefused; returns which kind."""
    typed = _normalized(code)
    if not typed:
        raise CodeRefused(Message("Enter the 6-digit code that your authenticator app shows."))
    if typed.isdigit() and len(typed) == 6:
        step = _totp_step(factor, typed)
        if step is None:
            raise CodeRefused(
                Message("That code is not correct. Enter the code your app shows now (it changes every 30 s).")
            )
        if factor.last_step is not None and step <= factor.last_step:
            raise CodeRefused(
                Message("That code was already used. Wait until your app shows a new one, then enter it.")
            )
        factor.last_step = step
        return "totp"
    if recovery_allowed and len(typed) == _RECOVERY_LENGTH:
        row = db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _recovery_digest(typed)
            )
        ).first()
        if row is not None and row.used_at is None:
            row.used_at = app_clock().now()
            return "recovery"
        if row is not None:
            raise CodeRefused(Message("That recovery code was already used. Each one works once; use another."))
    if recovery_allowed:
        raise CodeRefused(
            Message(
                "That is not a code of this account. "
                "Enter the 6-digit code from your app, or one of your recovery codes."
            )
        )
    raise CodeRefused(Message("That is not a code of this account. Enter the 6-digit code from your app."))


def _verified(user: User, code: str, address: str, purpose: str, *, pending: bool, recovery_allowed: bool) -> str:
    """Check a code within the limits, in one writing transaction; the attempt is counted and audited."""
    failure: CodeRefused | None = None
    with write_transaction():
        login_limits.lock_keys(user.email, address)
        verdict = login_limits.code_verdict(user.email, address)
        if verdict.retry_at is not None:
            audit.record_once_per_window(
                f"code_throttled:{user.id}:{address}",
                login_limits.throttle_window(),
                "code_throttled",
                {"email": user.email, "address": address, "purpose": purpose, "retry_at": verdict.retry_at.isoformat()},
                user=db.session.get(User, user.id),
            )
            throttled = CodeThrottled(verdict.retry_at)
        else:
            throttled = None
            factor = _locked_factor(user.id)
            if factor is None or (factor.confirmed_at is None) != pending:
                raise ServiceError(
                    Message("no authenticator app is waiting for this code; start again from the sign-in page")
                )
            row = db.session.get(User, user.id)
            try:
                kind = _check_code(user, factor, code, recovery_allowed=recovery_allowed)
            except CodeRefused as exc:
                failure = exc
                login_limits.record_attempt(user.email, address, False, factor="code")
                audit.record("code_refused", {"email": user.email, "address": address, "purpose": purpose}, user=row)
            else:
                login_limits.record_attempt(user.email, address, True, factor="code")
                detail = {"email": user.email, "address": address, "purpose": purpose, "kind": kind}
                audit.record("code_accepted", detail, user=row)
                if pending:
                    factor.confirmed_at = app_clock().now()
    if throttled is not None:
        raise throttled
    if failure is not None:
        raise failure
    db.session.expire(user, ["second_factor"])
    return kind


def confirm_enrolment(user: User, code: str, address: str) -> list[str]:
    """Confirm the pending app with its first code; returns the new recovery codes (shown once)."""
    _verified(user, code, address, "enrol", pending=True, recovery_allowed=False)
    with write_transaction():
        codes = _new_recovery_codes(user.id)
        audit.record("mfa_enabled", {"email": user.email, "address": address}, user=db.session.get(User, user.id))
    return codes


def verify_sign_in_code(user: User, code: str, address: str) -> str:
    """The code step of a sign-in: a TOTP code or a recovery code; returns "totp" or "recovery"."""
    return _verified(user, code, address, "sign_in", pending=False, recovery_allowed=True)


def regenerate_recovery_codes(user: User, code: str, address: str) -> list[str]:
    """New recovery codes (the old ones stop working), after a current code from the app."""
    _verified(user, code, address, "recovery_codes", pending=False, recovery_allowed=False)
    with write_transaction():
        codes = _new_recovery_codes(user.id)
        row = db.session.get(User, user.id)
        audit.record("recovery_codes_regenerated", {"email": user.email, "address": address}, user=row)
    return codes


def disable_second_factor(user: User, code: str, address: str) -> None:
    """Turn the second factor off after a current code (TOTP or recovery); refused for the officer roles."""
    if requires_second_factor(user):
        raise ServiceError(Message("your role needs the second factor, so it cannot be turned off"))
    _verified(user, code, address, "disable", pending=False, recovery_allowed=True)
    with write_transaction():
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
        audit.record("mfa_disabled", {"email": user.email, "address": address}, user=db.session.get(User, user.id))
    db.session.expire(user, ["second_factor"])


def recovery_codes_left(user: User) -> int:
    """How many unused recovery codes the person has."""
    query = select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    return len(db.session.scalars(query).all())


def enrol_with_secret(user: User, secret: str) -> None:
    """Set up ``secret`` as the confirmed app of ``user`` without a code (demo accounts, test factories)."""
    with write_transaction():
        factor = _locked_factor(user.id)
        if factor is None:
            factor = SecondFactor(user_id=user.id, secret=secret, created_at=app_clock().now())
            db.session.add(factor)
        factor.secret = secret
        factor.confirmed_at = factor.confirmed_at or app_clock().now()
        factor.last_step = None
        detail = {"email": user.email, "without_code": True}
        audit.record("mfa_enabled", detail, user=db.session.get(User, user.id))
    db.session.expire(user, ["second_factor"])
