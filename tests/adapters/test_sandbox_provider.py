"""The sandbox provider on its own: billing codes, the bank's rules, signatures, and webhook delivery over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters import sandbox_provider
from kitas.adapters.payments import UnknownPaymentProvider, WebhookRejected, gateway_for
from kitas.adapters.sandbox_provider import PaymentRefused, SandboxGateway, normalize_code, pay
from kitas.adapters.sandbox_webhooks import MAX_ATTEMPTS, backoff, send_due_webhooks
from kitas.extensions import db
from kitas.models import SandboxBill, SandboxWebhook
from kitas.transactions import write_transaction

SECRET = "test-webhook-secret"
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


class Merchant:
    """A tiny HTTP endpoint that records what it receives and answers with ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("Content-Length", "0"))
                merchant.received.append((dict(self.headers.items()), self.rfile.read(length)))
                self.send_response(merchant.status)
                if merchant.status in (301, 302, 303, 307):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"outcome": "test"}')

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/payments/sandbox"


@pytest.fixture()
def merchant() -> Iterator[Merchant]:
    """A merchant endpoint on a free port, for the duration of a test."""
    endpoint = Merchant()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    yield endpoint
    endpoint.server.shutdown()
    thread.join(timeout=10)
    endpoint.server.server_close()


def _bill(callback_url: str = "http://kitas.test/webhooks/payments/sandbox", amount: int = 1_700_000) -> str:
    with write_transaction():
        billing = SandboxGateway(SECRET).create_billing(
            "E23-2026-TESTCASE",
            "State fee",
            amount,
            sandbox_provider.app_clock().now() + timedelta(days=7),
            callback_url,
        )
    return billing.code


def _webhook() -> SandboxWebhook:
    db.session.expire_all()
    return db.session.scalars(select(SandboxWebhook)).one()


