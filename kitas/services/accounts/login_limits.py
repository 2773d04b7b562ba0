"""Sign-in limits, counted from ``login_attempt`` rows (in the database, so they hold across processes).

Three counters, each over a sliding window:

- failures for one account *from one address* (5 in 15 minutes): that address waits;
  the owner, signing in from anywhere else, does not;
- failures *from one address* over every account and factor (20 in 15 minutes): that
  address waits;
- failures for one account *from every address* (100 in 24 hours, a ceiling a person
  never reaches but a distributed guesser does): password sign-ins for the account stop
  and a one-time sign-in link is e-mailed to its owner instead, so the owner still gets in.

Wrong one-time codes (the second factor) are counted per account (5 in 15 minutes) and in
the address's counter. A successful sign-in ends the account's failures (from that address
for the first counter); an address's failures stay until they leave the window. Counting
is by row ids, not times, so a success and the failures after it order correctly within
one clock tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, func, select, text

from ...extensions import app_clock, db
from ...models import LoginAttempt
from ...transactions import is_postgres

SUCCESSES_THAT_END_PASSWORD_FAILURES = ("password", "link")


@dataclass(frozen=True)
class Verdict:
    """What the limits allow now: ``retry_at`` set means refused until then; ``link_required`` means
    the account's ceiling is reached and only an e-mailed sign-in link lets its owner in."""

    retry_at: datetime | None = None
    link_required: bool = False


def _window(name: str, unit: str = "minutes") -> timedelta:
    return timedelta(**{unit: int(current_app.config[name])})


def _limit(name: str) -> int:
    return int(current_app.config[name])


def _last_success(*conditions: ColumnElement[bool], factors: tuple[str, ...]) -> int:
    query = select(func.max(LoginAttempt.id)).where(
        *conditions, LoginAttempt.succeeded, LoginAttempt.factor.in_(factors)
    )
    return int(db.session.scalar(query) or 0)


def _reached(limit: int, window: timedelta, *conditions: ColumnElement[bool]) -> datetime | None:
    """When the failures matching ``conditions`` fall back under ``limit``, or None when they are under it.

    The limit-th most recent failure in the window is the one whose leaving the window frees a try.
    """
    if limit <= 0:
        return None
    since = app_clock().now() - window
    query = (
        select(LoginAttempt.occurred_at)
        .where(*conditions, ~LoginAttempt.succeeded, LoginAttempt.occurred_at >= since)
        .order_by(LoginAttempt.occurred_at.desc(), LoginAttempt.id.desc())
        .offset(limit - 1)
        .limit(1)
    )
    moment = db.session.scalar(query)
    return moment + window if moment is not None else None


def _address_limit(address: str) -> datetime | None:
    return _reached(
        _limit("KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS"),
        _window("KITAS_LOGIN_WINDOW_MINUTES"),
        LoginAttempt.address == address,
    )


def password_verdict(account: str, address: str) -> Verdict:
    """May ``account`` try a password from ``address`` now?"""
    by_account = LoginAttempt.account == account
    by_pair = (by_account, LoginAttempt.address == address, LoginAttempt.factor == "password")
    pair_since = _last_success(
        by_account, LoginAttempt.address == address, factors=SUCCESSES_THAT_END_PASSWORD_FAILURES
    )
    found = [
        moment
        for moment in (
            _reached(
                _limit("KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"),
                _window("KITAS_LOGIN_WINDOW_MINUTES"),
                *by_pair,
                LoginAttempt.id > pair_since,
            ),
            _address_limit(address),
        )
        if moment is not None
    ]
    if found:
        return Verdict(retry_at=max(found))
    account_since = _last_success(by_account, factors=SUCCESSES_THAT_END_PASSWORD_FAILURES)
    ceiling = _reached(
        _limit("KITAS_LOGIN_ACCOUNT_CEILING"),
        _window("KITAS_LOGIN_CEILING_HOURS", "hours"),
        by_account,
        LoginAttempt.factor == "password",
        LoginAttempt.id > account_since,
    )
    return Verdict(link_required=ceiling is not None)


def code_verdict(account: str, address: str) -> Verdict:
    """May ``account`` try a one-time code (second factor) from ``address`` now?"""
    by_account = LoginAttempt.account == account
    since = _last_success(by_account, factors=("code",))
    found = [
        moment
        for moment in (
            _reached(
                _limit("KITAS_MFA_MAX_FAILURES"),
                _window("KITAS_LOGIN_WINDOW_MINUTES"),
                by_account,
                LoginAttempt.factor == "code",
                LoginAttempt.id > since,
            ),
            _address_limit(address),
        )
        if moment is not None
    ]
    return Verdict(retry_at=max(found) if found else None)


def record_attempt(account: str, address: str, succeeded: bool, factor: str = "password") -> int:
    """Add one attempt row inside the caller's transaction and return its id."""
    row = LoginAttempt(
        account=account[:254], address=address[:64], occurred_at=app_clock().now(), succeeded=succeeded, factor=factor
    )
    db.session.add(row)
    db.session.flush()
    return row.id


def mark_succeeded(attempt_id: int) -> None:
    """Turn an attempt counted as failed while the password was checked into a success."""
    row = db.session.get(LoginAttempt, attempt_id)
    if row is not None:
        row.succeeded = True


def last_success_id(account: str) -> int:
    """The id of the account's latest successful password or link sign-in (0: none); a sign-in link
    carries it, so any later sign-in, the link's own included, spends the link."""
    return _last_success(LoginAttempt.account == account, factors=SUCCESSES_THAT_END_PASSWORD_FAILURES)


def throttle_window() -> timedelta:
    """The window of the per-address counters (also the period of their audit rows)."""
    return _window("KITAS_LOGIN_WINDOW_MINUTES")


def lock_keys(account: str, address: str) -> None:
    """Serialize sign-ins for one account or one address until the caller's transaction ends.

    SQLite already serializes writing transactions (BEGIN IMMEDIATE); PostgreSQL takes
    transaction-level advisory locks, always in the same order so two sign-ins cannot deadlock.
    """
    if not is_postgres():
        return
    for key in sorted({f"login:account:{account}", f"login:address:{address}"}):
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
