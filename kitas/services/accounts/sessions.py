"""Who a session belongs to: the user of a session id, checked against the account's current session token."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import User


def user_for_session(session_id: str) -> User | None:
    """The active user of a session id ``<id>:<token>``; None when the token was replaced (signed out elsewhere)."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    # One query for the user, their roles and second factor: this runs on every signed-in request.
    query = select(User).options(joinedload(User.roles), joinedload(User.second_factor)).where(User.id == int(user_id))
    user = db.session.scalars(query).unique().first()
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user
