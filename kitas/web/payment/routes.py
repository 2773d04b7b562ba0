"""Routes of the payment blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payment", __name__, url_prefix="/payments")
