"""Internal notes on a case: officers who may see the case write and read them; the applicant and the
sponsor never see them (not on their pages, not in the data export). Each note is audited in the case's
chain without its text (the text may name people)."""

from __future__ import annotations

from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import CaseNote, User
from ..errors import Forbidden, InvalidInput
from .access import OFFICER_ROLES
from .lifecycle import find_case
from .unit_of_work import case_step

MAX_CHARS = 2000
TEXT = "note"


def _officer(user: User) -> bool:
    return any(user.has_role(role) for role in OFFICER_ROLES)


def add_note(reference: str, user: User, text: str) -> CaseNote:
    """Keep an officer's note on a case (InvalidInput when empty or too long, the text kept by the page)."""
    application = find_case(reference, user)
    if not _officer(user):
        raise Forbidden(Message("only officers keep notes on a case"))
    text = (text or "").strip()
    if not text:
        raise InvalidInput({TEXT: [Message("Write the note before saving it.")]})
    if len(text) > MAX_CHARS:
        raise InvalidInput({TEXT: [Message("A note has at most %(count)s characters.", count=MAX_CHARS)]})
    with case_step(application.id, user=user) as step:
        step.check_access(user)
        note = CaseNote(application_id=application.id, author_id=user.id, created_at=step.now, text=text)
        db.session.add(note)
        db.session.flush()
        step.audit("note_added", {"note": note.id, "length": len(text)}, user=user)
    return note


def notes_of(reference: str, user: User) -> list[CaseNote]:
    """The case's internal notes, newest first, for an officer who may see the case; nobody else gets any."""
    application = find_case(reference, user)
    if not _officer(user):
        return []
    query = select(CaseNote).where(CaseNote.application_id == application.id)
    return list(db.session.scalars(query.order_by(CaseNote.created_at.desc(), CaseNote.id.desc())))
