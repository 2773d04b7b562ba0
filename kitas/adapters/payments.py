"""The payment provider interface: issue billing codes, and read the provider's signed payment notices.

KITAS Online talks to a provider only through a ``PaymentGateway``. The
provider is chosen by configuration (``KITAS_PAYMENT_PROVIDER``) among the
providers mounted on the application (``PROVIDERS_KEY`` in ``app.extensions``:
name -> factory taking the configuration). A new provider is one adapter module
plus one registration where the application is put together; the sandbox
provider is mounted by the sandbox bank, which stands in for its servers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

# A notice whose signature timestamp is further than this from our clock is refused (replay window).
SIGNATURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class Billing:
    """A billing code the provider issued: what the payer enters at the bank, the amount and the expiry."""

    code: str
    amount: int
    expires_at: datetime


@dataclass(frozen=True)
class PaymentNotice:
    """An authentic notice from the provider that a billing code was paid."""

    event_id: str
    billing_code: str
    amount: int
    paid_at: datetime
    provider_ref: str


class WebhookRejected(Exception):
    """A webhook is not authentic or not usable (bad signature, stale timestamp, malformed body)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class UnknownPaymentProvider(LookupError):
    """The configured payment provider has no adapter."""


class PaymentGateway(Protocol):
    """What KITAS Online needs from a payment provider."""

    name: str
    # One billing code may pay the fees of several applications at once (a group's combined payment).
    supports_combined_billing: bool

    def create_billing(
        self, merchant_ref: str, description: str, amount: int, expires_at: datetime, callback_url: str
    ) -> Billing:
        """Ask the provider for a billing code of ``amount`` rupiah, payable until ``expires_at``."""
        ...

    def parse_webhook(self, body: bytes, headers: Mapping[str, str], now: datetime) -> PaymentNotice:
        """Verify a webhook's signature and freshness and read it; raises WebhookRejected."""
        ...


GatewayFactory = Callable[[Mapping[str, Any]], PaymentGateway]
# Where an application keeps its mounted providers: ``app.extensions[PROVIDERS_KEY][name] = factory``.
PROVIDERS_KEY = "kitas_payment_providers"


def gateway_for(config: Mapping[str, Any], providers: Mapping[str, GatewayFactory]) -> PaymentGateway:
    """The gateway of the provider named by ``KITAS_PAYMENT_PROVIDER`` (``sandbox`` by default)."""
    name = str(config.get("KITAS_PAYMENT_PROVIDER") or "sandbox")
    factory = providers.get(name)
    if factory is None:
        mounted = ", ".join(repr(known) for known in sorted(providers)) or "none"
        raise UnknownPaymentProvider(f"no payment adapter for KITAS_PAYMENT_PROVIDER={name!r} (mounted: {mounted})")
    return factory(config)
