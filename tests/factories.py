"""Factories for test data."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from kitas.extensions import app_clock, db
from kitas.models import Office, Role, SecondFactor, User, officer_offices
from kitas.services.accounts.passwords import hash_password
from kitas.services.accounts.second_factor import MFA_ROLES, code_at, current_step
from kitas.services.cases.access import OFFICER_ROLES
from kitas.services.offices.directory import default_office

# The authenticator-app secret of every officer the factory makes (tests compute its codes with it).
OFFICER_TOTP_SECRET = "KITASTESTSECRETKITASTESTSECRET23"


def make_user(
    *roles: str,
    email: str,
    name: str = "Test Person",
    password: str | None = None,
    app: bool | None = None,
    confirmed: bool = False,
    language: str | None = "en",
    offices: tuple[str, ...] | None = None,
) -> User:
    """Create and commit a user with the given roles (and a password to sign in with, when given).

    Officers (the roles that need a second factor) get a confirmed authenticator app with
    ``OFFICER_TOTP_SECRET``, as if they had enrolled; ``app`` overrides that either way.
    ``confirmed``: the address was proven by the verification link, as for ``users`` of conftest.
    ``language``: English by default, as the test client's browser asks (None: no setting).
    ``offices``: the codes of the offices an officer works in; by default the default office, where
    cases started without a province go (``()``: none).
    """
    now = app_clock().now()
    user = User(email=email, full_name=name, created_at=now, is_active=True, language=language)
    if confirmed:
        user.email_verified_at = now
    if password is not None:
        # Hashed directly, without the policy, so tests can also hold accounts with weak old passwords.
        user.password_hash = hash_password(password)
    user.roles = list(db.session.scalars(select(Role).where(Role.name.in_(roles))))
    db.session.add(user)
    db.session.flush()
    if app if app is not None else any(role in MFA_ROLES for role in roles):
        now = app_clock().now()
        db.session.add(SecondFactor(user_id=user.id, secret=OFFICER_TOTP_SECRET, created_at=now, confirmed_at=now))
    if any(role in OFFICER_ROLES for role in roles):
        give_offices(user, offices if offices is not None else (default_office().code,))
    db.session.commit()
    return user


def give_offices(user: User, codes: tuple[str, ...]) -> None:
    """Make ``user`` an officer of exactly these offices (committed by the caller)."""
    db.session.execute(delete(officer_offices).where(officer_offices.c.user_id == user.id))
    for office in db.session.scalars(select(Office).where(Office.code.in_(codes))):
        db.session.execute(insert(officer_offices).values(user_id=user.id, office_id=office.id))


def current_code(secret: str = OFFICER_TOTP_SECRET, steps_ahead: int = 0) -> str:
    """The code an app with ``secret`` shows now on the application's clock (or ``steps_ahead`` steps later)."""
    return code_at(secret, current_step() + steps_ahead)
