"""The administrators' pages: the incidents list, one incident with retry and resolve, the case behind it,
permits, and the offices each officer works in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.i18n import current_language, translate
from kitas.services.errors import Conflict, InvalidInput
from kitas.services.incidents import actions, listing
from kitas.services.offices import staff
from kitas.services.permits import revocation

from ..access import require_roles, signed_in_user
from ..text import said, sentence

bp = Blueprint("admin", __name__, url_prefix="/admin")
require_roles(bp, "admin")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The administration start page is the open incidents."""
    return redirect(url_for("admin.incidents"))


@bp.get("/incidents")
def incidents() -> ResponseReturnValue:
    """Incidents, the most recent failure first; ``?status=open|resolved|all`` and ``?kind=`` filter them."""
    filters = listing.IncidentFilter.parse(request.args.get("status"), request.args.get("kind"))
    page = listing.incident_page(signed_in_user(), filters, request.args.get("page", 1, type=int))
    return render_template("admin/incidents.html", page=page, filters=filters, statuses=listing.STATUSES)


@bp.get("/incidents/<int:incident_id>")
def incident(incident_id: int) -> ResponseReturnValue:
    """One incident: the whole error, its case, what was done, and the retry and resolve forms."""
    row = listing.incident_detail(signed_in_user(), incident_id)
    return render_template("admin/incident.html", row=row, note="", errors={})


@bp.post("/incidents/<int:incident_id>/retry")
def retry(incident_id: int) -> ResponseReturnValue:
    """Run the failed part again (on a newer compatible version of the process, if one is deployed)."""
    try:
        outcome = actions.retry(incident_id, signed_in_user())
    except Conflict as exc:
        flash(said(exc), "warning")
        return _back(incident_id)
    if outcome.requeued:
        flash(_("Queued again with a fresh set of attempts; a new incident opens if it gives up again."), "success")
    elif outcome.went_on:
        if outcome.moved_to:
            flash(
                _(
                    "Retried: the case went on. It now runs version %(version)s of its process.",
                    version=outcome.moved_to,
                ),
                "success",
            )
        else:
            flash(_("Retried: the case went on."), "success")
    else:
        flash(
            _("The retry failed again, so the incident stays open: %(error)s", error=translate(outcome.error)), "danger"
        )
    if outcome.not_moved:
        flash(sentence(_("A newer version could not be used: %(reason)s", reason=translate(outcome.not_moved))), "info")
    return _back(incident_id)


@bp.post("/incidents/<int:incident_id>/resolve")
def resolve(incident_id: int) -> ResponseReturnValue:
    """Close the incident with a note (required); an empty or too long note shows the page again, note kept."""
    note = request.form.get("note", "")
    user = signed_in_user()
    try:
        actions.resolve(incident_id, user, note)
    except InvalidInput as exc:
        row = listing.incident_detail(user, incident_id)
        return render_template("admin/incident.html", row=row, note=note, errors=exc.errors), 422
    except Conflict as exc:
        flash(said(exc), "warning")
        return _back(incident_id)
    flash(_("The incident is resolved; your note is kept with it."), "success")
    return _back(incident_id)


@bp.get("/cases/<reference>")
def case(reference: str) -> ResponseReturnValue:
    """The case behind incidents: where it stands, its open tasks, version, history and incidents."""
    view = listing.case_for_admin(signed_in_user(), reference, current_language())
    return render_template("admin/case.html", view=view)


def _back(incident_id: int) -> ResponseReturnValue:
    """Back to the list when the button was pressed there (a fixed word, never a URL), else the incident."""
    if request.form.get("back") == "list":
        return redirect(url_for("admin.incidents"))
    return redirect(url_for("admin.incident", incident_id=incident_id))


@bp.get("/permits")
def permits() -> ResponseReturnValue:
    """Issued permits, newest first; ``?number=`` finds one by (the start of) its number."""
    number = request.args.get("number", "")
    return render_template(
        "admin/permits.html", rows=revocation.recent_permits(number), number=number, errors={}, reason=""
    )


@bp.post("/permits/<number>/revoke")
def revoke_permit(number: str) -> ResponseReturnValue:
    """Revoke a permit with a reason; its verification page says revoked from now on."""
    reason = request.form.get("reason", "")
    try:
        revocation.revoke(number, signed_in_user(), reason)
    except InvalidInput as exc:
        errors = {field: [str(translate(m)) for m in messages] for field, messages in exc.errors.items()}
        rows = revocation.recent_permits(number)
        return render_template("admin/permits.html", rows=rows, number=number, errors=errors, reason=reason), 422
    except Conflict as exc:
        flash(said(exc), "warning")
        return redirect(url_for("admin.permits", number=number))
    flash(_("Permit %(number)s is revoked.", number=number), "success")
    return redirect(url_for("admin.permits", number=number))


@bp.get("/officers")
def officers() -> ResponseReturnValue:
    """Every officer with her offices, and a form per officer to set them."""
    rows, offices = staff.officer_offices_page(signed_in_user())
    return render_template("admin/officers.html", rows=rows, offices=offices, errors=[])


@bp.post("/officers/<int:officer_id>/offices")
def set_officer_offices(officer_id: int) -> ResponseReturnValue:
    """Give an officer exactly the offices ticked (none: she sees no case); audited."""
    user = signed_in_user()
    chosen = request.form.getlist("office", type=int)
    try:
        codes = staff.set_officer_offices(user, officer_id, chosen)
    except InvalidInput as exc:
        rows, offices = staff.officer_offices_page(user)
        problems = [message for messages in exc.errors.values() for message in messages]
        return render_template("admin/officers.html", rows=rows, offices=offices, errors=problems), 422
    if codes:
        flash(_("Saved: the officer works in %(offices)s.", offices=", ".join(codes)), "success")
    else:
        flash(_("Saved: the officer has no office now and sees no case."), "info")
    return redirect(url_for("admin.officers"))
