"""Factories for test data."""

from __future__ import annotations

from sqlalchemy import select

from kitas.extensions import app_clock, db
from kitas.models import Role, User
from kitas.services.accounts.passwords import hash_password


def make_user(
    *roles: str, email: str, name: str = "Test Person", password: str | None = None, confirmed: bool = False
) -> User:
    """Create and commit a user with the given roles (and a password to sign in with, when given).

    ``confirmed``: the address was proven by the verification link, as for ``users`` of conftest.
    """
    now = app_clock().now()
    user = User(email=email, full_name=name, created_at=now, is_active=True)
    if confirmed:
        user.email_verified_at = now
    if password is not None:
        # Hashed directly, without the policy, so tests can also hold accounts with weak old passwords.
        user.password_hash = hash_password(password)
    user.roles = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    db.session.add(user)
    db.session.commit()
    return user