def test_billing_codes_are_15_random_digits_with_a_check_digit() -> None:
    codes = {sandbox_provider.new_billing_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == 15 and code.isdigit() and normalize_code(code) == code
    code = next(iter(codes))
    assert normalize_code(f" {code[:5]} {code[5:10]}-{code[10:]} ") == code
    typo = code[:3] + str((int(code[3]) + 1) % 10) + code[4:]
    with pytest.raises(PaymentRefused) as refused:
        normalize_code(typo)
    assert refused.value.code == "typo" and "check for a typo" in str(refused.value)


@pytest.mark.parametrize("typed, code", [("", "missing"), ("12345", "malformed"), ("12345678901234X", "malformed")])
def test_typed_codes_that_cannot_be_billing_codes(typed: str, code: str) -> None:
    with pytest.raises(PaymentRefused) as refused:
        normalize_code(typed)
    assert refused.value.code == code


def _body(**overrides: Any) -> bytes:
    data = {
        "event_id": "evt_1",
        "type": "payment.succeeded",
        "billing_code": "123456789012345",
        "amount": 1_700_000,
        "paid_at": "2026-01-05T09:00:00+07:00",
        "provider_ref": "SBX-1",
        **overrides,
    }
    return json.dumps(data).encode()


def _signed(body: bytes, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    return {"X-Sandbox-Signature": sandbox_provider.sign(body, secret, int(at.timestamp()))}


def test_a_signed_notice_is_read_with_its_time_in_utc() -> None:
    body = _body()
    notice = SandboxGateway(SECRET).parse_webhook(
        body, {"x-sandbox-signature": _signed(body)["X-Sandbox-Signature"]}, NOW
    )
    assert notice.event_id == "evt_1" and notice.amount == 1_700_000 and notice.provider_ref == "SBX-1"
    assert notice.paid_at == datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    # A second v1 (during a secret rotation) is fine as long as one matches.
    header = _signed(body)["X-Sandbox-Signature"].replace("t=", "v1=00ff,t=")
    assert SandboxGateway(SECRET).parse_webhook(body, {"X-Sandbox-Signature": header}, NOW).event_id == "evt_1"


@pytest.mark.parametrize(
    "body, headers, reason",
    [
        (_body(), {}, "header is missing"),
        (_body(), {"X-Sandbox-Signature": "v1=abc"}, "lacks a timestamp"),
        (_body(), _signed(_body(), secret="other"), "signature does not match"),
        (_body(amount=1), _signed(_body()), "signature does not match"),
        (_body(), _signed(_body(), NOW - timedelta(minutes=5, seconds=1)), "301 s away"),
        (_body(), _signed(_body(), NOW + timedelta(minutes=6)), "360 s away"),
        (b"not json", _signed(b"not json"), "not JSON"),
        (_body(type="refund.created"), _signed(_body(type="refund.created")), "unsupported event type"),
        (_body(amount="1700000"), _signed(_body(amount="1700000")), "not a whole number"),
        (_body(paid_at="2026-01-05T09:00:00"), _signed(_body(paid_at="2026-01-05T09:00:00")), "no UTC offset"),
        (_body(event_id=""), _signed(_body(event_id="")), "'event_id' is missing"),
        (b"x" * 70_000, _signed(b"x" * 70_000), "larger than 65536 bytes"),
    ],
    ids=[
        "unsigned",
        "no-timestamp",
        "wrong-secret",
        "altered-body",
        "stale",
        "from-the-future",
        "not-json",
        "other-type",
        "amount-string",
        "naive-time",
        "no-event-id",
        "too-large",
    ],
)
def test_notices_that_are_not_authentic_or_not_usable(body: bytes, headers: dict[str, str], reason: str) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        SandboxGateway(SECRET).parse_webhook(body, headers, NOW)
    assert reason in rejected.value.reason


def test_gateway_is_chosen_by_configuration() -> None:
    assert gateway_for({"KITAS_PAYMENT_PROVIDER": "sandbox", "KITAS_PAYMENT_WEBHOOK_SECRET": "s"}).name == "sandbox"
    with pytest.raises(UnknownPaymentProvider, match="'midtrans'"):
        gateway_for({"KITAS_PAYMENT_PROVIDER": "midtrans", "KITAS_PAYMENT_WEBHOOK_SECRET": "s"})


def test_the_bank_pays_once_for_the_exact_amount_and_queues_a_webhook(ctx: Flask, clock: ManualClock) -> None:
    code = _bill()
    with pytest.raises(PaymentRefused) as refused:
        pay(code, 1_000_000)
    assert refused.value.code == "wrong_amount" and "Rp1.700.000, not Rp1.000.000" in str(refused.value)
    assert db.session.scalars(select(SandboxWebhook)).all() == []
    receipt = pay(code, 1_700_000)
    assert receipt.status == "paid" and receipt.paid_at == clock.now() and receipt.provider_ref
    body = json.loads(_webhook().body)
    assert body == {
        "event_id": body["event_id"],
        "type": "payment.succeeded",
        "billing_code": code,
        "amount": 1_700_000,
        "paid_at": "2026-01-05T09:00:00+07:00",
        "provider_ref": receipt.provider_ref,
    }
    assert body["event_id"].startswith("evt_") and _webhook().url == "http://kitas.test/webhooks/payments/sandbox"
    with pytest.raises(PaymentRefused) as again:
        pay(code, 1_700_000)
    assert again.value.code == "paid"
    assert len(db.session.scalars(select(SandboxWebhook)).all()) == 1


def test_the_bank_refuses_unknown_and_expired_codes(ctx: Flask, clock: ManualClock) -> None:
    code = _bill()
    unknown = sandbox_provider.new_billing_code()
    with pytest.raises(PaymentRefused) as refused:
        pay(unknown, 1_700_000)
    assert refused.value.code == "unknown" and unknown in str(refused.value)
    clock.advance(days=7)  # the provider's clock reaches the expiry
    with pytest.raises(PaymentRefused) as expired:
        pay(code, 1_700_000)
    assert expired.value.code == "expired" and "ask the merchant for a new one" in str(expired.value)
    assert db.session.scalars(select(SandboxBill)).one().status == "unpaid"


def test_a_delivered_webhook_carries_a_valid_signature(ctx: Flask, merchant: Merchant, clock: ManualClock) -> None:
    pay(_bill(merchant.url), 1_700_000)
    assert send_due_webhooks(clock.now()) == 1
    [(headers, body)] = merchant.received
    assert headers["Content-Type"] == "application/json"
    notice = SandboxGateway(SECRET).parse_webhook(body, headers, clock.now())
    assert notice.amount == 1_700_000
    webhook = _webhook()
    assert webhook.delivered_at == clock.now() and webhook.attempts == 1 and webhook.last_error is None
    assert send_due_webhooks(clock.now() + timedelta(hours=1)) == 0  # delivered webhooks are not sent again


def test_failed_deliveries_are_retried_with_exponential_backoff(
    ctx: Flask, merchant: Merchant, clock: ManualClock
) -> None:
    pay(_bill(merchant.url), 1_700_000)
    merchant.status = 500
    start = clock.now()
    assert send_due_webhooks(start) == 1
    webhook = _webhook()
    assert webhook.attempts == 1 and webhook.delivered_at is None
    assert webhook.last_error == 'HTTP 500: {"outcome": "test"}'
    assert webhook.next_attempt_at == start + timedelta(seconds=5)
    assert send_due_webhooks(start + timedelta(seconds=4)) == 0
    assert send_due_webhooks(start + timedelta(seconds=5)) == 1
    assert _webhook().next_attempt_at == start + timedelta(seconds=15)  # then 10 s later
    merchant.status = 200
    assert send_due_webhooks(start + timedelta(seconds=15)) == 1
    webhook = _webhook()
    assert webhook.attempts == 3 and webhook.delivered_at is not None and webhook.last_error is None
    assert len(merchant.received) == 3
    assert {json.loads(body)["event_id"] for _, body in merchant.received} == {json.loads(webhook.body)["event_id"]}


@pytest.mark.parametrize("status", [302, 409])
def test_redirects_and_refusals_count_as_failures(
    ctx: Flask, merchant: Merchant, clock: ManualClock, status: int
) -> None:
    merchant.status = status
    pay(_bill(merchant.url), 1_700_000)
    send_due_webhooks(clock.now())
    webhook = _webhook()
    assert webhook.delivered_at is None and webhook.last_error is not None
    assert webhook.last_error.startswith(f"HTTP {status}")
    assert len(merchant.received) == 1


def test_an_unreachable_merchant_is_retried_until_the_provider_gives_up(ctx: Flask, clock: ManualClock) -> None:
    closed = Merchant()
    url = closed.url
    closed.server.server_close()  # nothing listens there any more
    pay(_bill(url), 1_700_000)
    assert send_due_webhooks(clock.now()) == 1
    webhook = _webhook()
    assert webhook.attempts == 1 and webhook.last_error and "URLError" in webhook.last_error
    with write_transaction():
        db.session.get(SandboxWebhook, webhook.id).attempts = MAX_ATTEMPTS - 1  # type: ignore[union-attr]
    assert send_due_webhooks(clock.now() + timedelta(hours=1)) == 1
    webhook = _webhook()
    assert webhook.last_error and webhook.last_error.startswith("gave up after 15 attempts")
    assert send_due_webhooks(clock.now() + timedelta(days=1)) == 0


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(30) == timedelta(hours=1)
