"""The bookkeeping columns of a row worked through under a lease (timers, outbox rows, provider notices).

``kitas.services.leases`` is the one mechanism that reads and writes them; the
tables only say what a row is about and when it is done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .types import UTCDateTime


class LeasedWork:
    """Attempts so far, when the row may be taken next (the lease or the retry), by whom, why it failed."""

    # Counted when a row is claimed, so a worker that dies mid-attempt still uses one up.
    attempts: Mapped[int] = mapped_column(default=0)
    # Not taken before this time: the end of the current lease, or of the wait after a failure.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Set when the retry policy ran out: the row waits for an administrator (the incidents page).
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
