"""Sign-in limits per account and per address, counted from ``login_attempt`` rows.

The rows live in the database, so a limit holds across every web process and
machine that shares it. A successful sign-in (or a password reset) wipes an
account's earlier failures; an address's failures stay until they leave the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, text

from ...extensions import app_clock, db
from ...models import LoginAttempt
from ...transactions import is_postgres


def _limit_reached(failures: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """When enough of ``failures`` (oldest first) leave the window to fall under ``limit``."""
    if limit <= 0 or len(failures) < limit:
        return None
    return failures[len(failures) - limit] + window


def throttled_until(account: str, address: str) -> datetime | None:
    """The time sign-ins for ``account`` or from ``address`` are allowed again, or None when they are."""
    config = current_app.config
    window = timedelta(minutes=int(config["KITAS_LOGIN_WINDOW_MINUTES"]))
    start = app_clock().now() - window
    # Ids, not times, order a success and the failures after it (several can share one clock tick).
    last_success_id = db.session.scalar(
        select(func.max(LoginAttempt.id)).where(LoginAttempt.account == account, LoginAttempt.succeeded)
    )
    by_account = db.session.scalars(
        select(LoginAttempt.occurred_at)
        .where(
            LoginAttempt.account == account,
            ~LoginAttempt.succeeded,
            LoginAttempt.occurred_at >= start,
            LoginAttempt.id > (last_success_id or 0),
        )
        .order_by(LoginAttempt.occurred_at)
    ).all()
    by_address = db.session.scalars(
        select(LoginAttempt.occurred_at)
        .where(LoginAttempt.address == address, ~LoginAttempt.succeeded, LoginAttempt.occurred_at >= start)
        .order_by(LoginAttempt.occurred_at)
    ).all()
    found = [
        moment
        for moment in (
            _limit_reached(list(by_account), int(config["KITAS_LOGIN_MAX_FAILURES_PER_ACCOUNT"]), window),
            _limit_reached(list(by_address), int(config["KITAS_LOGIN_MAX_FAILURES_PER_ADDRESS"]), window),
        )
        if moment is not None
    ]
    return max(found) if found else None


def record_attempt(account: str, address: str, succeeded: bool) -> int:
    """Add one attempt row inside the caller's transaction and return its id."""
    row = LoginAttempt(account=account[:254], address=address[:64], occurred_at=app_clock().now(), succeeded=succeeded)
    db.session.add(row)
    db.session.flush()
    return row.id


def mark_succeeded(attempt_id: int) -> None:
    """Turn an attempt counted as failed while the password was checked into a success."""
    row = db.session.get(LoginAttempt, attempt_id)
    if row is not None:
        row.succeeded = True


def lock_keys(account: str, address: str) -> None:
    """Serialize sign-ins for one account or one address until the caller's transaction ends.

    SQLite already serializes writing transactions (BEGIN IMMEDIATE); PostgreSQL takes
    transaction-level advisory locks, always in the same order so two sign-ins cannot deadlock.
    """
    if not is_postgres():
        return
    for key in sorted({f"login:account:{account}", f"login:address:{address}"}):
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
