"""Who may enter a blueprint: the role check done once per blueprint, and the session's user."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import login_manager
from ..services.accounts.sessions import user_for_session

if TYPE_CHECKING:  # pages handle users, but only services query them
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
    user = user_for_session(session_id)
    if user is None:
        session.clear()
    return user
