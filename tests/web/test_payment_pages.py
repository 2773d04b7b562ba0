"""The applicant's pay page, the provider's webhook endpoint, and the sandbox bank, through HTTP."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine import ManualClock
from kitas.adapters import sandbox_provider
from kitas.extensions import app_clock, db
from kitas.models import Application, AuditEvent, SandboxBill, SandboxWebhook
from kitas.services import payments, sandbox_bank
from tests.adapters.live_server import public_url, serve
from tests.services.helpers import start_until_payment

pytestmark = pytest.mark.usefixtures("worker")

SECRET = "test-webhook-secret"


@pytest.fixture()
def waiting(users: dict[str, Any]) -> Application:
    """A worker case waiting for payment (no billing code yet)."""
    return start_until_payment(users)


def _code(application: Application, users: dict[str, Any]) -> str:
    """Issue (or read) the case's billing code as its applicant would."""
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.billing_code is not None
    return view.billing_code


def _html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _queued() -> tuple[bytes, dict[str, str]]:
    db.session.expire_all()
    row = db.session.scalars(select(SandboxWebhook)).one()
    body = row.body.encode()
    now = app_clock().now()
    return body, {"X-Sandbox-Signature": sandbox_provider.sign(body, SECRET, int(now.timestamp()))}


def _bill(code: str) -> SandboxBill:
    db.session.expire_all()
    return db.session.scalars(select(SandboxBill).where(SandboxBill.billing_code == code)).one()


# -- the pay page ----------------------------------------------------------------------


def test_pay_page_shows_code_amount_expiry_and_the_bank(
    waiting: Application, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["applicant"])
    response = client.get(f"/payments/{waiting.reference}")
    assert response.status_code == 200
    html = _html(response)
    code = re.search(r'class="billing-code[^"]*" data-testid="billing-code">(\d{15})<', html)
    assert code is not None
    assert "Rp 1.700.000" in html
    assert "12 Jan 2026, 09:00 WIB" in html  # seven days after 5 Jan 2026 02:00 UTC, shown in WIB
    assert f'href="/sandbox-bank/?code={code.group(1)}"' in html and "Pay in the sandbox bank" in html
    assert "Waiting for your payment" in html and 'hx-trigger="every 5s"' in html
    # Paid at the bank but not yet confirmed to us: the page says so, and what to do if it lasts.
    assert "The bank has not confirmed your payment to us yet" in html and f"billing code {code.group(1)}" in html
    partial = client.get(f"/payments/{waiting.reference}/status")
    assert partial.status_code == 200 and code.group(1) in _html(partial) and "<html" not in _html(partial)


def test_pay_page_of_another_applicant_is_404_and_logged(
    waiting: Application, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["other_applicant"])
    assert client.get(f"/payments/{waiting.reference}").status_code == 404
    assert client.get(f"/payments/{waiting.reference}/status").status_code == 404
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert len(refusals) == 2 and refusals[0].actor == users["other_applicant"].label
    assert db.session.scalars(select(SandboxBill)).all() == []  # nothing was issued for the intruder


