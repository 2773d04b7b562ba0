"""The sandbox payment provider: issues billing codes, takes payments from the sandbox bank, sends signed webhooks.

It behaves like a real provider on purpose: codes are random 15-digit numbers
(like SIMPONI's) with a check digit, a bill can be paid once, before it
expires and for its exact amount, and the merchant hears about a payment only
through an HMAC-signed webhook POSTed over HTTP, asynchronously, retried with
exponential backoff until the merchant answers 2xx. Its records
(SandboxBill, SandboxWebhook) share KITAS Online's database for convenience
only; KITAS Online reads them through ``SandboxGateway`` and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from ..extensions import app_clock, db
from ..models import SandboxBill, SandboxWebhook
from ..transactions import is_postgres, write_transaction
from .payments import SIGNATURE_TOLERANCE, Billing, PaymentNotice, WebhookRejected

PROVIDER_NAME = "sandbox"
MERCHANT_NAME = "KITAS Online"  # the sandbox has exactly one merchant account
SIGNATURE_HEADER = "X-Sandbox-Signature"
EVENT_TYPE = "payment.succeeded"
CODE_DIGITS = 15
MAX_BODY_BYTES = 64 * 1024
_WIB = timezone(timedelta(hours=7))


class PaymentRefused(Exception):
    """The sandbox bank refused a payment; ``code`` says why, the message says what to do."""

    def __init__(self, code: str, message: str, bill: BankBill | None = None):
        self.code = code
        self.bill = bill
        super().__init__(message)


@dataclass(frozen=True)
class BankBill:
    """A bill as the bank shows it to the payer."""

    billing_code: str
    merchant: str
    description: str
    amount: int
    expires_at: datetime
    status: str
    paid_at: datetime | None
    provider_ref: str | None


# -- billing codes -------------------------------------------------------------


def _check_digit(digits: str) -> str:
    """The Luhn check digit of ``digits``: catches every single-digit typo and most swaps."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_billing_code() -> str:
    """A random 15-digit code (14 random digits and a check digit); one code tells nothing about another."""
    body = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS - 1))
    return body + _check_digit(body)


def normalize_code(text: str) -> str:
    """The code a person typed, without spaces and dashes; PaymentRefused if it cannot be a billing code."""
    code = "".join(ch for ch in text if ch not in " -.\t")
    if not code:
        raise PaymentRefused("missing", "Enter the 15-digit billing code shown on your payment page.")
    if not code.isdigit() or len(code) != CODE_DIGITS:
        raise PaymentRefused(
            "malformed",
            f"A billing code has exactly {CODE_DIGITS} digits; what you entered has {len(code)} characters.",
        )
    if _check_digit(code[:-1]) != code[-1]:
        raise PaymentRefused(
            "typo", "This is not a valid billing code (its last digit does not match); check for a typo."
        )
    return code


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

    def __init__(self, secret: str):
        self._secret = secret

    def create_billing(
        self, merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str
    ) -> Billing:
        """Issue a bill inside the caller's transaction (a rolled-back caller leaves no bill behind)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError(f"a bill needs a positive whole-rupiah amount, not {amount!r}")
        code = new_billing_code()
        while db.session.scalar(select(SandboxBill.id).where(SandboxBill.billing_code == code)) is not None:
            code = new_billing_code()
        db.session.add(
            SandboxBill(
                billing_code=code,
                merchant_ref=merchant_ref[:100],
                description=description[:200],
                amount=amount,
                expires_at=expires_at,
                callback_url=callback_url,
                status="unpaid",
                created_at=app_clock().now(),
            )
        )
        db.session.flush()
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


# -- the bank side ---------------------------------------------------------------


def _rupiah(amount: int) -> str:
    return "Rp" + f"{amount:,}".replace(",", ".")


def _provider_ref(bill: SandboxBill) -> str | None:
    if bill.paid_at is None:
        return None
    return f"SBX-{bill.paid_at:%Y%m%d}-{bill.id:07d}"


def _view(bill: SandboxBill) -> BankBill:
    return BankBill(
        billing_code=bill.billing_code,
        merchant=MERCHANT_NAME,
        description=bill.description,
        amount=bill.amount,
        expires_at=bill.expires_at,
        status=bill.status,
        paid_at=bill.paid_at,
        provider_ref=_provider_ref(bill),
    )


def _payable(bill: SandboxBill | None, code: str, now: datetime) -> SandboxBill:
    if bill is None:
        raise PaymentRefused("unknown", f"There is no bill with the code {code}. Check it against your payment page.")
    if bill.status == "paid":
        raise PaymentRefused("paid", "This bill is already paid; nothing was charged again.", _view(bill))
    if now >= bill.expires_at:
        raise PaymentRefused(
            "expired",
            "This billing code has expired and can no longer be paid; ask the merchant for a new one.",
            _view(bill),
        )
    return bill


def find_bill(billing_code: str) -> BankBill:
    """A payable bill by its code, for the bank's confirm page; PaymentRefused when it cannot be paid."""
    code = normalize_code(billing_code)
    bill = db.session.scalars(select(SandboxBill).where(SandboxBill.billing_code == code)).first()
    return _view(_payable(bill, code, app_clock().now()))


def paid_bill(billing_code: str) -> BankBill | None:
    """A paid bill by its code, for the bank's receipt page."""
    bill = db.session.scalars(select(SandboxBill).where(SandboxBill.billing_code == billing_code)).first()
    return _view(bill) if bill is not None and bill.status == "paid" else None


def pay(billing_code: str, amount: int) -> BankBill:
    """Pay a bill, as a bank does: once, before it expires, for its exact amount; queues the merchant's webhook."""
    code = normalize_code(billing_code)
    with write_transaction():
        now = app_clock().now()
        query = select(SandboxBill).where(SandboxBill.billing_code == code).execution_options(populate_existing=True)
        if is_postgres():
            query = query.with_for_update()
        bill = _payable(db.session.scalars(query).first(), code, now)
        if amount != bill.amount:
            raise PaymentRefused(
                "wrong_amount",
                f"This bill is for {_rupiah(bill.amount)}, not {_rupiah(amount)}; pay the exact amount.",
                _view(bill),
            )
        bill.status = "paid"
        bill.paid_at = now
        event_id = "evt_" + secrets.token_hex(16)
        body = {
            "event_id": event_id,
            "type": EVENT_TYPE,
            "billing_code": bill.billing_code,
            "amount": bill.amount,
            "paid_at": now.astimezone(_WIB).isoformat(),
            "provider_ref": _provider_ref(bill),
        }
        db.session.add(
            SandboxWebhook(
                event_id=event_id,
                url=bill.callback_url,
                body=json.dumps(body, separators=(",", ":"), sort_keys=True),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
        )
        receipt = _view(bill)
    return receipt
