"""Routes of the sandbox_bank blueprint: a test bank that pays the sandbox provider's billing codes.

It stands apart from KITAS Online as a real bank would: no KITAS login, its own
look, and it learns nothing about the case; it only talks to the provider. Its
pages exist only with the sandbox provider, and registering them mounts the
sandbox bank service as that provider's back end.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from kitas.services import sandbox_bank
from kitas.services.sandbox_bank import PaymentRefused, find_bill, paid_bill, pay

from ..text import message_of

bp = Blueprint("sandbox_bank", __name__, url_prefix="/sandbox-bank")


@bp.record_once
def _mount(state: BlueprintSetupState) -> None:
    """The bank's pages and the provider it simulates come together: one application, one mount."""
    sandbox_bank.mount(state.app)


@bp.app_context_processor
def _demo_payments() -> dict[str, bool]:
    """While the sandbox bank is on, every page of the service says that payments are a demo."""
    return {"demo_payments": True}


_REFUSAL_STATUS = {"unknown": 404, "paid": 409, "expired": 409, "wrong_amount": 409}


def _refused(code: str, refusal: PaymentRefused) -> ResponseReturnValue:
    """The code form again, with the reason and the code as typed."""
    page = render_template("sandbox_bank/index.html", code=code, error=message_of(refusal), refusal=refusal)
    return page, _REFUSAL_STATUS.get(refusal.code, 400)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Enter a billing code (prefilled when the merchant's page links here)."""
    return render_template("sandbox_bank/index.html", code=request.args.get("code", "")[:40], error=None)


@bp.get("/confirm")
def confirm() -> ResponseReturnValue:
    """Show the bill's merchant, description and amount before paying."""
    code = request.args.get("code", "")[:40]
    try:
        bill = find_bill(code)
    except PaymentRefused as refusal:
        return _refused(code, refusal)
    return render_template("sandbox_bank/confirm.html", bill=bill)


@bp.post("/pay")
def pay_bill() -> ResponseReturnValue:
    """Pay the bill; the provider then notifies the merchant by webhook."""
    code = request.form.get("code", "")[:40]
    amount_text = request.form.get("amount", "").strip()
    if not amount_text.isdigit():
        return _refused(code, PaymentRefused("bad_amount", _("The amount must be a whole number of rupiah.")))
    try:
        receipt = pay(code, int(amount_text))
    except PaymentRefused as refusal:
        return _refused(code, refusal)
    return redirect(url_for(".receipt", code=receipt.billing_code), code=303)


@bp.get("/receipts/<code>")
def receipt(code: str) -> ResponseReturnValue:
    """The bank's receipt of a paid bill."""
    bill = paid_bill(code[:40])
    if bill is None:
        abort(404)
    return render_template("sandbox_bank/receipt.html", bill=bill)
