"""Which offices' cases and tasks a person may see: an admin every office, an officer her own."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import User, officer_offices


def visible_office_ids(user: User) -> frozenset[int] | None:
    """The offices whose cases ``user`` sees as an officer; None means every office (an admin).

    An officer with no office sees no office's cases: membership is given, never assumed.
    """
    if user.has_role("admin"):
        return None
    rows = db.session.execute(select(officer_offices.c.office_id).where(officer_offices.c.user_id == user.id))
    return frozenset(row[0] for row in rows)
