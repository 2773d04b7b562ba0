"""The notification outbox: rows queued inside a step's own transaction, delivered by the
scheduler through the mail and SMS adapters under the shared lease mechanism. Calls the models, the
adapters and leases.
"""

from .outbox import (
    BATCH,
    CHANNELS,
    OUTBOX,
    OUTBOX_CHANNELS,
    RenderedMail,
    Renderer,
    absolute_link,
    deliver_due,
    mark_all_read,
    notify,
    queue_for_address,
    queued_recently,
    recent_for,
    register_renderer,
)

__all__ = [
    "BATCH",
    "CHANNELS",
    "OUTBOX",
    "OUTBOX_CHANNELS",
    "RenderedMail",
    "Renderer",
    "absolute_link",
    "deliver_due",
    "mark_all_read",
    "notify",
    "queue_for_address",
    "queued_recently",
    "recent_for",
    "register_renderer",
]
