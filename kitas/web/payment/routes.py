"""Routes of the payment blueprint: the applicant's billing code, amount, expiry and receipt."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from kitas.services.payments import billing_for

from ..access import require_roles, signed_in_user
from ..sessions import passive

bp = Blueprint("payment", __name__, url_prefix="/payments")
require_roles(bp, "applicant")


@bp.get("/<reference>")
def pay(reference: str) -> ResponseReturnValue:
    """The pay page of one of my applications: the billing code is issued the first time it is shown."""
    return render_template("payment/pay.html", payment=billing_for(reference, signed_in_user()))


@bp.get("/<reference>/status")
@passive
def status(reference: str) -> ResponseReturnValue:
    """The status part of the pay page, polled by htmx until the provider's notice arrives."""
    return render_template("payment/_status.html", payment=billing_for(reference, signed_in_user()))
