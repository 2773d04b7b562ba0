"""Routes of the applicant blueprint."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("applicant", __name__, url_prefix="/applications")


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """My applications."""
    abort(501)


@bp.post("/new/<kitas_type>")
def start(kitas_type: str) -> ResponseReturnValue:
    """Start an application."""
    abort(501)
