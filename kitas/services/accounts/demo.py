"""Demo accounts, one per role, so a newcomer can try every side of the service at once."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ...extensions import db
from ...models import User
from . import registration as accounts
from .passwords import verify_password

# (role, e-mail, name). The sponsor's address is what a demo applicant enters as employer e-mail.
DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("applicant", "applicant@example.com", "Ana Applicant"),
    ("sponsor", "sponsor@example.com", "PT Contoh Teknologi (HR)"),
    ("verifier", "verifier@example.com", "Vera Verifier"),
    ("supervisor", "supervisor@example.com", "Sam Supervisor"),
    ("analyst", "analyst@example.com", "Alex Analyst"),
    ("admin", "admin@example.com", "Adi Admin"),
)


PASSWORDS_FILE = "demo_accounts.json"  # in the instance folder, readable by its owner only


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and its password."""

    role: str
    email: str
    password: str
    created: bool


def ensure_demo_accounts(reset: bool = False) -> list[DemoAccount]:
    """Create the demo accounts, keeping the passwords they were given before unless ``reset``.

    The passwords are kept in the instance folder (mode 0600), so every start shows the same ones
    instead of changing them under a browser that is still signed in.
    """
    kept = {} if reset else _kept_passwords()
    made = []
    for role, email, name in DEMO_PEOPLE:
        existing = db.session.scalars(select(User).where(User.email == email)).first()
        password = kept.get(email)
        if existing is not None and password and verify_password(existing.password_hash, password):
            made.append(DemoAccount(role, email, password, False))
            continue
        password = "demo-" + secrets.token_urlsafe(9)
        if existing is None:
            accounts.create_account(email, name, password, [role], verified=True, phone="+62 812 0000 0000")
        else:
            accounts.set_password(existing, password)
        made.append(DemoAccount(role, email, password, existing is None))
    _keep_passwords({account.email: account.password for account in made})
    return made


def _passwords_path() -> Path:
    return Path(current_app.instance_path) / PASSWORDS_FILE


def _kept_passwords() -> dict[str, str]:
    try:
        data = json.loads(_passwords_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _keep_passwords(passwords: dict[str, str]) -> None:
    path = _passwords_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(passwords, handle, indent=2)
    os.replace(temporary, path)
