"""The notification outbox: rows queued inside a step's own transaction, delivered by the
scheduler through the mail and SMS adapters. Calls nothing but the models and adapters.
"""

from .outbox import (
    BATCH,
    CHANNELS,
    FIRST_RETRY,
    LEASE,
    MAX_ATTEMPTS,
    MAX_RETRY_DELAY,
    OUTBOX_CHANNELS,
    absolute_link,
    deliver_due,
    mark_all_read,
    notify,
    recent_for,
    retry_delay,
    sent_recently,
    unread_for,
)

__all__ = [
    "BATCH",
    "CHANNELS",
    "FIRST_RETRY",
    "LEASE",
    "MAX_ATTEMPTS",
    "MAX_RETRY_DELAY",
    "OUTBOX_CHANNELS",
    "absolute_link",
    "deliver_due",
    "mark_all_read",
    "notify",
    "recent_for",
    "retry_delay",
    "sent_recently",
    "unread_for",
]
