"""The officers' appointments: publish slots of their offices, see a day's appointments per office,
record attended or missed; move or cancel a family interview the officers booked."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.services.appointments import slots as slot_service
from kitas.services.errors import Conflict, InvalidInput

from ..access import signed_in_user
from ..appointment_views import change_page
from ..text import said
from .routes import bp

FIELDS = ("office_id", "kind", "day", "start", "minutes", "capacity", "last_day", "every")


@bp.get("/appointments")
def appointments() -> ResponseReturnValue:
    """One office's appointments of one day (the office's local day), and the form to publish slots."""
    view = slot_service.day_view(signed_in_user(), request.args.get("office"), request.args.get("day"))
    return render_template("officer/appointments.html", view=view, typed={}, errors={}, lengths=slot_service.LENGTHS)


@bp.post("/appointments/slots")
def publish_slots() -> ResponseReturnValue:
    """Publish one slot, or a series when a last day is given; every problem is named on its field."""
    user = signed_in_user()
    typed = {name: request.form.get(name, "").strip() for name in FIELDS}
    if request.form.get("series") != "1":
        typed["last_day"] = typed["every"] = ""
    try:
        count = slot_service.publish(user, slot_service.SlotRequest(**typed))
    except (InvalidInput, Conflict) as exc:
        errors = exc.errors if isinstance(exc, InvalidInput) else {"start": [exc.message]}
        view = slot_service.day_view(user, typed["office_id"], typed["day"] or None)
        return render_template(
            "officer/appointments.html", view=view, typed=typed, errors=errors, lengths=slot_service.LENGTHS
        ), 422
    flash(_("Published: %(count)s appointment times.", count=count), "success")
    return redirect(url_for("officer.appointments", office=typed["office_id"], day=typed["day"]))


@bp.post("/appointments/<int:appointment_id>/<outcome>")
def record_appointment(appointment_id: int, outcome: str) -> ResponseReturnValue:
    """Record that the person came (attended) or did not (missed)."""
    user = signed_in_user()
    back = url_for("officer.appointments", office=request.form.get("office"), day=request.form.get("day"))
    try:
        if outcome == "attended":
            slot_service.mark_attended(user, appointment_id)
            flash(_("Recorded: the person came."), "success")
        elif outcome == "missed":
            slot_service.mark_missed(user, appointment_id)
            flash(_("Recorded: the appointment was missed."), "success")
        else:
            return redirect(back)
    except (Conflict, InvalidInput) as exc:
        flash(said(exc), "warning")
    return redirect(back)


@bp.route("/cases/<reference>/appointments/<kind>", methods=["GET", "POST"])
def change_appointment(reference: str, kind: str) -> ResponseReturnValue:
    """Move or cancel a booking the officers' lane made (the family interview), until 24 hours before."""
    return change_page(reference, kind, "officer.change_appointment", url_for("officer.inbox"))
