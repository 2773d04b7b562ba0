"""Payments of cases: billing codes issued through the configured gateway, and the provider's payment webhooks.

The diagram decides when a case must pay (it waits for the message
``payment_received``) and how much (the fee table puts ``fee_amount`` in the
case data); this module only supplies the means. A webhook is applied in ONE
transaction that locks the case row: the payment event, the paid payment and
the delivered message are written together or not at all, so a replayed or
concurrent duplicate can never move a case twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from engine import CaseRuntime
from forms.texts import Message

from ...adapters.payments import PROVIDERS_KEY, PaymentGateway, gateway_for
from ...extensions import app_clock, db
from ...models import Application, GroupBill, GroupBillItem, Payment, Timer, User
from ..audit.refusals import record_refusal
from ..cases import case_step, read_runtime
from ..errors import NotFound, ServiceError
from ..public_address import absolute

log = logging.getLogger(__name__)

# The contract with the diagrams: the message a paying case waits for, and the variable holding its fee.
PAYMENT_MESSAGE = "payment_received"
FEE_VARIABLE = "fee_amount"
# A billing code is valid this long unless the case's own deadline comes first (SIMPONI: 7 days).
DEFAULT_VALIDITY = timedelta(days=7)
WEBHOOK_ROUTE = "webhooks.payment_notice"


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
    # The code pays the fees of this many applications of a group (0: this application's alone).
    combined_count: int = 0
    own_amount: int | None = None

    @property
    def payable(self) -> bool:
        """True when the billing code can be paid now."""
        return self.awaiting_payment and self.status == "pending"


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
        select(Payment)
        .where(Payment.application_id == application_id)
        .order_by(Payment.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)  # inside a step: as the row is now, not as read before the lock
    ).first()


def covering_bill(application_id: int, now: datetime) -> GroupBill | None:
    """The group bill that holds this case's fee, not yet delivered to it: unpaid and unexpired, or paid
    with the case's payment still on its way (a second code for the same fee must not be issued)."""
    bills = db.session.scalars(
        select(GroupBill)
        .join(GroupBillItem, GroupBillItem.bill_id == GroupBill.id)
        .where(GroupBillItem.application_id == application_id, GroupBillItem.outcome == "pending")
        .order_by(GroupBill.id.desc())
    )
    return next((bill for bill in bills if bill.status == "paid" or bill.expires_at > now), None)


# -- the applicant's pay page ----------------------------------------------------


def billing_for(reference: str, user: User) -> PaymentView:
    """The billing code of the user's own case, issued on first sight while the case waits for payment."""
    application = _own_case(reference, user)
    waiting = PAYMENT_MESSAGE in read_runtime(application).waiting_messages()
    latest = payment_of(application.id)
    now = app_clock().now()
    combined = covering_bill(application.id, now) if waiting else None
    if combined is not None:  # its fee is in the group's billing code: no second code for the same fee
        return _combined_view(application, combined)
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
        raise NotFound(Message("there is no such application"))
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
            Message(
                "case %(reference)s has no fee to pay (%(variable)s is %(amount)r); "
                "an analyst must check the fee table",
                reference=reference,
                variable=FEE_VARIABLE,
                amount=amount,
            )
        )
    return amount


def _callback_url(provider: str) -> str:
    path = current_app.url_map.bind("localhost").build(WEBHOOK_ROUTE, {"provider": provider})
    return absolute(path)


def _issue_billing(application_id: int, user: User) -> Payment | None:
    """Create a billing code through the gateway, re-checking everything under the case lock."""
    with case_step(application_id) as step:
        application, now = step.application, step.now
        if PAYMENT_MESSAGE not in step.runtime.waiting_messages():
            return None
        latest = payment_of(application.id)
        if latest is not None and payment_status(latest, now) == "pending":
            return latest  # someone else issued it a moment ago
        if covering_bill(application.id, now) is not None:
            return None  # the group's billing code holds this fee
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


def _combined_view(application: Application, bill: GroupBill) -> PaymentView:
    """The pay page of a case whose fee is in its group's billing code."""
    items = db.session.scalars(select(GroupBillItem).where(GroupBillItem.bill_id == bill.id)).all()
    own = next((item.amount for item in items if item.application_id == application.id), None)
    return PaymentView(
        reference=application.reference,
        case_status=application.status,
        awaiting_payment=True,
        status="pending",
        billing_code=bill.billing_code,
        amount=bill.amount,
        expires_at=bill.expires_at,
        provider=bill.provider,
        combined_count=len(items),
        own_amount=own,
    )
