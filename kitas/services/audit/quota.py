"""Audit rows for events that repeat without bound (throttled sign-ins, refused pages): one per window and key.

An anonymous caller can repeat a refused request as often as it likes; writing a row each
time would let it grow the audit trail without bound. ``record_once_per_window`` writes the
first occurrence of a key, counts the repeats within the window in ``audit_quota`` and
writes the count into the next row, so nothing is hidden and the trail grows by at most one
row per window and key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from ...extensions import app_clock, db
from ...models import AuditQuota, User
from .chain import record

KEY_CHARS = 300


def record_once_per_window(
    key: str,
    window: timedelta,
    action: str,
    detail: dict[str, Any],
    *,
    user: User | None = None,
    actor: str | None = None,
) -> bool:
    """Audit ``action`` inside the caller's transaction unless ``key`` was audited within ``window``.

    Returns True when a row was written; its detail gains ``repeats_not_audited``, the number of
    occurrences of the key skipped since the previous row.
    """
    key = key[:KEY_CHARS]
    now = app_clock().now()
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    # The first occurrence of a key creates its row; racing creators agree on one (the loser does nothing).
    db.session.execute(
        dialect.insert(AuditQuota)
        .values(key=key, next_at=now, suppressed=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    quota = db.session.execute(
        select(AuditQuota.next_at, AuditQuota.suppressed).where(AuditQuota.key == key).with_for_update()
    ).one()
    if quota.next_at > now:
        db.session.execute(update(AuditQuota).where(AuditQuota.key == key).values(suppressed=AuditQuota.suppressed + 1))
        return False
    db.session.execute(update(AuditQuota).where(AuditQuota.key == key).values(next_at=now + window, suppressed=0))
    record(action, {**detail, "repeats_not_audited": int(quota.suppressed)}, user=user, actor=actor)
    return True
