"""Billing codes for waiting cases, and the provider's webhook: one real HTTP loop, then every refusal."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from engine import ManualClock
from kitas.adapters import sandbox_provider
from kitas.extensions import app_clock, db
from kitas.models import Application, AuditEvent, Payment, PaymentEvent, SandboxBill, SandboxWebhook, Timer
from kitas.services import cases, payments, sandbox_bank
from kitas.services.cases.timers import fire_due_timers
from kitas.services.errors import NotFound
from tests.adapters.live_server import public_url, serve
from tests.services.helpers import start_until_payment

SECRET = "test-webhook-secret"


def _audits(action: str, application_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if application_id is not None:
        query = query.where(AuditEvent.application_id == application_id)
    return list(db.session.scalars(query))


def _case(application_id: int) -> Application:
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None
    return application


def _notice(code: str, amount: int, paid_at: datetime, event_id: str = "evt_test_1") -> bytes:
    body = {
        "event_id": event_id,
        "type": "payment.succeeded",
        "billing_code": code,
        "amount": amount,
        "paid_at": paid_at.isoformat(),
        "provider_ref": "SBX-TEST-1",
    }
    return json.dumps(body).encode()


def _headers(body: bytes, now: datetime, secret: str = SECRET) -> dict[str, str]:
    return {"X-Sandbox-Signature": sandbox_provider.sign(body, secret, int(now.timestamp()))}


def _queued_webhook() -> tuple[bytes, dict[str, str]]:
    """The webhook the sandbox queued, signed now (what the provider would POST)."""
    row = db.session.scalars(select(SandboxWebhook).order_by(SandboxWebhook.id.desc())).first()
    assert row is not None
    body = row.body.encode()
    return body, _headers(body, app_clock().now())


@pytest.fixture()
def waiting(worker: int, users: dict[str, Any]) -> tuple[Application, payments.PaymentView]:
    """A worker case waiting for payment, with its billing code issued."""
    application = start_until_payment(users)
    return application, payments.billing_for(application.reference, users["applicant"])


@pytest.fixture()
def paid_before(worker: int, users: dict[str, Any]) -> set[str]:
    """Another case of the applicant, paid and credited already: the events table is not empty.

    Returns the event ids recorded. A refused notice must add none, and must not be mistaken for
    one of these (a replay check that matched any event would refuse every notice as a duplicate).
    """
    other = start_until_payment(users)
    view = payments.billing_for(other.reference, users["applicant"])
    assert view.billing_code is not None and view.amount is not None
    sandbox_bank.pay(view.billing_code, view.amount)
    assert payments.handle_webhook("sandbox", *_queued_webhook()) == payments.ACCEPTED
    return _event_ids()


def _event_ids() -> set[str]:
    db.session.expire_all()
    return set(db.session.scalars(select(PaymentEvent.event_id)))


def test_billing_code_issued_once_with_the_fee_and_the_deadline(
    waiting: tuple[Application, payments.PaymentView], users: dict[str, Any], clock: ManualClock
) -> None:
    application, view = waiting
    timer = db.session.scalars(select(Timer).where(Timer.element_id == "payment_deadline")).one()
    assert view.status == "pending" and view.awaiting_payment and view.payable
    assert view.amount == 1_700_000  # 12-month contract: the decision table's fee
    assert view.expires_at == timer.due_at == clock.now() + timedelta(days=7)
    assert view.billing_code is not None and len(view.billing_code) == 15 and view.billing_code.isdigit()
    again = payments.billing_for(application.reference, users["applicant"])
    assert again.billing_code == view.billing_code
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    bill = db.session.scalars(select(SandboxBill)).one()
    assert bill.callback_url == "http://kitas.test/webhooks/payments/sandbox"
    assert bill.merchant_ref == application.reference and bill.amount == 1_700_000
    [created] = _audits("billing_created", application.id)
    assert created.detail["billing_code"] == view.billing_code and created.actor == users["applicant"].label
    assert payments.payment_of(application.id).billing_code == view.billing_code  # type: ignore[union-attr]


def test_billing_code_never_outlives_the_case_deadline(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    application = start_until_payment(users)
    deadline = clock.now() + timedelta(days=7)
    clock.advance(days=6, hours=20)
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.expires_at == deadline
    clock.advance(hours=5)  # past the deadline, before the scheduler fired it: no new code
    late = payments.billing_for(application.reference, users["applicant"])
    assert late.status == "expired" and late.awaiting_payment and not late.payable
    assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_no_billing_before_the_case_waits_for_payment(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.status == "none" and not view.awaiting_payment
    assert payments.payment_of(application.id) is None


@pytest.mark.parametrize("who", ["other_applicant", "nobody"])
def test_pay_page_of_someone_elses_case_is_not_found_and_logged(
    waiting: tuple[Application, payments.PaymentView], users: dict[str, Any], who: str
) -> None:
    application, _ = waiting
    reference = application.reference if who == "other_applicant" else "E23-2026-NOSUCH00"
    with pytest.raises(NotFound, match="^there is no such application$"):
        payments.billing_for(reference, users["other_applicant"])
    [refusal] = _audits("access_refused")
    reason = "not the applicant of this case" if who == "other_applicant" else "no such application"
    assert refusal.actor == users["other_applicant"].label
    assert refusal.detail == {"object": "payment", "id": reference, "reason": reason}
    with pytest.raises(NotFound):
        payments.billing_for("E23-" + "X" * 100, users["other_applicant"])
    assert _audits("access_refused")[-1].detail["id"] == "E23-" + "X" * 60  # what is audited of it stays short


def test_full_loop_over_real_http(ctx: Flask, worker: int, users: dict[str, Any]) -> None:
    application = start_until_payment(users)
    with serve(ctx) as base_url, public_url(ctx, base_url):
        view = payments.billing_for(application.reference, users["applicant"])
        assert view.billing_code is not None and view.amount is not None
        sandbox_bank.pay(view.billing_code, view.amount)
        assert _case(application.id).status == "awaiting_payment"  # webhooks are asynchronous
        assert sandbox_bank.send_due_notices() == 1
    webhook = db.session.scalars(select(SandboxWebhook)).one()
    assert webhook.delivered_at is not None and webhook.attempts == 1 and webhook.last_error is None
    case = _case(application.id)
    assert case.status == "in_verification"
    payment = payments.payment_of(application.id)
    assert payment is not None and payment.status == "paid" and payment.provider_ref
    assert db.session.scalars(select(PaymentEvent)).one().event_id == json.loads(webhook.body)["event_id"]
    [delivered] = _audits("message_delivered", application.id)
    assert delivered.actor == "payment:sandbox" and delivered.detail["message"] == "payment_received"
    assert delivered.detail["fields"] == ["amount", "billing_code", "paid_at"]
    notice = json.loads(webhook.body)
    assert cases.read_runtime(case).data["payment"] == {
        "billing_code": view.billing_code,
        "amount": view.amount,
        "paid_at": payment.paid_at.isoformat(),  # type: ignore[union-attr]
    }
    [confirmed] = _audits("payment_confirmed", application.id)
    assert confirmed.actor == "payment:sandbox" and confirmed.actor_id is None
    assert {key: confirmed.detail[key] for key in ("billing_code", "amount", "event_id", "provider_ref")} == {
        "billing_code": view.billing_code,
        "amount": view.amount,
        "event_id": notice["event_id"],
        "provider_ref": payment.provider_ref,
    }
    paid = payments.billing_for(application.reference, users["applicant"])
    assert paid.status == "paid" and not paid.awaiting_payment


def _forged(code: str, amount: int, now: datetime) -> tuple[bytes, dict[str, str]]:
    body = _notice(code, amount, now)
    return body, _headers(body, now, secret="not-the-secret")


def _stale(code: str, amount: int, now: datetime) -> tuple[bytes, dict[str, str]]:
    body = _notice(code, amount, now)
    return body, _headers(body, now - timedelta(minutes=5, seconds=1))


def _unsigned(code: str, amount: int, now: datetime) -> tuple[bytes, dict[str, str]]:
    return _notice(code, amount, now), {}


def _wrong_amount(code: str, amount: int, now: datetime) -> tuple[bytes, dict[str, str]]:
    body = _notice(code, amount - 1000, now)
    return body, _headers(body, now)


def _unknown_code(code: str, amount: int, now: datetime) -> tuple[bytes, dict[str, str]]:
    other = sandbox_bank.new_billing_code()
    body = _notice(other, amount, now)
    return body, _headers(body, now)


@pytest.mark.parametrize(
    "make, outcome, reason",
    [
        (_forged, payments.REJECTED, "signature does not match"),
        (_stale, payments.REJECTED, "timestamp is 301 s away"),
        (_unsigned, payments.REJECTED, "header is missing"),
        (_wrong_amount, payments.WRONG_AMOUNT, "paid Rp1699000 but the billing code is for Rp1700000"),
        (_unknown_code, payments.UNKNOWN_BILLING, "no payment has the billing code"),
    ],
    ids=["forged", "stale", "unsigned", "wrong-amount", "unknown-code"],
)
def test_refused_webhooks_change_nothing_and_are_logged(
    paid_before: set[str],
    waiting: tuple[Application, payments.PaymentView],
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    make: Any,
    outcome: str,
    reason: str,
) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None
    version = _case(application.id).version
    body, headers = make(view.billing_code, view.amount, clock.now())
    with caplog.at_level(logging.WARNING, logger="kitas.services.payments"):
        assert payments.handle_webhook("sandbox", body, headers) == outcome
    _assert_unchanged(application.id, version, paid_before)
    logged = [r.getMessage() for r in caplog.records if r.getMessage().startswith("payment webhook refused: {")]
    if outcome in payments.UNAUTHENTICATED:
        # Whoever sent it is not proven: the application log has it, the audit chain does not grow.
        assert _audits("payment_webhook_refused") == []
        assert len(logged) == 1 and reason in logged[0] and hashlib.sha256(body).hexdigest() in logged[0]
        return
    [refusal] = _audits("payment_webhook_refused")
    assert refusal.detail["outcome"] == outcome and reason in refusal.detail["reason"]
    assert refusal.actor == "payment:sandbox"
    # A refusal about this case goes to the case's own chain; one about no known code to a shard.
    assert refusal.application_id == (application.id if outcome == payments.WRONG_AMOUNT else None)
    sent = json.loads(body)
    assert {key: value for key, value in refusal.detail.items() if key not in ("outcome", "reason")} == {
        "provider": "sandbox",
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "event_id": sent["event_id"],
        "billing_code": sent["billing_code"],
        "amount": sent["amount"],
    }


def _assert_unchanged(application_id: int, version: int, events_before: set[str]) -> None:
    case = _case(application_id)
    assert case.status == "awaiting_payment" and case.version == version
    payment = payments.payment_of(application_id)
    assert payment is not None and payment.status == "pending" and payment.paid_at is None
    assert events_before and _event_ids() == events_before  # the earlier payment's event, and nothing new
    assert _audits("message_delivered", application_id) == []


def test_payment_after_the_code_expired_is_refused(
    paid_before: set[str], waiting: tuple[Application, payments.PaymentView], clock: ManualClock
) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None and view.expires_at is not None
    version = _case(application.id).version
    clock.set(view.expires_at + timedelta(minutes=1))  # the scheduler has not fired the deadline yet
    body = _notice(view.billing_code, view.amount, view.expires_at)  # paid at the very second it expired
    assert payments.handle_webhook("sandbox", body, _headers(body, clock.now())) == payments.EXPIRED
    _assert_unchanged(application.id, version, paid_before)
    [refusal] = _audits("payment_webhook_refused", application.id)
    assert "the code expired at" in refusal.detail["reason"]


def test_paid_in_time_but_notified_late_is_accepted_until_the_deadline_fires(
    waiting: tuple[Application, payments.PaymentView], clock: ManualClock
) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None and view.expires_at is not None
    clock.set(view.expires_at - timedelta(minutes=1))
    sandbox_bank.pay(view.billing_code, view.amount)
    clock.advance(minutes=3)  # the webhook arrives after the expiry, before the scheduler's pass
    body, headers = _queued_webhook()
    assert payments.handle_webhook("sandbox", body, headers) == payments.ACCEPTED
    assert _case(application.id).status == "in_verification"
    assert fire_due_timers("test").fired == []  # the deadline timer was cancelled with the wait


def test_webhook_for_a_case_no_longer_waiting_is_refused(
    waiting: tuple[Application, payments.PaymentView], clock: ManualClock
) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None and view.expires_at is not None
    clock.set(view.expires_at - timedelta(minutes=1))
    body = _notice(view.billing_code, view.amount, clock.now())
    clock.advance(minutes=2)
    assert len(fire_due_timers("test").fired) == 1
    assert _case(application.id).status == "expired"
    version = _case(application.id).version
    assert payments.handle_webhook("sandbox", body, _headers(body, clock.now())) == payments.NOT_WAITING
    assert _case(application.id).version == version and _case(application.id).status == "expired"
    [refusal] = _audits("payment_webhook_refused", application.id)
    assert "no longer waiting" in refusal.detail["reason"]


def test_replayed_webhook_is_refused_and_delivers_once(waiting: tuple[Application, payments.PaymentView]) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None
    sandbox_bank.pay(view.billing_code, view.amount)
    body, headers = _queued_webhook()
    assert payments.handle_webhook("sandbox", body, headers) == payments.ACCEPTED
    version = _case(application.id).version
    assert payments.handle_webhook("sandbox", body, headers) == payments.DUPLICATE
    assert _case(application.id).version == version
    assert len(_audits("message_delivered", application.id)) == 1
    [refusal] = _audits("payment_webhook_refused", application.id)
    assert refusal.detail["outcome"] == "duplicate" and "replayed event" in refusal.detail["reason"]
    # A different event for the code that is already paid (a double payment) changes nothing either.
    twin = _notice(view.billing_code, view.amount, app_clock().now(), event_id="evt_other")
    assert payments.handle_webhook("sandbox", twin, _headers(twin, app_clock().now())) == "already_paid"
    assert _case(application.id).version == version
    twice = _audits("payment_webhook_refused", application.id)[-1]
    ref = payments.payment_of(application.id).provider_ref  # type: ignore[union-attr]
    assert twice.detail["reason"] == f"the billing code {view.billing_code} was already paid (ref {ref})"


def test_two_concurrent_deliveries_move_the_case_once(
    ctx: Flask, waiting: tuple[Application, payments.PaymentView]
) -> None:
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None
    sandbox_bank.pay(view.billing_code, view.amount)
    body, headers = _queued_webhook()
    application_id = application.id
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def deliver() -> None:
        with ctx.app_context():
            barrier.wait()
            try:
                outcomes.append(payments.handle_webhook("sandbox", body, headers))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["accepted", "duplicate"]
    assert len(_audits("message_delivered", application_id)) == 1
    assert db.session.scalar(select(func.count(PaymentEvent.id))) == 1
    assert _case(application_id).status == "in_verification"


def test_webhook_for_another_provider_is_refused(
    waiting: tuple[Application, payments.PaymentView], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="kitas.services.payments"):
        assert payments.handle_webhook("stripe", b"{}", {}) == payments.UNKNOWN_PROVIDER
        assert payments.handle_webhook("p" * 40, b"{}", {}) == payments.UNKNOWN_PROVIDER
    assert _audits("payment_webhook_refused") == []
    assert any("'provider': 'stripe'" in record.getMessage() for record in caplog.records)
    assert any(f"'provider': '{'p' * 32}'" in record.getMessage() for record in caplog.records)  # cut to 32


def test_a_service_on_another_port_without_a_public_url_is_credited(
    ctx: Flask, worker: int, users: dict[str, Any]
) -> None:
    """``kitas serve --port N`` without KITAS_PUBLIC_URL: the bill is opened while no address is known
    but the default, and the bank's notice still reaches the port the service really serves on."""
    application = start_until_payment(users)
    saved = ctx.config["KITAS_PUBLIC_URL"]
    ctx.config["KITAS_PUBLIC_URL"] = None
    try:
        view = payments.billing_for(application.reference, users["applicant"])  # callback: the default address
        assert view.billing_code is not None and view.amount is not None
        sandbox_bank.pay(view.billing_code, view.amount)
        with serve(ctx) as base_url:
            ctx.config["KITAS_SERVED_URL"] = base_url  # what `kitas serve` records about itself
            assert sandbox_bank.send_due_notices() == 1
    finally:
        ctx.config["KITAS_PUBLIC_URL"] = saved
        ctx.config.pop("KITAS_SERVED_URL", None)
    assert _case(application.id).status == "in_verification"
    assert db.session.scalars(select(SandboxWebhook)).one().delivered_at is not None


def test_a_notice_for_a_code_of_another_provider_is_unknown(
    waiting: tuple[Application, payments.PaymentView], clock: ManualClock
) -> None:
    """A provider's signed notice can only settle codes that provider issued."""
    application, view = waiting
    assert view.billing_code is not None and view.amount is not None
    db.session.execute(
        update(Payment).where(Payment.billing_code == view.billing_code).values(provider="bank-of-somewhere")
    )
    db.session.commit()
    body = _notice(view.billing_code, view.amount, clock.now())
    assert payments.handle_webhook("sandbox", body, _headers(body, clock.now())) == payments.UNKNOWN_BILLING
    assert _case(application.id).status == "awaiting_payment"
    assert payments.payment_of(application.id).status == "pending"  # type: ignore[union-attr]
