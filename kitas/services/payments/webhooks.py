"""The provider's signed payment notices: verified, checked under the case lock, and applied as one step.

A notice is applied in ONE step of the case's unit of work: the payment event, the paid
payment and the delivered ``payment_received`` message are written together or not at
all, so a replayed or concurrent duplicate can never move a case twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ...adapters.payments import PaymentNotice, WebhookRejected
from ...extensions import app_clock, db
from ...models import Application, Payment, PaymentEvent
from ...transactions import write_transaction
from .. import audit
from ..cases import CaseStep, case_step
from ..errors import Conflict
from . import group_bills
from .billing import PAYMENT_MESSAGE, gateway

log = logging.getLogger(__name__)

# Outcomes of handle_webhook.
ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"  # not authentic: bad or missing signature, stale timestamp, malformed body
UNKNOWN_PROVIDER = "unknown_provider"
UNKNOWN_BILLING = "unknown_billing"
ALREADY_PAID = "already_paid"
WRONG_AMOUNT = "wrong_amount"
EXPIRED = "expired"
NOT_WAITING = "not_waiting"
CONFLICT = "conflict"  # the case changed under us; the provider's retry will be applied
# Notices whose sender is not proven; they are logged, never audited.
UNAUTHENTICATED = frozenset({REJECTED, UNKNOWN_PROVIDER})


class _Refusal(Exception):
    """An authentic webhook that must not change anything."""

    def __init__(self, outcome: str, reason: str, application_id: int | None = None):
        self.outcome = outcome
        self.reason = reason
        self.application_id = application_id
        super().__init__(reason)


def handle_webhook(provider: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Verify a provider's payment notice and deliver ``payment_received`` to the case; returns the outcome."""
    now = app_clock().now()
    configured = gateway()
    if provider != configured.name:
        return _refuse(provider, UNKNOWN_PROVIDER, f"the configured provider is {configured.name!r}", body)
    try:
        notice = configured.parse_webhook(body, headers, now)
    except WebhookRejected as exc:
        return _refuse(provider, REJECTED, exc.reason, body)
    try:
        _apply(provider, notice, now)
    except _Refusal as refusal:
        return _refuse(provider, refusal.outcome, refusal.reason, body, notice, refusal.application_id)
    except (StaleDataError, Conflict) as exc:
        return _refuse(provider, CONFLICT, f"the case changed at the same moment ({exc}); retry", body, notice)
    return ACCEPTED


def _apply(provider: str, notice: PaymentNotice, now: datetime) -> None:
    """One step of the case: checks under its lock, then event, payment and message together."""
    if group_bills.is_group_billing(provider, notice.billing_code):
        refused = group_bills.apply_group_notice(provider, notice, now)
        if refused is not None:
            raise _Refusal(*refused)
        return
    application_id = db.session.scalar(
        select(Payment.application_id).where(Payment.billing_code == notice.billing_code, Payment.provider == provider)
    )
    if application_id is None:
        raise _Refusal(UNKNOWN_BILLING, f"no payment has the billing code {notice.billing_code}")
    with case_step(application_id) as step:  # concurrent notices for this case queue here
        application = step.application
        payment = db.session.scalars(
            select(Payment).where(Payment.billing_code == notice.billing_code).execution_options(populate_existing=True)
        ).one()
        _check(notice, payment, application, provider)
        if PAYMENT_MESSAGE not in step.runtime.waiting_messages():
            raise _Refusal(
                NOT_WAITING, f"the case is no longer waiting for payment (status {application.status})", application.id
            )
        db.session.add(
            PaymentEvent(
                provider=provider,
                event_id=notice.event_id,
                received_at=now,
                outcome=ACCEPTED,
                detail=f"billing {notice.billing_code}, Rp{notice.amount}, ref {notice.provider_ref}",
            )
        )
        try:
            db.session.flush()  # the unique event id is the last line of defence against a twin delivery
        except IntegrityError as exc:
            raise _Refusal(DUPLICATE, f"event {notice.event_id} was already processed", application.id) from exc
        payment.status = "paid"
        payment.paid_at = notice.paid_at
        payment.provider_ref = notice.provider_ref
        _deliver(step, notice, provider)


def _check(notice: PaymentNotice, payment: Payment, application: Application, provider: str) -> None:
    """Refuse replays, second payments, wrong amounts and late payments."""
    seen = db.session.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == notice.event_id))
    if seen is not None:
        raise _Refusal(DUPLICATE, f"replayed event: {notice.event_id} was already processed", application.id)
    if payment.status == "paid":
        raise _Refusal(
            ALREADY_PAID,
            f"the billing code {payment.billing_code} was already paid (ref {payment.provider_ref})",
            application.id,
        )
    if notice.amount != payment.amount:
        raise _Refusal(
            WRONG_AMOUNT, f"paid Rp{notice.amount} but the billing code is for Rp{payment.amount}", application.id
        )
    if notice.paid_at >= payment.expires_at:
        raise _Refusal(
            EXPIRED,
            f"paid at {notice.paid_at.isoformat()} but the code expired at {payment.expires_at.isoformat()}",
            application.id,
        )


def _deliver(step: CaseStep, notice: PaymentNotice, provider: str) -> None:
    """Record the confirmed payment and deliver ``payment_received`` inside the case's step."""
    actor = f"payment:{provider}"
    payload = {"billing_code": notice.billing_code, "amount": notice.amount, "paid_at": notice.paid_at.isoformat()}
    step.audit(
        "payment_confirmed",
        {
            "billing_code": notice.billing_code,
            "amount": notice.amount,
            "event_id": notice.event_id,
            "provider_ref": notice.provider_ref,
        },
        actor=actor,
    )
    step.run(lambda runtime: runtime.deliver_message(PAYMENT_MESSAGE, payload))
    step.audit("message_delivered", {"message": PAYMENT_MESSAGE, "fields": sorted(payload)}, actor=actor)


def _refuse(
    provider: str,
    outcome: str,
    reason: str,
    body: bytes,
    notice: PaymentNotice | None = None,
    application_id: int | None = None,
) -> str:
    """Log a refused webhook: authentic notices in the audit trail (in a transaction of their own, the use
    case's changes were rolled back); unauthenticated ones only in the application log, so that anonymous
    posts cannot grow the tamper-evident chain."""
    detail: dict[str, Any] = {
        "provider": provider[:32],
        "outcome": outcome,
        "reason": reason,
        "body_sha256": hashlib.sha256(body).hexdigest(),
    }
    if notice is not None:
        detail.update(event_id=notice.event_id, billing_code=notice.billing_code, amount=notice.amount)
    if outcome in UNAUTHENTICATED:
        log.warning("payment webhook refused: %s", detail)
        return outcome
    with write_transaction():
        audit.record("payment_webhook_refused", detail, actor=f"payment:{provider[:32]}", application_id=application_id)
    return outcome
