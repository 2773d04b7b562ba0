"""Payments of cases: billing codes issued through the configured gateway, and the provider's payment webhooks.

The diagram decides when a case must pay (it waits for the message
``payment_received``) and how much (the fee table puts ``fee_amount`` in the
case data); this module only supplies the means. A webhook is applied in ONE
transaction that locks the case row: the payment event, the paid payment and
the delivered message are written together or not at all, so a replayed or
concurrent duplicate can never move a case twice.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from engine import CaseRuntime

from ...adapters.payments import PROVIDERS_KEY, PaymentGateway, PaymentNotice, WebhookRejected, gateway_for
from ...extensions import app_clock, db
from ...models import Application, Payment, PaymentEvent, Timer, User
from ...transactions import write_transaction
from .. import audit
from ..audit.refusals import record_refusal
from ..cases import CaseStep, case_step, read_runtime
from ..errors import Conflict, NotFound, ServiceError

log = logging.getLogger(__name__)

# The contract with the diagrams: the message a paying case waits for, and the variable holding its fee.
PAYMENT_MESSAGE = "payment_received"
FEE_VARIABLE = "fee_amount"
# A billing code is valid this long unless the case's own deadline comes first (SIMPONI: 7 days).
DEFAULT_VALIDITY = timedelta(days=7)
WEBHOOK_ROUTE = "webhooks.payment_notice"

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


@dataclass(frozen=True)
class PaymentView:
    """What the applicant's pay page shows."""

    reference: str
    case_status: str
    awaiting_payment: bool  # the case waits for the payment right now
    status: str  # none | pending | paid | expired
    billing_code: str | None = None
    amount: int | None = None
    expires_at: datetime | None = None
    paid_at: datetime | None = None
    provider: str | None = None
    provider_ref: str | None = None

    @property
    def payable(self) -> bool:
        """True when the billing code can be paid now."""
        return self.awaiting_payment and self.status == "pending"


class _Refusal(Exception):
    """An authentic webhook that must not change anything."""

    def __init__(self, outcome: str, reason: str, application_id: int | None = None):
        self.outcome = outcome
        self.reason = reason
        self.application_id = application_id
        super().__init__(reason)


def gateway() -> PaymentGateway:
    """The configured payment gateway, among the providers mounted on this application."""
    return gateway_for(current_app.config, current_app.extensions.get(PROVIDERS_KEY, {}))


def payment_status(payment: Payment, now: datetime) -> str:
    """``paid``, ``expired`` (unpaid past its expiry) or ``pending``."""
    if payment.status == "pending" and payment.expires_at <= now:
        return "expired"
    return payment.status


def payment_of(application_id: int) -> Payment | None:
    """The latest payment of a case, if any (for dashboards)."""
    return db.session.scalars(
        select(Payment).where(Payment.application_id == application_id).order_by(Payment.id.desc()).limit(1)
    ).first()


# -- the applicant's pay page ----------------------------------------------------


def billing_for(reference: str, user: User) -> PaymentView:
    """The billing code of the user's own case, issued on first sight while the case waits for payment."""
    application = _own_case(reference, user)
    waiting = PAYMENT_MESSAGE in read_runtime(application).waiting_messages()
    latest = payment_of(application.id)
    now = app_clock().now()
    if waiting and (latest is None or payment_status(latest, now) != "pending"):
        issued = _issue_billing(application.id, user)
        if issued is not None:
            latest = issued
        else:  # the case moved on, or its deadline passed, while we looked
            db.session.refresh(application)
            waiting = PAYMENT_MESSAGE in read_runtime(application).waiting_messages()
    return _view(application, latest, waiting, app_clock().now())


def _own_case(reference: str, user: User) -> Application:
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None or application.applicant_id != user.id:
        reason = "no such application" if application is None else "not the applicant of this case"
        record_refusal(user, "payment", reference[:64], reason)
        raise NotFound("there is no such application")
    return application


def _deadline(application_id: int) -> datetime | None:
    """The earliest interrupting boundary timer of the case: the wait for payment ends there at the latest."""
    return db.session.scalar(
        select(Timer.due_at)
        .where(
            Timer.application_id == application_id,
            Timer.status == "pending",
            Timer.interrupting.is_(True),
            Timer.attached_to.is_not(None),
        )
        .order_by(Timer.due_at)
        .limit(1)
    )


def _fee(runtime: CaseRuntime, reference: str) -> int:
    amount = runtime.data.get(FEE_VARIABLE)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ServiceError(
            f"case {reference} has no fee to pay ({FEE_VARIABLE} is {amount!r}); an analyst must check the fee table"
        )
    return amount


def _callback_url(provider: str) -> str:
    path = current_app.url_map.bind("localhost").build(WEBHOOK_ROUTE, {"provider": provider})
    return str(current_app.config["KITAS_PUBLIC_URL"]).rstrip("/") + path


def _issue_billing(application_id: int, user: User) -> Payment | None:
    """Create a billing code through the gateway, re-checking everything under the case lock."""
    with case_step(application_id) as step:
        application, now = step.application, step.now
        if PAYMENT_MESSAGE not in step.runtime.waiting_messages():
            return None
        latest = payment_of(application.id)
        if latest is not None and payment_status(latest, now) == "pending":
            return latest  # someone else issued it a moment ago
        deadline = _deadline(application.id)
        expires_at = min(now + DEFAULT_VALIDITY, deadline) if deadline is not None else now + DEFAULT_VALIDITY
        if expires_at <= now:
            return None  # the deadline passed; the scheduler is about to close the case
        amount = _fee(step.runtime, application.reference)
        if latest is not None and latest.status == "pending":
            latest.status = "expired"
        provider = gateway()
        billing = provider.create_billing(
            application.reference,
            f"State fee (PNBP), KITAS application {application.reference}",
            amount,
            expires_at,
            _callback_url(provider.name),
        )
        payment = Payment(
            application_id=application.id,
            provider=provider.name,
            billing_code=billing.code,
            amount=billing.amount,
            status="pending",
            expires_at=billing.expires_at,
            created_at=now,
        )
        db.session.add(payment)
        step.audit(
            "billing_created",
            {
                "provider": provider.name,
                "billing_code": billing.code,
                "amount": billing.amount,
                "expires_at": billing.expires_at.isoformat(),
            },
            user=user,
        )
    return payment


def _view(application: Application, payment: Payment | None, waiting: bool, now: datetime) -> PaymentView:
    if payment is None:
        return PaymentView(application.reference, application.status, waiting, "none")
    return PaymentView(
        reference=application.reference,
        case_status=application.status,
        awaiting_payment=waiting,
        status=payment_status(payment, now),
        billing_code=payment.billing_code,
        amount=payment.amount,
        expires_at=payment.expires_at,
        paid_at=payment.paid_at,
        provider=payment.provider,
        provider_ref=payment.provider_ref,
    )


# -- the provider's webhook ---------------------------------------------------------


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
