"""Signing in and out: a password within the limits, or the one-time link the limits send instead.

The second factor (when due) is the web layer's next step after either; see second_factor.py.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import User
from ...transactions import write_transaction
from .. import audit
from ..errors import ServiceError
from . import login_limits, mail, passwords
from . import tokens as account_tokens
from .fields import normalize_email

GENERIC_LOGIN_ERROR = Message("The e-mail address or password is not correct. Check both and try again.")


class LoginRefused(ServiceError):
    """Unknown e-mail or wrong password (one message for both, so accounts cannot be discovered)."""

    def __init__(self) -> None:
        super().__init__(GENERIC_LOGIN_ERROR)


class LoginThrottled(ServiceError):
    """Too many failed sign-ins for this account from this address, or from this address; ``retry_at`` says when."""

    def __init__(self, retry_at: datetime):
        self.retry_at = retry_at
        super().__init__(Message("too many failed sign-ins; try again later or reset your password"))


class SignInLinkRequired(ServiceError):
    """The account's ceiling of failed sign-ins is reached: its owner was e-mailed a one-time sign-in link.

    Said whether or not the address has an account, and whatever the password, which is not checked.
    """

    def __init__(self) -> None:
        super().__init__(Message("signing in with a password is paused for this account; a sign-in link was e-mailed"))


class AccountDisabled(ServiceError):
    """The password was right but the account is closed (said only after a correct password)."""


class SignInLinkInvalid(ServiceError):
    """A sign-in link that is forged, too old, or spent by a later sign-in."""

    def __init__(self, message: str, *, expired: bool = False):
        self.expired = expired
        super().__init__(message)


def _anonymous(address: str) -> str:
    return f"anonymous ({address})"


def _user_by_email(email: str) -> User | None:
    return db.session.scalars(select(User).where(User.email == email)).first()


def _refuse_early(account: str, address: str) -> int:
    """Check the limits and count this attempt as a failure in one locked step, before the slow hash:
    parallel guesses queue here and each sees the ones before it. Returns the attempt's id."""
    with write_transaction():
        login_limits.lock_keys(account, address)
        verdict = login_limits.password_verdict(account, address)
        if verdict.retry_at is None and not verdict.link_required:
            return login_limits.record_attempt(account, address, succeeded=False)
        # Whoever keeps trying, the trail gains at most one row per window and address (or account).
        window = login_limits.throttle_window()
        if verdict.retry_at is not None:
            detail: dict[str, Any] = {"email": account, "address": address, "retry_at": verdict.retry_at.isoformat()}
            key = f"login_throttled:{address}"
            audit.record_once_per_window(key, window, "login_throttled", detail, actor=_anonymous(address))
        else:
            mail.queue(mail.SIGN_IN_LINK, account, address)
            detail = {"email": account, "address": address}
            key = f"login_link_required:{account}"
            audit.record_once_per_window(key, window, "login_link_required", detail, actor=_anonymous(address))
    if verdict.retry_at is not None:
        raise LoginThrottled(verdict.retry_at)
    raise SignInLinkRequired()


def authenticate(email: str, password: str, address: str) -> User:
    """Check an e-mail and password within the limits; returns the user (the second factor comes next)."""
    account = normalize_email(email)[:254]
    address = (address or "unknown")[:64]
    attempt_id = _refuse_early(account, address)
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
            raise AccountDisabled(
                Message("this account is closed; contact the immigration office if you think this is wrong")
            )
        raise LoginRefused()
    return user


def _link_user(token: str) -> tuple[User, int]:
    try:
        user_id, last_success = account_tokens.read_sign_in_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            raise SignInLinkInvalid(Message("this sign-in link is more than 30 minutes old"), expired=True) from None
        raise SignInLinkInvalid(Message("this sign-in link is damaged or not one of ours")) from None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        raise SignInLinkInvalid(Message("this sign-in link is for an account that is closed"))
    return user, last_success


def check_sign_in_link(token: str) -> User:
    """The user a sign-in link is for, if it is authentic, recent and not spent by a later sign-in."""
    user, last_success = _link_user(token)
    if login_limits.last_success_id(user.email) != last_success:
        raise SignInLinkInvalid(Message("this sign-in link was already used, or you signed in since it was sent"))
    return user


def sign_in_with_link(token: str, address: str) -> User:
    """Sign in with a one-time link: it counts as a successful sign-in, which spends it and ends the
    account's run of failures (the password works again)."""
    user, last_success = _link_user(token)
    with write_transaction():
        login_limits.lock_keys(user.email, address)
        if login_limits.last_success_id(user.email) != last_success:  # another tab, or a sign-in since
            raise SignInLinkInvalid(Message("this sign-in link was already used, or you signed in since it was sent"))
        login_limits.record_attempt(user.email, address, True, factor="link")
        row = db.session.get(User, user.id)
        audit.record("login_succeeded", {"email": user.email, "address": address, "with": "link"}, user=row)
    return user


def logout(user: User, address: str) -> None:
    """End every session of ``user``: a copied session cookie stops working too."""
    with write_transaction():
        row = db.session.get(User, user.id)
        if row is None:
            return
        row.session_token = secrets.token_hex(16)
        audit.record("logout", {"email": row.email, "address": address}, user=row)
