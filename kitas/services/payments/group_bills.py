"""One billing code for the fees of several cases of a group, when the provider supports it.

``issue_group_bill`` locks every member case, keeps those that wait for payment and have no code of
their own (nor one of another group bill), and opens ONE bill for the sum of their ``fee_amount``; it
expires at the earliest of their deadlines. The provider's paid notice is checked against the bill
(event once, exact amount, before expiry) in one transaction that marks the bill paid; then each case
receives ``payment_received`` in its own ``case_step``, which marks its item delivered. A notice
that stops half way (a case changed at the same moment) is answered as a conflict: the provider sends
it again, and the same event resumes with the items still pending.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms.texts import Message

from ...adapters.payments import PaymentNotice
from ...extensions import app_clock, db
from ...models import Application, GroupBill, GroupBillItem, PaymentEvent, User
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..cases import case_step, read_runtime
from ..cases.unit_of_work import lock_case
from ..errors import Conflict, ServiceError
from .billing import (
    DEFAULT_VALIDITY,
    PAYMENT_MESSAGE,
    _callback_url,
    _deadline,
    _fee,
    covering_bill,
    gateway,
    payment_of,
    payment_status,
)

log = logging.getLogger(__name__)


class _NoticeRefused(Exception):
    """An authentic notice for a group bill that must not change anything (``outcome`` as in webhooks)."""

    def __init__(self, outcome: str, reason: str):
        self.outcome = outcome
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class BillItemView:
    """One case's share of a group bill."""

    reference: str
    amount: int
    outcome: str


@dataclass(frozen=True)
class GroupBillView:
    """What the group's pay page shows about one combined billing code."""

    billing_code: str
    amount: int
    expires_at: datetime
    status: str  # pending | paid | expired
    provider: str
    paid_at: datetime | None
    provider_ref: str | None
    items: tuple[BillItemView, ...]

    @property
    def payable(self) -> bool:
        """True while the code can be paid."""
        return self.status == "pending"


def combined_billing() -> bool:
    """True when the configured provider lets one billing code pay several applications."""
    return bool(getattr(gateway(), "supports_combined_billing", False))


def bill_status(bill: GroupBill, now: datetime) -> str:
    """``paid``, ``expired`` (unpaid past its expiry) or ``pending``."""
    if bill.status == "pending" and bill.expires_at <= now:
        return "expired"
    return bill.status


def group_bills(group_id: int) -> list[GroupBillView]:
    """The group's bills, newest first."""
    now = app_clock().now()
    bills = db.session.scalars(select(GroupBill).where(GroupBill.group_id == group_id).order_by(GroupBill.id.desc()))
    return [_view(bill, now) for bill in bills]


def _view(bill: GroupBill, now: datetime) -> GroupBillView:
    rows = db.session.execute(
        select(Application.reference, GroupBillItem.amount, GroupBillItem.outcome)
        .join(Application, Application.id == GroupBillItem.application_id)
        .where(GroupBillItem.bill_id == bill.id)
        .order_by(GroupBillItem.id)
    ).all()
    return GroupBillView(
        billing_code=bill.billing_code,
        amount=bill.amount,
        expires_at=bill.expires_at,
        status=bill_status(bill, now),
        provider=bill.provider,
        paid_at=bill.paid_at,
        provider_ref=bill.provider_ref,
        items=tuple(BillItemView(r.reference, r.amount, r.outcome) for r in rows),
    )


def issue_group_bill(group_id: int, group_reference: str, application_ids: Sequence[int], user: User) -> GroupBill:
    """One billing code for every given case that waits for payment and has no code yet; ServiceError
    when none does, or when the provider cannot bill several applications at once."""
    provider = gateway()
    if not getattr(provider, "supports_combined_billing", False):
        raise ServiceError(
            Message("the payment provider cannot pay several applications with one code; pay each one on its own page")
        )
    with write_transaction():
        now = app_clock().now()
        members: list[tuple[Application, int, datetime | None]] = []
        for application_id in sorted(application_ids):  # one order for every locker: no deadlock
            application = lock_case(application_id)
            runtime = read_runtime(application)
            if PAYMENT_MESSAGE not in runtime.waiting_messages():
                continue
            own = payment_of(application.id)
            if own is not None and payment_status(own, now) == "pending":
                continue  # it pays with its own code
            if covering_bill(application.id, now) is not None:
                continue
            members.append((application, _fee(runtime, application.reference), _deadline(application.id)))
        deadlines = [deadline for _, _, deadline in members if deadline is not None]
        expires_at = min([now + DEFAULT_VALIDITY, *deadlines])
        if not members or expires_at <= now:
            raise Conflict(Message("no application of this group waits for payment without a billing code"))
        total = sum(amount for _, amount, _ in members)
        billing = provider.create_billing(
            group_reference,
            f"State fees (PNBP), {len(members)} KITAS applications of group {group_reference}",
            total,
            expires_at,
            _callback_url(provider.name),
        )
        bill = GroupBill(
            group_id=group_id,
            provider=provider.name,
            billing_code=billing.code,
            amount=billing.amount,
            status="pending",
            expires_at=billing.expires_at,
            created_at=now,
        )
        db.session.add(bill)
        db.session.flush()
        for application, amount, _ in members:
            db.session.add(GroupBillItem(bill_id=bill.id, application_id=application.id, amount=amount))
            audit.record(
                "group_billing_created",
                {
                    "case": application.reference,
                    "group": group_reference,
                    "billing_code": billing.code,
                    "amount": amount,
                    "total": billing.amount,
                    "expires_at": billing.expires_at.isoformat(),
                },
                user=user,
                case=application,
            )
    return bill


