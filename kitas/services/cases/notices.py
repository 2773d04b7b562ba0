"""Tell people when a case needs them or changes: the applicant on every status change, the sponsor
when the status asks something of them (the catalog says which statuses, and in which words).
Rows go to the outbox in the step's own transaction, so a step that rolls back tells nobody anything."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from workflows import catalog

from ...extensions import db
from ...models import Application, User
from .. import notifications
from .access import is_named_sponsor


def status_changed(application: Application, new_status: str) -> None:
    """Queue the messages a new status calls for."""
    text = catalog().status_text(new_status)
    applicant = db.session.get(User, application.applicant_id)
    if applicant is not None:
        # The catalog marks the statuses worth a text message: money, deadlines and outcomes.
        channels = ("in_app", "email", "sms") if text.sms else ("in_app", "email")
        notifications.notify(
            applicant,
            f"{application.reference}: {text.label}",
            f"Your application {application.reference} is now: {text.label}.\n{text.explanation}",
            link=f"/applications/{application.reference}",
            application_id=application.id,
            channels=channels,
        )
    # The catalog says which statuses ask something of the sponsor, and in which words.
    if text.notify_sponsor and application.sponsor_email:
        query = select(User).options(joinedload(User.roles)).where(User.email == application.sponsor_email)
        sponsor = db.session.scalars(query).unique().first()
        if sponsor is not None and is_named_sponsor(application, sponsor):
            words = {
                "reference": application.reference,
                "applicant": applicant.full_name if applicant else "An applicant",
            }
            notifications.notify(
                sponsor,
                text.notify_sponsor["subject"].format(**words),
                text.notify_sponsor["body"].format(**words),
                link="/sponsor/",
                application_id=application.id,
            )
