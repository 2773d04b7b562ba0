"""Routes of the auth blueprint (placeholder until the accounts work lands)."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """Sign in."""
    abort(501)


@bp.route("/register", methods=["GET", "POST"])
def register() -> ResponseReturnValue:
    """Create an account."""
    abort(501)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out."""
    abort(501)
