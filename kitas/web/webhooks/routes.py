"""Routes of the webhooks blueprint: notices from outside providers, authenticated by their signature."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from kitas.extensions import csrf
from kitas.services import payments

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

# Duplicates are acknowledged with 200 so that the provider stops retrying; nothing happens a second time.
_STATUS = {
    payments.ACCEPTED: 200,
    payments.DUPLICATE: 200,
    payments.REJECTED: 400,
    payments.UNKNOWN_PROVIDER: 400,
}


@bp.post("/payments/<provider>")
@csrf.exempt
def payment_notice(provider: str) -> ResponseReturnValue:
    """A payment provider's signed notice (no session, no CSRF token: the signature is the authentication)."""
    headers = {key: value for key, value in request.headers.items()}
    outcome = payments.handle_webhook(provider, request.get_data(cache=False), headers)
    return {"outcome": outcome}, _STATUS.get(outcome, 409)
