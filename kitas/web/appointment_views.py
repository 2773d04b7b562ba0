"""The page where a booked appointment is moved or cancelled, shared by the applicant's and the
officers' blueprints (each checks its roles; the service checks the case and the booking lane)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..services.appointments import booking as booking_service
from ..services.errors import Conflict, InvalidInput
from .access import signed_in_user
from .text import said


def change_page(reference: str, kind: str, endpoint: str, done_url: str) -> ResponseReturnValue:
    """The page both audiences share: the booking, the free times to move it to, cancel."""
    user = signed_in_user()
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            if request.form.get("action") == "cancel":
                booking_service.cancel(reference, kind, user)
                flash(_("The appointment is cancelled. Choose a new time when you can."), "success")
            else:
                booking_service.rebook(reference, kind, user, request.form.get("appointment_slot", type=int))
                flash(_("The appointment is moved."), "success")
            return redirect(url_for(endpoint, reference=reference, kind=kind))
        except InvalidInput as exc:
            errors = dict(exc.errors)
        except Conflict as exc:
            flash(said(exc), "warning")
    page = booking_service.change_page(reference, kind, user)
    return render_template(
        "appointments/change.html", page=page, errors=errors, endpoint=endpoint, done_url=done_url
    ), 422 if errors else 200
