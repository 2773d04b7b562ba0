"""Demo accounts, one per role, so a newcomer can try every side of the service at once.

The officer roles need a code from an authenticator app at every sign-in. So that the demo
works without a phone, their TOTP secrets are set up here, kept with the passwords in the
instance folder (mode 0600), printed by ``kitas demo``, and ``kitas demo-code EMAIL`` prints
the code an app would show now.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from flask import current_app
from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import User
from ..cases.access import OFFICER_ROLES
from ..errors import ServiceError
from ..offices.staff import offices_of, place_officer
from . import registration as accounts
from . import second_factor
from .passwords import verify_password
from .preferences import set_language

# (role, e-mail, name). The sponsor's address is what a demo applicant enters as employer e-mail.
DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("applicant", "applicant@example.com", "Ana Applicant"),
    ("sponsor", "sponsor@example.com", "PT Contoh Teknologi (HR)"),
    ("verifier", "verifier@example.com", "Vera Verifier"),
    ("supervisor", "supervisor@example.com", "Sam Supervisor"),
    ("analyst", "analyst@example.com", "Alex Analyst"),
    ("admin", "admin@example.com", "Adi Admin"),
)
# The language each demo account reads: the foreign applicant English, the Indonesian employer and
# the immigration staff Bahasa Indonesia; the switch on every page changes it.
DEMO_LANGUAGES: dict[str, str] = {
    "applicant": "en",
    "sponsor": "id",
    "verifier": "id",
    "supervisor": "id",
    "analyst": "id",
    "admin": "id",
}


# The offices the demo officers work in: the default office (where a case of an unknown domicile goes,
# DKI Jakarta's) and Denpasar (Bali's); the demo applicant chooses a province of one of them.
DEMO_OFFICES = ("JKS", "DPS")

PASSWORDS_FILE = "demo_accounts.json"  # in the instance folder, readable by its owner only


@dataclass(frozen=True)
class DemoAccount:
    """A demo account, its password and (officer roles) the TOTP secret of its app."""

    role: str
    email: str
    password: str
    created: bool
    totp_secret: str | None = None


@dataclass(frozen=True)
class DemoCode:
    """The code a demo account's app shows now, and for how many more seconds."""

    email: str
    code: str
    seconds_left: int


def ensure_demo_accounts(reset: bool = False) -> list[DemoAccount]:
    """Create the demo accounts, keeping the passwords and app secrets they were given before unless ``reset``.

    They are kept in the instance folder (mode 0600), so every start shows the same ones
    instead of changing them under a browser that is still signed in.
    """
    kept = {} if reset else _kept()
    made = []
    for role, email, name in DEMO_PEOPLE:
        existing = db.session.scalars(select(User).where(User.email == email)).first()
        password = kept.get(email, {}).get("password")
        if existing is not None and password and verify_password(existing.password_hash, password):
            created = False
        else:
            password = "demo-" + secrets.token_urlsafe(9)
            if existing is None:
                existing = accounts.create_account(
                    email, name, password, [role], verified=True, phone="+62 812 0000 0000"
                )
                created = True
            else:
                accounts.set_password(existing, password)
                created = False
        if created or existing.language is None:  # a language chosen with the switch is kept
            set_language(existing.id, DEMO_LANGUAGES.get(role, "id"))
        if role in OFFICER_ROLES and (created or not offices_of(existing)):  # offices an admin set are kept
            place_officer(existing, DEMO_OFFICES, actor="demo")
        made.append(DemoAccount(role, email, password, created, _ensure_app(existing, role, kept.get(email, {}))))
    _keep({a.email: {"password": a.password, "totp_secret": a.totp_secret} for a in made})
    return made


def _ensure_app(user: User, role: str, kept: dict[str, str | None]) -> str | None:
    """The TOTP secret of an officer demo account, set up (again) unless the kept one is already in use."""
    if role not in second_factor.MFA_ROLES:
        return None
    secret = kept.get("totp_secret")
    db.session.refresh(user)
    factor = user.second_factor
    if secret and factor is not None and factor.confirmed_at is not None and factor.secret == secret:
        return secret
    secret = pyotp.random_base32()
    second_factor.enrol_with_secret(user, secret)
    return secret


def demo_code(email: str) -> DemoCode:
    """The code the app of a demo officer shows now; refused for other accounts."""
    email = email.strip().lower()
    secret = _kept().get(email, {}).get("totp_secret")
    if not secret:
        known = ", ".join(e for e, data in _kept().items() if data.get("totp_secret"))
        if not known:
            raise ServiceError(
                Message(
                    "%(email)s is not a demo account with an app; demo officers: none (run 'kitas demo')", email=email
                )
            )
        raise ServiceError(
            Message("%(email)s is not a demo account with an app; demo officers: %(known)s", email=email, known=known)
        )
    user = db.session.scalars(select(User).where(User.email == email)).first()
    factor = user.second_factor if user is not None else None
    if factor is None or factor.secret != secret:
        raise ServiceError(
            Message("the app of %(email)s was changed since 'kitas demo'; run 'kitas demo --reset'", email=email)
        )
    now = int(app_clock().now().timestamp())
    step = now // second_factor.STEP_SECONDS
    left = second_factor.STEP_SECONDS - now % second_factor.STEP_SECONDS
    return DemoCode(email, second_factor.code_at(secret, step), left)


def _path() -> Path:
    return Path(current_app.instance_path) / PASSWORDS_FILE


def _kept() -> dict[str, dict[str, Any]]:
    """What the file keeps per e-mail; an older file kept only a password string per address."""
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    found: dict[str, dict[str, Any]] = {}
    for email, value in data.items():
        if isinstance(value, str):
            found[str(email)] = {"password": value}
        elif isinstance(value, dict):
            found[str(email)] = {k: (str(v) if v is not None else None) for k, v in value.items()}
    return found


def _keep(accounts_kept: dict[str, dict[str, str | None]]) -> None:
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(accounts_kept, handle, indent=2)
    os.replace(temporary, path)
