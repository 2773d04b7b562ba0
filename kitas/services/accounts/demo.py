"""Demo accounts, one per role, so a newcomer can try every side of the service at once."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...models import User
from . import registration as accounts

# (role, e-mail, name). The sponsor's address is what a demo applicant enters as employer e-mail.
DEMO_PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("applicant", "applicant@example.com", "Ana Applicant"),
    ("sponsor", "sponsor@example.com", "PT Contoh Teknologi (HR)"),
    ("verifier", "verifier@example.com", "Vera Verifier"),
    ("supervisor", "supervisor@example.com", "Sam Supervisor"),
    ("analyst", "analyst@example.com", "Alex Analyst"),
    ("admin", "admin@example.com", "Adi Admin"),
)


@dataclass(frozen=True)
class DemoAccount:
    """A demo account and the password it was just given."""

    role: str
    email: str
    password: str
    created: bool


def ensure_demo_accounts() -> list[DemoAccount]:
    """Create the demo accounts, or give the existing ones a fresh password; returns them with passwords."""
    made = []
    for role, email, name in DEMO_PEOPLE:
        password = "demo-" + secrets.token_urlsafe(9)
        existing = db.session.scalars(select(User).where(User.email == email)).first()
        if existing is None:
            accounts.create_account(email, name, password, [role], verified=True, phone="+62 812 0000 0000")
        else:
            accounts.set_password(existing, password)
        made.append(DemoAccount(role, email, password, existing is None))
    return made
