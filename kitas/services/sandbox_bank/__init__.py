"""The sandbox bank: a simulation of the outside world, not a part of KITAS Online.

It plays the sandbox payment provider's servers and its bank: it opens bills
(random 15-digit billing codes with a check digit, like SIMPONI's), lets a payer
pay one once, before it expires and for its exact amount, and keeps a queue of
HMAC-signed payment notices that it POSTs to the merchant over real HTTP,
retried under the ``webhook`` lease policy until the merchant answers 2xx. It
owns the ``sandbox_bill`` and ``sandbox_webhook`` tables and their transactions.
It is mounted only with the sandbox provider (``mount``, called when its pages
are registered); KITAS Online reaches it only through the sandbox adapter's
``PaymentGateway``. Calls the models, leases and the sandbox adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask.sansio.app import App

from ...adapters.payments import PROVIDERS_KEY, PaymentGateway
from ...adapters.sandbox_provider import PROVIDER_NAME, SandboxGateway
from ...config import ConfigurationError
from ..public_address import is_https, public_url_of
from .bills import (
    MERCHANT_NAME,
    BankBill,
    PaymentRefused,
    find_bill,
    new_billing_code,
    normalize_code,
    open_bill,
    paid_bill,
    pay,
)
from .notices import NOTICES, send_due_notices

__all__ = [
    "MERCHANT_NAME",
    "NOTICES",
    "BankBill",
    "PaymentRefused",
    "check_allowed",
    "find_bill",
    "mount",
    "new_billing_code",
    "normalize_code",
    "open_bill",
    "paid_bill",
    "pay",
    "send_due_notices",
]


def _gateway(config: Mapping[str, Any]) -> PaymentGateway:
    return SandboxGateway(secret=str(config["KITAS_PAYMENT_WEBHOOK_SECRET"]), open_bill=open_bill)


def check_allowed(config: Mapping[str, Any]) -> None:
    """Refuse the demo bank where real people pay: on an https public address it runs only when
    ``KITAS_ALLOW_SANDBOX_PAYMENTS=1`` says so (a demo or staging site); locally it always runs."""
    if is_https(config) and not config.get("KITAS_ALLOW_SANDBOX_PAYMENTS"):
        raise ConfigurationError(
            f"the public address {public_url_of(config)} is https, so this looks like a real deployment, but "
            "payments would go to the sandbox bank, a demo in which no real money moves. Set "
            "KITAS_PAYMENT_PROVIDER to your payment provider, or, for a demo or staging site, set "
            "KITAS_ALLOW_SANDBOX_PAYMENTS=1 to run the sandbox bank on purpose (every page then says so)."
        )


def mount(app: App) -> None:
    """Make the sandbox provider, backed by this bank, a payment provider of ``app`` (when allowed)."""
    check_allowed(app.config)
    app.extensions.setdefault(PROVIDERS_KEY, {})[PROVIDER_NAME] = _gateway
