"""Sessions whose idle timeout only counts what the person does, not what an open page polls."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, g
from flask.sessions import SecureCookieSessionInterface, SessionMixin

View = TypeVar("View", bound=Callable[..., Any])


class IdleAwareSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions renewed on each request, except on passive polls (see ``passive``)."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """A passive request re-issues the cookie only when it changed the session."""
        if g.get("kitas_passive_request"):
            return bool(session.modified)
        return super().should_set_cookie(app, session)


def passive(view: View) -> View:
    """Mark a view as a background refresh: it neither renews the session nor delays its idle timeout."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.kitas_passive_request = True
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