def test_pay_page_is_for_signed_in_applicants(
    waiting: Application, users: dict[str, Any], client: FlaskClient, login_as: Any
) -> None:
    response = client.get(f"/payments/{waiting.reference}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert login_as(users["verifier"]).get(f"/payments/{waiting.reference}").status_code == 403


def test_pay_page_shows_the_receipt_once_paid(waiting: Application, users: dict[str, Any], login_as: Any) -> None:
    code = _code(waiting, users)
    receipt = sandbox_bank.pay(code, 1_700_000)
    body, headers = _queued()
    assert payments.handle_webhook("sandbox", body, headers) == "accepted"
    html = _html(login_as(users["applicant"]).get(f"/payments/{waiting.reference}"))
    assert 'data-testid="receipt"' in html and "Paid, thank you" in html
    assert receipt.provider_ref is not None and receipt.provider_ref in html and "Rp 1.700.000" in html
    assert "hx-trigger" not in html


def test_pay_page_when_there_is_nothing_to_pay(users: dict[str, Any], login_as: Any) -> None:
    from kitas.services import cases

    application = cases.start_case("worker", users["applicant"])
    html = _html(login_as(users["applicant"]).get(f"/payments/{application.reference}"))
    assert "There is nothing to pay for this application now" in html


def test_pay_page_after_the_deadline(
    waiting: Application, users: dict[str, Any], login_as: Any, clock: ManualClock
) -> None:
    _code(waiting, users)
    clock.advance(days=7, minutes=1)
    html = _html(login_as(users["applicant"]).get(f"/payments/{waiting.reference}"))
    assert "The payment deadline has passed" in html and "Pay in the sandbox bank" not in html


def test_the_whole_loop_through_the_pages_and_a_real_webhook(
    ctx: Flask, waiting: Application, users: dict[str, Any], login_as: Any
) -> None:
    client = login_as(users["applicant"])
    with serve(ctx) as base_url, public_url(ctx, base_url):
        page = _html(client.get(f"/payments/{waiting.reference}"))
        bank_link = re.search(r'href="(/sandbox-bank/\?code=\d{15})"', page)
        assert bank_link is not None
        assert "Sandbox bank — no real money" in _html(client.get(bank_link.group(1)))
        code = bank_link.group(1).rsplit("=", 1)[1]
        confirm = _html(client.get(f"/sandbox-bank/confirm?code={code}"))
        assert "KITAS Online" in confirm and "Rp 1.700.000" in confirm
        paid = client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"})
        assert paid.status_code == 303
        receipt = _html(client.get(paid.headers["Location"]))
        assert "The merchant is notified within seconds" in receipt
        assert sandbox_bank.send_due_notices() == 1
    db.session.expire_all()
    assert db.session.get(Application, waiting.id).status == "in_verification"  # type: ignore[union-attr]
    html = _html(client.get(f"/payments/{waiting.reference}"))
    assert "Paid, thank you" in html


# -- the webhook endpoint ----------------------------------------------------------------


def _post_notice(client: FlaskClient, body: bytes, signature: str) -> Any:
    headers = {"X-Sandbox-Signature": signature}
    return client.post("/webhooks/payments/sandbox", data=body, headers=headers, content_type="application/json")


@pytest.mark.parametrize(
    ("forgery", "reason"),
    [
        ("wrong-signature", "signature does not match"),  # fresh timestamp: only the signature refuses it
        ("stale", "timestamp is 301 s away"),  # valid signature: only its age refuses it
    ],
    ids=["wrong-signature", "stale"],
)
def test_a_forged_or_stale_webhook_is_refused_for_its_own_reason(
    waiting: Application,
    users: dict[str, Any],
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    forgery: str,
    reason: str,
) -> None:
    code = _code(waiting, users)
    sandbox_bank.pay(code, 1_700_000)
    body, _ = _queued()
    now = int(app_clock().now().timestamp())
    if forgery == "wrong-signature":
        signature = sandbox_provider.sign(body, "not-the-secret", now)
    else:
        signature = sandbox_provider.sign(body, SECRET, now - 301)
    with caplog.at_level(logging.WARNING, logger="kitas.services.payments"):
        refused = _post_notice(client, body, signature)
    assert refused.status_code == 400 and refused.get_json() == {"outcome": "rejected"}
    assert [r.getMessage() for r in caplog.records if reason in r.getMessage()], caplog.text
    assert payments.payment_of(waiting.id).status == "pending"  # type: ignore[union-attr]
    assert _bill(code).status == "paid"  # the bank's side is unaffected; only the notice was refused
    db.session.expire_all()
    assert db.session.get(Application, waiting.id).status == "awaiting_payment"  # type: ignore[union-attr]
    # The same notice, signed now with the right secret, is then accepted: the refusal was only the forgery's.
    assert _post_notice(client, body, sandbox_provider.sign(body, SECRET, now)).get_json() == {"outcome": "accepted"}


def test_webhook_endpoint_answers_in_json(
    waiting: Application, users: dict[str, Any], client: FlaskClient, csrf_on: None
) -> None:
    code = _code(waiting, users)
    sandbox_bank.pay(code, 1_700_000)
    body, headers = _queued()
    ok = client.post("/webhooks/payments/sandbox", data=body, headers=headers, content_type="application/json")
    assert ok.status_code == 200 and ok.get_json() == {"outcome": "accepted"}  # no CSRF token needed
    again = client.post("/webhooks/payments/sandbox", data=body, headers=headers, content_type="application/json")
    assert again.status_code == 200 and again.get_json() == {"outcome": "duplicate"}
    other = client.post("/webhooks/payments/paypal", data=body, headers=headers, content_type="application/json")
    assert other.status_code == 400 and other.get_json() == {"outcome": "unknown_provider"}


def test_webhook_refused_for_a_business_reason_is_acknowledged(
    waiting: Application, users: dict[str, Any], client: FlaskClient
) -> None:
    code = _code(waiting, users)
    notice = {
        "event_id": "evt_x",
        "type": "payment.succeeded",
        "billing_code": code,
        "amount": 1,
        "paid_at": "2026-01-05T09:00:00+07:00",
        "provider_ref": "SBX-X",
    }
    body = json.dumps(notice).encode()
    now = app_clock().now()
    headers = {"X-Sandbox-Signature": sandbox_provider.sign(body, SECRET, int(now.timestamp()))}
    response = client.post("/webhooks/payments/sandbox", data=body, headers=headers, content_type="application/json")
    # Retrying cannot make a wrong amount right: acknowledged, refused, audited, nothing changed.
    assert response.status_code == 200 and response.get_json() == {"outcome": "wrong_amount"}
    assert payments.payment_of(waiting.id).status == "pending"  # type: ignore[union-attr]


# -- the sandbox bank ---------------------------------------------------------------------


def test_bank_is_labelled_and_prefills_the_code(client: FlaskClient) -> None:
    html = _html(client.get("/sandbox-bank/?code=123456789012345"))
    assert "Sandbox bank — no real money" in html and 'value="123456789012345"' in html


@pytest.mark.parametrize(
    "typed, status, message",
    [
        ("12345", 400, "exactly 15 digits"),
        ("", 400, "Enter the 15-digit billing code"),
    ],
)
def test_bank_refuses_codes_that_cannot_be_codes(client: FlaskClient, typed: str, status: int, message: str) -> None:
    response = client.get(f"/sandbox-bank/confirm?code={typed}")
    assert response.status_code == status and message in _html(response)
    assert f'value="{typed}"' in _html(response)


def test_bank_refuses_an_unknown_code_and_keeps_the_input(client: FlaskClient) -> None:
    unknown = sandbox_bank.new_billing_code()
    response = client.get(f"/sandbox-bank/confirm?code={unknown}")
    assert response.status_code == 404
    html = _html(response)
    assert f"There is no bill with the code {unknown}" in html and f'value="{unknown}"' in html


def test_bank_refuses_an_expired_code(
    waiting: Application, users: dict[str, Any], client: FlaskClient, clock: ManualClock
) -> None:
    code = _code(waiting, users)
    clock.advance(days=7)
    for response in (
        client.get(f"/sandbox-bank/confirm?code={code}"),
        client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"}),
    ):
        assert response.status_code == 409
        html = _html(response)
        assert (
            "This billing code has expired" in html and "12 Jan 2026, 09:00 WIB" in html and f'value="{code}"' in html
        )
    assert _bill(code).status == "unpaid"


def test_bank_refuses_a_paid_code(waiting: Application, users: dict[str, Any], client: FlaskClient) -> None:
    code = _code(waiting, users)
    assert client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"}).status_code == 303
    response = client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"})
    assert response.status_code == 409
    assert "already paid" in _html(response) and f"/sandbox-bank/receipts/{code}" in _html(response)
    assert len(db.session.scalars(select(SandboxWebhook)).all()) == 1


@pytest.mark.parametrize(
    "amount, status, message", [("1000000", 409, "pay the exact amount"), ("abc", 400, "whole number")]
)
def test_bank_refuses_a_wrong_amount(
    waiting: Application, users: dict[str, Any], client: FlaskClient, amount: str, status: int, message: str
) -> None:
    code = _code(waiting, users)
    response = client.post("/sandbox-bank/pay", data={"code": code, "amount": amount})
    assert response.status_code == status and message in _html(response)
    assert _bill(code).status == "unpaid"


def test_bank_payment_needs_a_csrf_token(
    waiting: Application, users: dict[str, Any], client: FlaskClient, csrf_on: None
) -> None:
    code = _code(waiting, users)
    response = client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"})
    assert response.status_code == 400 and "The form expired" in _html(response)
    assert _bill(code).status == "unpaid"
    confirm = _html(client.get(f"/sandbox-bank/confirm?code={code}"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm)
    assert token is not None
    paid = client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000", "csrf_token": token.group(1)})
    assert paid.status_code == 303 and _bill(code).status == "paid"


def test_bank_receipt_only_for_paid_bills(waiting: Application, users: dict[str, Any], client: FlaskClient) -> None:
    code = _code(waiting, users)
    assert client.get(f"/sandbox-bank/receipts/{code}").status_code == 404
    client.post("/sandbox-bank/pay", data={"code": code, "amount": "1700000"})
    html = _html(client.get(f"/sandbox-bank/receipts/{code}"))
    assert "Payment successful" in html and "notified within seconds" in html
