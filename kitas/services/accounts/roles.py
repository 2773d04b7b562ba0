"""The fixed set of roles."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Role
from ...models.user import ROLES
from ...transactions import write_transaction


def ensure_roles() -> None:
    """Create every role that does not exist yet."""
    with write_transaction():
        existing = set(db.session.scalars(select(Role.name)))
        for name in ROLES:
            if name not in existing:
                db.session.add(Role(name=name))
