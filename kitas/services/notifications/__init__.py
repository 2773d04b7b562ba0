"""The notification outbox: rows queued inside a step's own transaction, delivered by the
scheduler through the mail and SMS adapters under the shared lease mechanism, every message written
in its reader's language when it is sent or shown. Calls the models, the adapters and leases.
"""

from .outbox import (
    BATCH,
    CHANNELS,
    MESSAGE,
    OUTBOX,
    OUTBOX_CHANNELS,
    InAppMessage,
    RenderedMail,
    Renderer,
    absolute_link,
    deliver_due,
    mark_all_read,
    notify,
    notify_text,
    queue_for_address,
    queued_recently,
    recent_for,
    register_renderer,
    register_text,
)
from .texts import (
    Localizer,
    MailTemplate,
    Notice,
    Writer,
    in_language_of,
    localized,
    use_localizer,
)

__all__ = [
    "BATCH",
    "CHANNELS",
    "MESSAGE",
    "OUTBOX",
    "OUTBOX_CHANNELS",
    "InAppMessage",
    "Localizer",
    "MailTemplate",
    "Notice",
    "RenderedMail",
    "Renderer",
    "Writer",
    "absolute_link",
    "deliver_due",
    "in_language_of",
    "localized",
    "mark_all_read",
    "notify",
    "notify_text",
    "queue_for_address",
    "queued_recently",
    "recent_for",
    "register_renderer",
    "register_text",
    "use_localizer",
]
