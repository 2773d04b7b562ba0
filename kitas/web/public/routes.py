"""Public routes: the start page, what each KITAS type needs, and the service's health."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from kitas.services import catalog as kitas_catalog
from kitas.services.health import ping_database, service_health

bp = Blueprint("public", __name__)


@bp.get("/")
def home() -> ResponseReturnValue:
    """Send signed-in people to their own start page; show everyone else what the service does."""
    if current_user.is_authenticated:
        for role, endpoint in (
            ("verifier", "officer.inbox"),
            ("supervisor", "officer.inbox"),
            ("applicant", "applicant.dashboard"),
            ("sponsor", "sponsor.requests"),
        ):
            if current_user.has_role(role):
                return redirect(url_for(endpoint))
    return render_template("public/home.html", types=kitas_catalog.kitas_types())


@bp.get("/types")
def types() -> ResponseReturnValue:
    """Every KITAS type: index code, sponsor, documents, and whether it can be applied for online."""
    return render_template("public/types.html", types=kitas_catalog.kitas_types())


@bp.get("/types/<code>")
def type_detail(code: str) -> ResponseReturnValue:
    """What one KITAS type needs: documents, sponsor, deadlines."""
    return render_template("public/type_detail.html", kitas_type=kitas_catalog.kitas_type(code))


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Report whether the database answers, which diagrams are deployed, and how many timers wait."""
    report = service_health()
    return jsonify(report), (200 if report["database"] == "ok" else 503)


@bp.get("/ping")
def ping() -> ResponseReturnValue:
    """The smallest page that reads one row; the HTTP benchmark's yardstick."""
    return {"ok": True, "audit_seq": ping_database()}
