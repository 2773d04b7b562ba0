"""The permit's PDF for the people who may have it: its holder and the officers of its office (404 and an audited
refusal for anyone else, as documents do); always in the holder's language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import Application, Permit, User
from ...transactions import write_transaction
from .. import audit
from ..audit.refusals import record_refusal
from ..cases.access import another_office, officer_sees
from ..errors import NotFound
from ..notifications import in_language_of
from ..public_address import absolute
from . import pdf, texts, tokens
from .photos import holder_photo


@dataclass(frozen=True)
class PermitFile:
    """A permit's PDF and the name it is downloaded under."""

    name: str
    data: bytes


def verify_url(permit: Permit) -> str:
    """The public address that checks ``permit`` (what its QR code holds)."""
    return absolute(f"/verify/{tokens.sign(permit.token_id)}")


def _may_have(application: Application, user: User) -> bool:
    return application.applicant_id == user.id or officer_sees(application, user)


def permit_for(reference: str, user: User) -> Permit | None:
    """The permit of case ``reference`` when ``user`` may download it (no refusal is recorded: pages ask)."""
    application = db.session.scalars(select(Application).where(Application.reference == reference)).first()
    if application is None or not _may_have(application, user):
        return None
    return db.session.scalars(select(Permit).where(Permit.application_id == application.id)).first()


def permit_pdf(reference: str, user: User) -> PermitFile:
    """The PDF of the permit of case ``reference`` for its holder or an officer; the download is audited."""
    application = db.session.scalars(select(Application).where(Application.reference == reference[:32])).first()
    permit = None
    if application is not None and _may_have(application, user):
        permit = db.session.scalars(select(Permit).where(Permit.application_id == application.id)).first()
    if application is None or permit is None:
        reason = "no such permit, or not allowed to have it"
        if application is not None and another_office(application, user):
            reason = f"case {application.reference} belongs to another office"
        record_refusal(user, "permit", reference[:100], reason)
        raise NotFound(Message("there is no such permit"))
    data = render_pdf(application, permit)
    with write_transaction():
        audit.record(
            "permit_downloaded",
            {"case": application.reference, "permit": permit.number},
            user=user,
            application_id=application.id,
        )
    return PermitFile(f"KITAS-{permit.number}.pdf", data)


def render_pdf(application: Application, permit: Permit) -> bytes:
    """The permit's PDF in its holder's language."""
    holder = db.session.get(User, permit.holder_id)
    with in_language_of(holder) as language:
        sheet = pdf.PermitSheet(
            number=permit.number,
            type_name=texts.type_name(permit, language),
            index_code=permit.index_code,
            holder=permit.holder_name,
            nationality=texts.country_name(permit.nationality, language),
            date_of_birth=permit.date_of_birth,
            sponsor=permit.sponsor,
            valid_from=permit.valid_from,
            valid_until=permit.valid_until,
            office=texts.office_name(application, permit.office, language),
            issued_on=permit.valid_from,
            verify_url=verify_url(permit),
            photo=holder_photo(application.id),
            revoked=permit.revoked_at is not None,
        )
        return pdf.render(sheet)
