"""The applicant's appointments: move or cancel her biometrics appointment until 24 hours before."""

from __future__ import annotations

from flask import url_for
from flask.typing import ResponseReturnValue

from ..appointment_views import change_page
from .routes import bp


@bp.route("/<reference>/appointments/<kind>", methods=["GET", "POST"])
def change_appointment(reference: str, kind: str) -> ResponseReturnValue:
    """Her booking, the free times to move it to, and cancelling it."""
    return change_page(
        reference, kind, "applicant.change_appointment", url_for("applicant.status", reference=reference)
    )
