"""Routes of the officer blueprint."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("officer", __name__, url_prefix="/officer")


@bp.get("/")
def inbox() -> ResponseReturnValue:
    """The task inbox."""
    abort(501)
