"""Who may enter a blueprint: the session's user, the second factor, and the role check once per blueprint.

Signing in is complete only after the second factor when one is due (the officer roles, or
anyone who turned it on). The password step parks the session as *pending*; the user loader
below, which every blueprint reaches through ``current_user``, treats a session whose code
step was not completed as not signed in at all. So no page of any blueprint, including those
added later, opens before the code step, and nothing needs remembering in each of them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Blueprint, abort, current_app, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from ..extensions import app_clock, login_manager
from ..services.accounts import second_factor_due, user_for_session
from ..services.audit.refusals import record_role_refusal

if TYPE_CHECKING:  # pages handle users, but only services query them
    from ..models import User

# The session id (``<user id>:<session token>``) whose code step was completed in this session.
SECOND_FACTOR_KEY = "_kitas_second_factor"
# A sign-in waiting for its code step (or the enrolment of an app): who, since when, where to go next.
PENDING_KEY = "_kitas_pending"
PENDING_FOR = timedelta(minutes=10)
# What the sign-in page says to someone sent there by a page that needs a signed-in person.
SIGN_IN_FIRST = _l("Please sign in to see this page.")
# The roles as a refusal names them.
ROLE_NAMES = {
    "applicant": _l("applicant"),
    "sponsor": _l("sponsor"),
    "verifier": _l("verifier"),
    "supervisor": _l("supervisor"),
    "admin": _l("administrator"),
    "analyst": _l("analyst"),
}


def require_roles(bp: Blueprint, *roles: str) -> None:
    """Let only signed-in people holding one of ``roles`` into ``bp`` (others: login page or 403), and
    audit each refusal (at most one row per window for a user, or an anonymous address, and blueprint)."""

    @bp.before_request
    def _check_role() -> ResponseReturnValue | None:
        if not current_user.is_authenticated:
            _audit_refusal(None, bp.name, roles)
            return login_manager.unauthorized()
        if not any(current_user.has_role(role) for role in roles):
            _audit_refusal(signed_in_user(), bp.name, roles)
            names = ", ".join(str(ROLE_NAMES.get(role, role)) for role in roles)
            abort(403, description=_("This page is for the roles: %(roles)s.", roles=names))
        return None


def _audit_refusal(user: User | None, area: str, roles: tuple[str, ...]) -> None:
    window = timedelta(minutes=int(current_app.config["KITAS_REFUSAL_AUDIT_WINDOW_MINUTES"]))
    record_role_refusal(user, (request.remote_addr or "unknown")[:64], area, request.path, roles, window)


def signed_in_user() -> User:
    """The signed-in user as a model object (routes pass it to services)."""
    user: User = current_user._get_current_object()
    return user


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session id ``<id>:<token>``; a replaced token ends the session, and a session
    whose second factor is due but not given is parked as pending (the code step comes first)."""
    user = user_for_session(session_id)
    if user is None:
        session.clear()
        return None
    if second_factor_due(user) and session.get(SECOND_FACTOR_KEY) != session_id:
        # Signed in before the factor was required (a new role, an app set up elsewhere): the code step.
        begin_pending(user, None)
        return None
    return user


def begin_pending(user: User, next_target: str | None) -> None:
    """Park a fresh session at the code step for ``user`` (the password, or a sign-in link, was right)."""
    session.clear()
    session[PENDING_KEY] = {
        "id": user.get_id(),
        "since": int(app_clock().now().timestamp()),
        "next": next_target or "",
    }


def pending_user() -> User | None:
    """The user whose sign-in waits for its code step in this session, if it is recent and still valid."""
    pending: Any = session.get(PENDING_KEY)
    if not isinstance(pending, dict) or not isinstance(pending.get("id"), str):
        return None
    since = pending.get("since")
    if not isinstance(since, int) or app_clock().now().timestamp() - since > PENDING_FOR.total_seconds():
        session.pop(PENDING_KEY, None)
        return None
    return user_for_session(pending["id"])


def pending_next() -> str | None:
    """Where the pending sign-in was going."""
    pending: Any = session.get(PENDING_KEY)
    return (pending.get("next") or None) if isinstance(pending, dict) else None


def complete_sign_in(user: User, *, second_factor_given: bool) -> None:
    """A brand-new session for ``user``: nothing of the anonymous or pending one survives (no fixation)."""
    session.clear()
    login_user(user)
    if second_factor_given:
        mark_second_factor_given(user)
    # Permanent sessions expire after KITAS_SESSION_IDLE_MINUTES without a request.
    session.permanent = True


def mark_second_factor_given(user: User) -> None:
    """Record in the session that ``user`` completed the code step (or just set up an app)."""
    session[SECOND_FACTOR_KEY] = user.get_id()
