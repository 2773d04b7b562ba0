"""The sandbox bank's bills: opened for the merchant, looked up and paid by the payer, as a bank would."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import SandboxBill
from ...money import rupiah
from ...transactions import is_postgres, write_transaction
from .notices import queue_notice

MERCHANT_NAME = "KITAS Online"  # the sandbox has exactly one merchant account
CODE_DIGITS = 15


class PaymentRefused(Exception):
    """The sandbox bank refused a payment; ``code`` says why, the message (a Message) says what to do."""

    def __init__(self, code: str, message: str, bill: BankBill | None = None):
        self.code = code
        self.bill = bill
        super().__init__(message)

    @property
    def message(self) -> str:
        """The Message the refusal was raised with (its English text is ``str(refusal)``)."""
        return str(self.args[0]) if not isinstance(self.args[0], Message) else self.args[0]


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
        raise PaymentRefused("missing", Message("Enter the 15-digit billing code shown on your payment page."))
    if not code.isdigit() or len(code) != CODE_DIGITS:
        raise PaymentRefused(
            "malformed",
            Message(
                "A billing code has exactly %(digits)s digits; what you entered has %(count)s characters.",
                digits=CODE_DIGITS,
                count=len(code),
            ),
        )
    if _check_digit(code[:-1]) != code[-1]:
        raise PaymentRefused(
            "typo", Message("This is not a valid billing code (its last digit does not match); check for a typo.")
        )
    return code


# -- the merchant's side ---------------------------------------------------------


def open_bill(merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str) -> str:
    """Open a bill inside the caller's transaction (a rolled-back caller leaves no bill behind); its code."""
    code = new_billing_code()
    while db.session.scalar(select(SandboxBill.id).where(SandboxBill.billing_code == code)) is not None:
        code = new_billing_code()
    db.session.add(
        SandboxBill(
            billing_code=code,
            merchant_ref=merchant_ref,
            description=description,
            amount=amount,
            expires_at=expires_at,
            callback_url=callback_url,
            status="unpaid",
            created_at=app_clock().now(),
        )
    )
    db.session.flush()
    return code


# -- the payer's side --------------------------------------------------------------


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
        raise PaymentRefused(
            "unknown",
            Message("There is no bill with the code %(code)s. Check it against your payment page.", code=code),
        )
    if bill.status == "paid":
        raise PaymentRefused("paid", Message("This bill is already paid; nothing was charged again."), _view(bill))
    if now >= bill.expires_at:
        raise PaymentRefused(
            "expired",
            Message("This billing code has expired and can no longer be paid; ask the merchant for a new one."),
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
    """Pay a bill, as a bank does: once, before it expires, for its exact amount; queues the merchant's notice."""
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
                Message(
                    "This bill is for %(amount)s, not %(paid)s; pay the exact amount.",
                    amount=rupiah(bill.amount),
                    paid=rupiah(amount),
                ),
                _view(bill),
            )
        bill.status = "paid"
        bill.paid_at = now
        receipt = _view(bill)
        queue_notice(bill.callback_url, bill.billing_code, bill.amount, now, receipt.provider_ref or "")
    return receipt
