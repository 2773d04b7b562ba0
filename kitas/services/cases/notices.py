"""Tell people when a case needs them or changes: the applicant on every status change, the sponsor
when the status asks something of them (the catalog says which statuses, and in which words).
Rows go to the outbox in the step's own transaction, so a step that rolls back tells nobody anything.

A row keeps the case's reference and the status, not sentences: the words (the catalog's status
label and explanation, the sponsor's notice) are written in each reader's language when the e-mail
or SMS is sent and when the notifications page shows the message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from forms.texts import Message
from workflows import StatusText, catalog

from ...extensions import db
from ...models import Application, User
from .. import notifications
from . import invitation_mail
from .access import is_named_sponsor

STATUS_CHANGED = "case.status_changed"
SPONSOR_ASKED = "case.sponsor_asked"


def status_text_in(status: str, language: str) -> StatusText:
    """The catalog's words for ``status`` in ``language`` (``workflows/kitas_types.id.json``; English
    where a text has no translation)."""
    return catalog(language).status_text(status)


def status_changed(
    application: Application, new_status: str, previous_status: str | None = None, *, link: str | None = None
) -> None:
    """Queue the messages a new status calls for. A case that expires while it waited for the sponsor
    (the diagram's sponsor deadline) tells the applicant and the sponsor why, in words of their own.
    ``link`` is where the applicant's message leads instead of the case page (the issued permit's PDF)."""
    text = catalog().status_text(new_status)
    applicant = db.session.get(User, application.applicant_id)
    if new_status == "expired" and previous_status == invitation_mail.WAITING_STATUS:
        invitation_mail.deadline_passed(application, applicant)
        return
    if applicant is not None:
        # The catalog marks the statuses worth a text message: money, deadlines and outcomes.
        channels = ("in_app", "email", "sms") if text.sms else ("in_app", "email")
        notifications.notify_text(
            applicant,
            STATUS_CHANGED,
            {"reference": application.reference, "status": new_status},
            link=link or f"/applications/{application.reference}",
            application_id=application.id,
            channels=channels,
        )
    # The catalog says which statuses ask something of the sponsor, and in which words.
    if text.notify_sponsor and application.sponsor_email:
        query = select(User).options(joinedload(User.roles)).where(User.email == application.sponsor_email)
        sponsor = db.session.scalars(query).unique().first()
        if sponsor is not None and is_named_sponsor(application, sponsor):
            params = {
                "reference": application.reference,
                "status": new_status,
                "applicant": applicant.full_name if applicant else None,
            }
            notifications.notify_text(sponsor, SPONSOR_ASKED, params, link="/sponsor/", application_id=application.id)


def _status_changed_text(params: dict[str, Any], language: str) -> notifications.Notice:
    text = status_text_in(str(params["status"]), language)
    reference = str(params["reference"])
    body = Message(
        "Your application %(reference)s is now: %(status)s.\n%(explanation)s",
        reference=reference,
        status=text.label,
        explanation=text.explanation,
    )
    return notifications.Notice(f"{reference}: {text.label}", body)


def _sponsor_asked_text(params: dict[str, Any], language: str) -> notifications.Notice:
    notice = status_text_in(str(params["status"]), language).notify_sponsor or {}
    words = {
        "reference": str(params["reference"]),
        "applicant": params.get("applicant") or notifications.localized(Message("An applicant")),
    }
    return notifications.Notice(
        notice.get("subject", "{reference}").format(**words), notice.get("body", "").format(**words)
    )


notifications.register_text(STATUS_CHANGED, _status_changed_text)
notifications.register_text(SPONSOR_ASKED, _sponsor_asked_text)
