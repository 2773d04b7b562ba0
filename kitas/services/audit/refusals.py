"""Refused accesses go to the audit trail, each in a transaction of its own (the refused use case rolled back)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from ...models import User
from ...transactions import write_transaction
from ..audit import chain as audit
from ..errors import Forbidden, NotFound
from .quota import record_once_per_window


def record_refusal(user: User, kind: str, object_id: Any, reason: str, **detail: Any) -> None:
    """Audit that ``user`` was refused ``kind`` ``object_id`` and why. Call it outside any transaction."""
    with write_transaction():
        audit.record("access_refused", {"object": kind, "id": object_id, "reason": reason, **detail}, user=user)


@contextmanager
def audited_refusals(user: User, kind: str, object_id: Any, **detail: Any) -> Iterator[None]:
    """Audit every NotFound or Forbidden that leaves the block, then let it go on."""
    try:
        yield
    except (NotFound, Forbidden) as exc:
        record_refusal(user, kind, object_id, str(exc), **detail)
        raise


def record_role_refusal(
    user: User | None, address: str, area: str, path: str, roles: tuple[str, ...], window: timedelta
) -> bool:
    """Audit a refusal at a blueprint's role check: at most one row per window for a user (or an
    anonymous address) and area, the repeats counted in the next row. Call it outside any transaction."""
    who = f"user:{user.id}" if user is not None else f"address:{address}"
    detail = {"object": "page", "id": path[:500], "reason": "role", "area": area, "roles": list(roles)}
    detail["address"] = address
    with write_transaction():
        return record_once_per_window(
            f"refused:{area}:{who}",
            window,
            "access_refused",
            detail,
            user=user,
            actor=None if user is not None else f"anonymous ({address})",
        )
