"""Factories for test data."""

from __future__ import annotations

from sqlalchemy import select

from kitas.extensions import app_clock, db
from kitas.models import Role, User
from kitas.services.accounts.passwords import hash_password


def make_user(*roles: str, email: str, name: str = "Test Person", password: str | None = None) -> User:
    """Create and commit a user with the given roles (and a password to sign in with, when given)."""
    user = User(email=email, full_name=name, created_at=app_clock().now(), is_active=True)
    if password is not None:
        # Hashed directly, without the policy, so tests can also hold accounts with weak old passwords.
        user.password_hash = hash_password(password)
    user.roles = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    db.session.add(user)
    db.session.commit()
    return user
