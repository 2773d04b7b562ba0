"""Who may enter a blueprint: the role check done once per blueprint, and the session's user."""

from __future__ import annotations

from flask import Blueprint, abort, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from ..models import User


def require_roles(bp: Blueprint, *roles: str) -> None:
    """Let only signed-in people holding one of ``roles`` into ``bp`` (others: login page or 403)."""

    @bp.before_request
    def _check_role() -> ResponseReturnValue | None:
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        if not any(current_user.has_role(role) for role in roles):
            abort(403, description=f"This page is for the roles: {', '.join(roles)}.")
        return None


def signed_in_user() -> User:
    """The signed-in user as a model object (routes pass it to services)."""
    user: User = current_user._get_current_object()
    return user


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session id ``<id>:<token>``; a replaced token ends the session."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    # One query for the user and their roles: this runs on every signed-in request.
    user = (
        db.session.scalars(select(User).options(joinedload(User.roles)).where(User.id == int(user_id))).unique().first()
    )
    if user is None or not user.is_active or user.session_token != token:
        session.clear()
        return None
    return user