# -- the provider's notice ----------------------------------------------------------


def is_group_billing(provider: str, billing_code: str) -> bool:
    """True when the code is a group bill of this provider."""
    found = db.session.scalar(
        select(GroupBill.id).where(GroupBill.billing_code == billing_code, GroupBill.provider == provider)
    )
    return found is not None


def apply_group_notice(provider: str, notice: PaymentNotice, now: datetime) -> tuple[str, str] | None:
    """Mark the bill paid (once), then deliver ``payment_received`` to each of its cases, each in its own
    step. None when applied; else the refusal (outcome, reason): the notice changed nothing, or a case
    could not be reached now (the provider sends it again)."""
    try:
        _apply(provider, notice, now)
    except _NoticeRefused as refused:
        return refused.outcome, refused.reason
    return None


def _apply(provider: str, notice: PaymentNotice, now: datetime) -> None:
    with write_transaction():
        query = (
            select(GroupBill)
            .where(GroupBill.billing_code == notice.billing_code, GroupBill.provider == provider)
            .execution_options(populate_existing=True)
        )
        if is_postgres():
            query = query.with_for_update()
        bill = db.session.scalars(query).one()
        _check(bill, notice)
        if bill.status != "paid":
            db.session.add(
                PaymentEvent(
                    provider=provider,
                    event_id=notice.event_id,
                    received_at=now,
                    outcome="accepted",
                    detail=f"group billing {notice.billing_code}, Rp{notice.amount}, ref {notice.provider_ref}",
                )
            )
            try:
                db.session.flush()
            except IntegrityError as exc:
                raise _NoticeRefused("duplicate", f"event {notice.event_id} was already processed") from exc
            bill.status, bill.paid_at = "paid", notice.paid_at
            bill.provider_ref, bill.event_id = notice.provider_ref, notice.event_id
            audit.record(
                "group_payment_confirmed",
                {"billing_code": bill.billing_code, "amount": bill.amount, "event_id": notice.event_id},
                actor=f"payment:{provider}",
            )
        bill_id = bill.id
    pending = db.session.scalars(
        select(GroupBillItem.id).where(GroupBillItem.bill_id == bill_id, GroupBillItem.outcome == "pending")
    ).all()
    failed = 0
    for item_id in pending:
        try:
            _deliver(item_id, notice, provider)
        except Conflict as exc:
            log.warning("group payment %s: case of item %s not reached now: %s", notice.billing_code, item_id, exc)
            failed += 1
    if failed:
        raise _NoticeRefused("conflict", f"{failed} case(s) of the group bill changed at the same moment; retry")


def _check(bill: GroupBill, notice: PaymentNotice) -> None:
    seen = db.session.scalar(select(PaymentEvent.id).where(PaymentEvent.event_id == notice.event_id))
    if bill.status == "paid":
        if bill.event_id == notice.event_id:
            undelivered = db.session.scalar(
                select(GroupBillItem.id).where(GroupBillItem.bill_id == bill.id, GroupBillItem.outcome == "pending")
            )
            if undelivered is not None:
                return  # the same notice again, after a case could not be reached: go on with the rest
            raise _NoticeRefused("duplicate", f"replayed event: {notice.event_id} was already processed")
        raise _NoticeRefused("already_paid", f"the billing code {bill.billing_code} was already paid")
    if seen is not None:
        raise _NoticeRefused("duplicate", f"replayed event: {notice.event_id} was already processed")
    if notice.amount != bill.amount:
        raise _NoticeRefused("wrong_amount", f"paid Rp{notice.amount} but the billing code is for Rp{bill.amount}")
    if notice.paid_at >= bill.expires_at:
        raise _NoticeRefused(
            "expired",
            f"paid at {notice.paid_at.isoformat()} but the code expired at {bill.expires_at.isoformat()}",
        )


def _deliver(item_id: int, notice: PaymentNotice, provider: str) -> None:
    """One case of the bill: its own step delivers the payment and marks its item."""
    application_id = db.session.scalar(select(GroupBillItem.application_id).where(GroupBillItem.id == item_id))
    if application_id is None:
        return
    actor = f"payment:{provider}"
    with case_step(application_id) as step:
        item = db.session.scalars(
            select(GroupBillItem).where(GroupBillItem.id == item_id).execution_options(populate_existing=True)
        ).one()
        if item.outcome != "pending":
            return
        detail = {"billing_code": notice.billing_code, "amount": item.amount, "event_id": notice.event_id}
        if PAYMENT_MESSAGE not in step.runtime.waiting_messages():
            item.outcome = "not_waiting"
            step.audit("group_payment_not_applied", {**detail, "status": step.application.status}, actor=actor)
            return
        payload = {"billing_code": notice.billing_code, "amount": item.amount, "paid_at": notice.paid_at.isoformat()}
        step.audit("payment_confirmed", {**detail, "provider_ref": notice.provider_ref, "combined": True}, actor=actor)
        step.run(lambda runtime: runtime.deliver_message(PAYMENT_MESSAGE, payload))
        step.audit("message_delivered", {"message": PAYMENT_MESSAGE, "fields": sorted(payload)}, actor=actor)
        item.outcome, item.delivered_at = "delivered", step.now
