"""Public routes: the service's health."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from kitas.services.health import service_health

bp = Blueprint("public", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Report whether the database answers, which diagrams are deployed, and how many timers wait."""
    report = service_health()
    return jsonify(report), (200 if report["database"] == "ok" else 503)
