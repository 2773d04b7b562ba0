"""The sandbox bank service: billing codes, the bank's rules, and its queue of signed notices over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters.sandbox_provider import SandboxGateway
from kitas.extensions import app_clock, db
from kitas.jobs.scheduler import SANDBOX_JOBS, outbox_pass
from kitas.models import SandboxBill, SandboxWebhook
from kitas.services import payments
from kitas.services.leases import KINDS
from kitas.services.sandbox_bank import PaymentRefused, new_billing_code, normalize_code, pay, send_due_notices
from kitas.transactions import write_transaction
from tests.adapters.live_server import public_url
from tests.adapters.merchant import Merchant, closed_url, running_merchant

SECRET = "test-webhook-secret"
POLICY = KINDS["webhook"].policy


@pytest.fixture()
def merchant(app: Flask) -> Iterator[Merchant]:
    """A merchant endpoint on a free port, announced as the service's public address for the test.

    The simulated provider delivers to the service's address as it is at delivery time, so bills
    opened with any callback reach this endpoint.
    """
    with running_merchant() as endpoint, public_url(app, _origin(endpoint.url)):
        yield endpoint


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _bill(callback_url: str = "http://kitas.test/webhooks/payments/sandbox", amount: int = 1_700_000) -> str:
    """Open a bill the way KITAS Online does: through the configured gateway, in a transaction."""
    with write_transaction():
        billing = payments.gateway().create_billing(
            "E23-2026-TESTCASE", "State fee", amount, app_clock().now() + timedelta(days=7), callback_url
        )
    return billing.code


def _webhook() -> SandboxWebhook:
    db.session.expire_all()
    return db.session.scalars(select(SandboxWebhook)).one()


def test_billing_codes_are_15_random_digits_with_a_check_digit() -> None:
    codes = {new_billing_code() for _ in range(500)}
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


def test_the_mounted_gateway_opens_bills_in_the_bank(ctx: Flask) -> None:
    gateway = payments.gateway()
    assert isinstance(gateway, SandboxGateway)
    code = _bill(amount=250_000)
    bill = db.session.scalars(select(SandboxBill)).one()
    assert (bill.billing_code, bill.amount, bill.status, bill.merchant_ref) == (
        code,
        250_000,
        "unpaid",
        "E23-2026-TESTCASE",
    )


def test_a_rolled_back_caller_leaves_no_bill(ctx: Flask) -> None:
    with pytest.raises(RuntimeError), write_transaction():
        payments.gateway().create_billing("E23-X", "State fee", 1, app_clock().now() + timedelta(days=1), "http://x/")
        raise RuntimeError("the use case failed after opening the bill")
    assert db.session.scalars(select(SandboxBill)).all() == []


def test_the_bank_pays_once_for_the_exact_amount_and_queues_a_webhook(ctx: Flask, clock: ManualClock) -> None:
    code = _bill()
    with pytest.raises(PaymentRefused) as refused:
        pay(code, 1_000_000)
    assert refused.value.code == "wrong_amount" and "Rp 1.700.000, not Rp 1.000.000" in str(refused.value)
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
    unknown = new_billing_code()
    with pytest.raises(PaymentRefused) as refused:
        pay(unknown, 1_700_000)
    assert refused.value.code == "unknown" and unknown in str(refused.value)
    clock.advance(days=7)  # the provider's clock reaches the expiry
    with pytest.raises(PaymentRefused) as expired:
        pay(code, 1_700_000)
    assert expired.value.code == "expired" and "ask the merchant for a new one" in str(expired.value)
    assert db.session.scalars(select(SandboxBill)).one().status == "unpaid"


def test_a_delivered_webhook_carries_a_valid_signature(ctx: Flask, merchant: Merchant, clock: ManualClock) -> None:
    pay(_bill(), 1_700_000)
    assert send_due_notices() == 1
    [(headers, body)] = merchant.received
    assert headers["Content-Type"] == "application/json"
    notice = payments.gateway().parse_webhook(body, headers, clock.now())
    assert notice.amount == 1_700_000
    webhook = _webhook()
    assert webhook.delivered_at == clock.now() and webhook.attempts == 1 and webhook.last_error is None
    clock.advance(hours=1)
    assert send_due_notices() == 0  # delivered webhooks are not sent again


def test_failed_deliveries_are_retried_with_exponential_backoff(
    ctx: Flask, merchant: Merchant, clock: ManualClock
) -> None:
    pay(_bill(), 1_700_000)
    merchant.status = 500
    start = clock.now()
    assert send_due_notices() == 1
    webhook = _webhook()
    assert webhook.attempts == 1 and webhook.delivered_at is None
    assert webhook.last_error == 'HTTP 500: {"outcome": "test"}'
    assert webhook.next_attempt_at == start + timedelta(seconds=5)
    clock.advance(seconds=4)
    assert send_due_notices() == 0
    clock.advance(seconds=1)
    assert send_due_notices() == 1
    assert _webhook().next_attempt_at == start + timedelta(seconds=15)  # then 10 s later
    merchant.status = 200
    clock.set(start + timedelta(seconds=15))
    assert send_due_notices() == 1
    webhook = _webhook()
    assert webhook.attempts == 3 and webhook.delivered_at is not None and webhook.last_error is None
    assert len(merchant.received) == 3
    assert {json.loads(body)["event_id"] for _, body in merchant.received} == {json.loads(webhook.body)["event_id"]}


@pytest.mark.parametrize("status", [302, 409])
def test_redirects_and_refusals_count_as_failures(
    ctx: Flask, merchant: Merchant, clock: ManualClock, status: int
) -> None:
    merchant.status = status
    pay(_bill(), 1_700_000)
    send_due_notices()
    webhook = _webhook()
    assert webhook.delivered_at is None and webhook.last_error is not None
    assert webhook.last_error.startswith(f"HTTP {status}")
    assert len(merchant.received) == 1


def test_an_unreachable_merchant_is_retried_until_the_provider_gives_up(ctx: Flask, clock: ManualClock) -> None:
    pay(_bill(), 1_700_000)
    with public_url(ctx, _origin(closed_url())):  # where the service says it is, nothing answers
        assert send_due_notices() == 1
        webhook = _webhook()
        assert webhook.attempts == 1 and webhook.last_error and "URLError" in webhook.last_error
        with write_transaction():
            db.session.get(SandboxWebhook, webhook.id).attempts = POLICY.max_attempts - 1  # type: ignore[union-attr]
        clock.advance(hours=1)
        assert send_due_notices() == 1
    webhook = _webhook()
    assert webhook.last_error and webhook.last_error.startswith("gave up after 15 attempts")
    assert webhook.gave_up_at == clock.now() and webhook.next_attempt_at is None
    clock.advance(days=1)
    assert send_due_notices() == 0


def test_a_notice_goes_to_the_address_the_service_has_when_it_is_delivered(
    ctx: Flask, merchant: Merchant, clock: ManualClock
) -> None:
    # The bill was opened while the service announced an address where nothing listens (started on
    # another port without KITAS_PUBLIC_URL, say); the notice still reaches the service as it is now.
    pay(_bill("http://127.0.0.1:5000/webhooks/payments/sandbox"), 1_700_000)
    assert send_due_notices() == 1
    [(headers, body)] = merchant.received
    assert payments.gateway().parse_webhook(body, headers, clock.now()).amount == 1_700_000
    assert _webhook().delivered_at == clock.now()


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [POLICY.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert POLICY.delay(30) == timedelta(hours=1)
    assert POLICY.max_attempts == 15


def test_the_scheduler_job_sends_the_banks_notices(ctx: Flask, merchant: Merchant) -> None:
    pay(_bill(), 1_700_000)
    [(job_id, target)] = SANDBOX_JOBS
    assert target == "kitas.services.sandbox_bank:send_due_notices"
    assert outbox_pass(ctx, target) == 1
    assert len(merchant.received) == 1


@pytest.mark.parametrize("provider, scheduled", [("sandbox", True), ("elsewhere", False)])
def test_the_banks_job_runs_only_with_the_sandbox_provider(ctx: Flask, provider: str, scheduled: bool) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from kitas.jobs.scheduler import configure

    ctx.config["KITAS_PAYMENT_PROVIDER"] = provider
    try:
        scheduler = configure(BackgroundScheduler(), ctx, owner="test")
    finally:
        ctx.config["KITAS_PAYMENT_PROVIDER"] = "sandbox"
    jobs = {job.id for job in scheduler.get_jobs()}
    assert "deliver_notifications" in jobs and ("send_sandbox_notices" in jobs) is scheduled
