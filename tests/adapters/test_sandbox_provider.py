"""The sandbox provider's adapters on their own: signatures, reading notices, opening bills, posting notices."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kitas.adapters import sandbox_provider
from kitas.adapters.payments import UnknownPaymentProvider, WebhookRejected, gateway_for
from kitas.adapters.sandbox_provider import SandboxGateway
from kitas.adapters.sandbox_webhooks import Posted, post_notice
from tests.adapters.merchant import Merchant, closed_url, running_merchant

SECRET = "test-webhook-secret"
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def _no_bills(merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str) -> str:
    raise AssertionError("these tests open no bill")


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
    notice = SandboxGateway(SECRET, _no_bills).parse_webhook(
        body, {"x-sandbox-signature": _signed(body)["X-Sandbox-Signature"]}, NOW
    )
    assert notice.event_id == "evt_1" and notice.amount == 1_700_000 and notice.provider_ref == "SBX-1"
    assert notice.paid_at == datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    # A second v1 (during a secret rotation) is fine as long as one matches.
    header = _signed(body)["X-Sandbox-Signature"].replace("t=", "v1=00ff,t=")
    assert (
        SandboxGateway(SECRET, _no_bills).parse_webhook(body, {"X-Sandbox-Signature": header}, NOW).event_id == "evt_1"
    )


def test_the_limits_are_inclusive_and_unknown_header_parts_are_ignored() -> None:
    """At exactly the tolerance and exactly the size limit a notice is still read; extra parts change nothing."""
    gateway = SandboxGateway(SECRET, _no_bills)
    body = _body()
    old = NOW - sandbox_provider.SIGNATURE_TOLERANCE
    assert gateway.parse_webhook(body, _signed(body, at=old), NOW).event_id == "evt_1"
    padded = body + b" " * (sandbox_provider.MAX_BODY_BYTES - len(body))  # JSON allows trailing blanks
    assert gateway.parse_webhook(padded, _signed(padded), NOW).event_id == "evt_1"
    header = _signed(body)["X-Sandbox-Signature"] + ",v0=123,n=7"  # parts of a newer scheme
    assert gateway.parse_webhook(body, {"X-Sandbox-Signature": header}, NOW).event_id == "evt_1"


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
        SandboxGateway(SECRET, _no_bills).parse_webhook(body, headers, NOW)
    assert reason in rejected.value.reason


def test_gateway_is_chosen_by_configuration() -> None:
    providers = {"sandbox": lambda config: SandboxGateway(str(config["KITAS_PAYMENT_WEBHOOK_SECRET"]), _no_bills)}
    assert gateway_for({"KITAS_PAYMENT_PROVIDER": "sandbox", "KITAS_PAYMENT_WEBHOOK_SECRET": "s"}, providers).name == (
        "sandbox"
    )
    with pytest.raises(UnknownPaymentProvider, match="'midtrans'"):
        gateway_for({"KITAS_PAYMENT_PROVIDER": "midtrans", "KITAS_PAYMENT_WEBHOOK_SECRET": "s"}, providers)


def test_a_bill_is_opened_through_what_the_gateway_was_given() -> None:
    opened: list[tuple[Any, ...]] = []

    def open_bill(merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str) -> str:
        opened.append((merchant_ref, description, amount, expires_at, callback_url))
        return "123456789012345"

    expiry = NOW + timedelta(days=7)
    billing = SandboxGateway(SECRET, open_bill).create_billing("E23-1", "State fee", 1_700_000, expiry, "http://m/h")
    assert (billing.code, billing.amount, billing.expires_at) == ("123456789012345", 1_700_000, expiry)
    assert opened == [("E23-1", "State fee", 1_700_000, expiry, "http://m/h")]
    for amount in (0, -5, True, 1.5):
        with pytest.raises(ValueError, match="positive whole-rupiah"):
            SandboxGateway(SECRET, open_bill).create_billing("E23-1", "State fee", amount, expiry, "http://m/h")  # type: ignore[arg-type]
    assert len(opened) == 1


# -- posting notices ---------------------------------------------------------------


@pytest.fixture()
def merchant() -> Iterator[Merchant]:
    """A merchant endpoint on a free port, for the duration of a test."""
    with running_merchant() as endpoint:
        yield endpoint


def test_a_notice_is_posted_with_its_signature(merchant: Merchant) -> None:
    body = _body()
    signature = sandbox_provider.sign(body, SECRET, int(NOW.timestamp()))
    assert post_notice(merchant.url, body, signature) == Posted(None)
    [(headers, received)] = merchant.received
    assert received == body and headers["Content-Type"] == "application/json"
    assert SandboxGateway(SECRET, _no_bills).parse_webhook(received, headers, NOW).event_id == "evt_1"


@pytest.mark.parametrize("status", [302, 409, 500])
def test_redirects_and_refusals_are_not_deliveries(merchant: Merchant, status: int) -> None:
    merchant.status = status
    posted = post_notice(merchant.url, _body(), "t=1,v1=00")
    assert not posted.delivered and posted.error is not None and posted.error.startswith(f"HTTP {status}")
    assert len(merchant.received) == 1  # the redirect was not followed


def test_an_unreachable_merchant_or_a_strange_url_is_a_result_not_an_exception() -> None:
    unreachable = post_notice(closed_url(), _body(), "t=1,v1=00")
    assert not unreachable.delivered and "URLError" in (unreachable.error or "")
    strange = post_notice("file:///etc/passwd", _body(), "t=1,v1=00")
    assert strange.error == "the callback URL 'file:///etc/passwd' is not http(s)"
