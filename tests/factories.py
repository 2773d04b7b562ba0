"""Factories for test data."""

from __future__ import annotations

from sqlalchemy import select

from kitas.extensions import app_clock, db
from kitas.models import Role, User


def make_user(*roles: str, email: str, name: str = "Test Person") -> User:
    """Create and commit a user with the given roles."""
    user = User(email=email, full_name=name, created_at=app_clock().now(), is_active=True)
    user.roles = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    db.session.add(user)
    db.session.commit()
    return user
