"""Routes of the sandbox_bank blueprint."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sandbox_bank", __name__, url_prefix="/sandbox-bank")
