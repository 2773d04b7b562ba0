"""A person's settings that change how the service speaks to them: language and time zone."""

from __future__ import annotations

from sqlalchemy import update

from forms.texts import LANGUAGES, Message

from ...extensions import db
from ...models import User
from ...transactions import write_transaction
from ..errors import ServiceError

# Indonesia's three zones: Western (WIB), Central (WITA) and Eastern (WIT) Indonesian Time.
TIME_ZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")


def set_language(user_id: int, language: str) -> None:
    """Remember the language a signed-in person chose (pages, e-mails and SMS follow it)."""
    if language not in LANGUAGES:
        raise ServiceError(Message("Choose Bahasa Indonesia or English."))
    with write_transaction():
        db.session.execute(update(User).where(User.id == user_id).values(language=language))
