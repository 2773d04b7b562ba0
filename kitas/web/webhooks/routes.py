"""Routes of the webhooks blueprint: notices from outside providers, authenticated by their signature."""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from kitas.extensions import csrf
from kitas.services import payments

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

# Authentic notices are acknowledged with 200 even when refused (a duplicate, a wrong amount, an
# expired code): retrying cannot change the answer, and the refusal is in the audit trail for follow-up.
# Only a conflict (the case changed at that moment) asks the provider to retry.
_STATUS = {
    payments.REJECTED: 400,
    payments.UNKNOWN_PROVIDER: 400,
    payments.CONFLICT: 409,
}


@bp.post("/payments/<provider>")
@csrf.exempt
def payment_notice(provider: str) -> ResponseReturnValue:
    """A payment provider's signed notice (no session, no CSRF token: the signature is the authentication)."""
    headers = {key: value for key, value in request.headers.items()}
    outcome = payments.handle_webhook(provider, request.get_data(cache=False), headers)
    return {"outcome": outcome}, _STATUS.get(outcome, 200)
