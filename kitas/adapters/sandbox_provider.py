"""KITAS Online's adapter for the sandbox payment provider: signed notices, and opening bills.

The provider signs each payment notice with HMAC-SHA256 over ``"<unix time>.<body>"``
(a Stripe-style ``t=...,v1=...`` header); the gateway checks that signature in
constant time, refuses stale timestamps, and reads the notice. How a bill is opened
at the provider is given to the gateway at construction (``OpenBill``): the sandbox
bank service supplies it, so this module does I/O only and never touches the
database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from .payments import SIGNATURE_TOLERANCE, Billing, PaymentNotice, WebhookRejected

PROVIDER_NAME = "sandbox"
SIGNATURE_HEADER = "X-Sandbox-Signature"
EVENT_TYPE = "payment.succeeded"
MAX_BODY_BYTES = 64 * 1024


class OpenBill(Protocol):
    """Open a bill at the provider and return its billing code (the service layer supplies this)."""

    def __call__(
        self, merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str
    ) -> str:
        """Open the bill; returns the code the payer enters at the bank."""
        ...


# -- signatures ----------------------------------------------------------------


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The signature header value: ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _signature_parts(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected(f"the {SIGNATURE_HEADER} header lacks a timestamp or a v1 signature")
    return timestamp, signatures


class SandboxGateway:
    """KITAS Online's adapter for the sandbox provider."""

    name = PROVIDER_NAME
    # The sandbox's bills are amounts, whatever they pay for: one bill may pay several applications.
    supports_combined_billing = True

    def __init__(self, secret: str, open_bill: OpenBill):
        self._secret = secret
        self._open_bill = open_bill

    def create_billing(
        self, merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str
    ) -> Billing:
        """Ask the provider for a billing code of ``amount`` whole rupiah, payable until ``expires_at``."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError(f"a bill needs a positive whole-rupiah amount, not {amount!r}")
        code = self._open_bill(merchant_ref[:100], description[:200], amount, expires_at, callback_url)
        return Billing(code=code, amount=amount, expires_at=expires_at)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> PaymentNotice:
        """Check the signature (constant time) and the timestamp, then read the notice."""
        if len(body) > MAX_BODY_BYTES:
            raise WebhookRejected(f"the body is larger than {MAX_BODY_BYTES} bytes")
        lowered = {key.lower(): value for key, value in headers.items()}
        header = lowered.get(SIGNATURE_HEADER.lower())
        if not header:
            raise WebhookRejected(f"the {SIGNATURE_HEADER} header is missing")
        timestamp, signatures = _signature_parts(header)
        expected = sign(body, self._secret, timestamp).partition(",v1=")[2]
        if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
            raise WebhookRejected("the signature does not match the body (wrong secret or altered body)")
        age = abs(now.timestamp() - timestamp)
        if age > SIGNATURE_TOLERANCE.total_seconds():
            raise WebhookRejected(
                f"the signature timestamp is {int(age)} s away from our clock "
                f"(tolerance {int(SIGNATURE_TOLERANCE.total_seconds())} s)"
            )
        return _read_notice(body)


def _read_notice(body: bytes) -> PaymentNotice:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise WebhookRejected("the body is not JSON") from exc
    if not isinstance(data, dict):
        raise WebhookRejected("the body is not a JSON object")
    if data.get("type") != EVENT_TYPE:
        raise WebhookRejected(f"unsupported event type {data.get('type')!r}")
    fields: dict[str, Any] = {}
    for key in ("event_id", "billing_code", "provider_ref", "paid_at"):
        value = data.get(key)
        if not isinstance(value, str) or not value or len(value) > 100:
            raise WebhookRejected(f"the field {key!r} is missing or not a short string")
        fields[key] = value
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise WebhookRejected("the field 'amount' is not a whole number of rupiah")
    try:
        paid_at = datetime.fromisoformat(fields["paid_at"])
    except ValueError as exc:
        raise WebhookRejected("the field 'paid_at' is not an ISO 8601 time") from exc
    if paid_at.tzinfo is None:
        raise WebhookRejected("the field 'paid_at' has no UTC offset")
    return PaymentNotice(
        event_id=fields["event_id"],
        billing_code=fields["billing_code"],
        amount=amount,
        paid_at=paid_at.astimezone(UTC),
        provider_ref=fields["provider_ref"],
    )
