"""Routes of the sponsor blueprint."""

from __future__ import annotations

from flask import Blueprint, abort
from flask.typing import ResponseReturnValue

bp = Blueprint("sponsor", __name__, url_prefix="/sponsor")


@bp.get("/")
def requests() -> ResponseReturnValue:
    """Guarantees to confirm."""
    abort(501)
