"""Payments of cases: billing codes through the configured ``PaymentGateway`` and the provider's signed
notices that deliver the BPMN payment message. Calls cases/ (the unit of work) and audit/.
"""

from .billing import (
    DEFAULT_VALIDITY,
    FEE_VARIABLE,
    PAYMENT_MESSAGE,
    WEBHOOK_ROUTE,
    PaymentView,
    billing_for,
    gateway,
    payment_of,
    payment_status,
)
from .webhooks import (
    ACCEPTED,
    ALREADY_PAID,
    CONFLICT,
    DUPLICATE,
    EXPIRED,
    NOT_WAITING,
    REJECTED,
    UNAUTHENTICATED,
    UNKNOWN_BILLING,
    UNKNOWN_PROVIDER,
    WRONG_AMOUNT,
    handle_webhook,
)

__all__ = [
    "ACCEPTED",
    "ALREADY_PAID",
    "CONFLICT",
    "DEFAULT_VALIDITY",
    "DUPLICATE",
    "EXPIRED",
    "FEE_VARIABLE",
    "NOT_WAITING",
    "PAYMENT_MESSAGE",
    "PaymentView",
    "REJECTED",
    "UNAUTHENTICATED",
    "UNKNOWN_BILLING",
    "UNKNOWN_PROVIDER",
    "WEBHOOK_ROUTE",
    "WRONG_AMOUNT",
    "billing_for",
    "gateway",
    "handle_webhook",
    "payment_of",
    "payment_status",
]
