"""The notification outbox: rows queued inside a step's own transaction, delivered by the
scheduler through the mail and SMS adapters under the shared lease mechanism. Calls the models, the
adapters and leases.
"""

from .outbox import (
    BATCH,
    CHANNELS,
    OUTBOX,
    OUTBOX_CHANNELS,
    absolute_link,
    deliver_due,
    mark_all_read,
    notify,
    recent_for,
    sent_recently,
)

__all__ = [
    "BATCH",
    "CHANNELS",
    "OUTBOX",
    "OUTBOX_CHANNELS",
    "absolute_link",
    "deliver_due",
    "mark_all_read",
    "notify",
    "recent_for",
    "sent_recently",
]
