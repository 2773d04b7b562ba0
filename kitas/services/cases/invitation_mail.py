"""The messages to a sponsor a case names before they have an account, and the news of the sponsor's
deadline passing (diagram ``sponsor_deadline``: 14 days, then the case expires).

A sponsor without an account has no language setting, so their e-mails are written in Indonesian and
English, one after the other. Rows are queued for the address (``notifications.queue_for_address``)
and written when the scheduler sends them: the renderer checks that the case still waits for this
address and that no account has it yet (a sponsor who registered meanwhile is told in-app), and puts
a fresh link in the mail. Nothing here locks a case: the unit of work and ``invitations.py`` call in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import render_template
from sqlalchemy import func, select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import Application, AuditEvent, HumanTask, Timer, User
from .. import notifications
from ..accounts import tokens as account_tokens
from ..notifications.texts import in_source_language

INVITATION = "case.sponsor_invitation"
INVITATION_EXPIRED = "case.sponsor_invitation_expired"
SPONSOR_DEADLINE_PASSED = "case.sponsor_deadline_passed"
APPLICANT_SPONSOR_DEADLINE = "case.applicant_sponsor_deadline"
INVITED = "sponsor_invited"  # the audit action of each invitation, in the case's chain
WAITING_STATUS = "awaiting_sponsor"
DEADLINE_DAYS = 14  # the diagram's P14D, said in the messages
INVITATION_PATH = "/auth/invitation/{token}"
# Invitations of one case (the first one included) per day, so an address cannot be flooded through a case.
RESEND_LIMIT = 3
RESEND_WINDOW = timedelta(hours=24)
# Rows of one kind to one address per hour, over every case (an employer named by many applicants).
ADDRESS_CAP = 30
ADDRESS_WINDOW = timedelta(hours=1)

INVITATION_SUBJECT = Message("%(applicant)s named you as sponsor on KITAS Online (%(reference)s)")
INVITATION_EXPIRED_SUBJECT = Message("%(reference)s: the invitation to sponsor has expired")
DEADLINE_PASSED_SUBJECT = Message("%(reference)s: the time to confirm the guarantee has passed")
APPLICANT_DEADLINE_SUBJECT = Message("%(reference)s: your sponsor did not answer in time")


def account_of(email: str | None) -> User | None:
    """The account with ``email``, if any."""
    if not email:
        return None
    return db.session.scalars(select(User).where(User.email == email)).first()


def needs_invitation(email: str | None) -> bool:
    """A case naming ``email`` as sponsor invites it: no account has that address yet."""
    return bool(email) and account_of(email) is None


def invitations_since(application_id: int, since: datetime) -> int:
    """How many invitations the case sent since ``since`` (its audit rows)."""
    query = select(func.count(AuditEvent.id)).where(
        AuditEvent.application_id == application_id, AuditEvent.action == INVITED, AuditEvent.occurred_at >= since
    )
    return int(db.session.scalar(query) or 0)


def queue_invitation(application: Application, email: str) -> bool:
    """Queue the invitation e-mail to ``email`` in the caller's transaction (the caller audits it)."""
    applicant = db.session.get(User, application.applicant_id)
    params = {
        "application": application.id,
        "reference": application.reference,
        "applicant": applicant.full_name if applicant is not None else "",
    }
    since = app_clock().now() - ADDRESS_WINDOW
    return notifications.queue_for_address(INVITATION, email, params, cap=ADDRESS_CAP, since=since)


def sponsor_deadline(application_id: int) -> datetime | None:
    """When the sponsor step of the case expires, if it waits: the pending interrupting timer on the open
    task of the sponsor's lane (the worker's ``sponsor_deadline``, the family's ``family_sponsor_deadline``)."""
    query = (
        select(Timer.due_at)
        .join(
            HumanTask,
            (HumanTask.application_id == Timer.application_id) & (HumanTask.element_id == Timer.attached_to),
        )
        .where(
            Timer.application_id == application_id,
            Timer.status == "pending",
            Timer.interrupting.is_(True),
            HumanTask.role == "sponsor",
        )
        .order_by(Timer.due_at)
    )
    return db.session.scalars(query).first()


def _bilingual(subject: Message, template: str, **context: Any) -> notifications.RenderedMail:
    """The mail in Indonesian, then in English (the reader has no account, so no language of their own)."""
    parts, subjects = [], []
    with notifications.in_language_of(None):  # Indonesian, Western Indonesia time
        subjects.append(notifications.localized(subject))
        parts.append(render_template(template, **context))
    with in_source_language():  # English
        subjects.append(notifications.localized(subject))
        parts.append(render_template(template, **context))
    return notifications.RenderedMail(" / ".join(subjects), "\n\n-----\n\n".join(part.strip() for part in parts) + "\n")


def _waiting_case(params: dict[str, Any], email: str) -> Application | None:
    application = db.session.get(Application, params.get("application"))
    if application is None or application.sponsor_email != email or application.status != WAITING_STATUS:
        return None
    return application


def _invitation(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    application = _waiting_case(params, email)
    if application is None or account_of(email) is not None:
        return None  # the address was corrected, the case moved on, or the sponsor registered meanwhile
    link = INVITATION_PATH.format(token=account_tokens.sponsor_invitation_token(application.id, email))
    reference, applicant = str(params.get("reference") or application.reference), str(params.get("applicant") or "")
    mail = _bilingual(
        Message(INVITATION_SUBJECT, applicant=applicant, reference=reference),
        "email/sponsor_invitation.txt",
        applicant=applicant,
        reference=reference,
        email=email,
        link=notifications.absolute_link(link),
        deadline=sponsor_deadline(application.id),
    )
    return notifications.RenderedMail(mail.subject, mail.text, None)


def _invitation_expired(email: str, params: dict[str, Any], queued_at: datetime) -> notifications.RenderedMail | None:
    if account_of(email) is not None:
        return None  # they registered after all: their in-app messages say it
    reference, applicant = str(params.get("reference") or ""), str(params.get("applicant") or "")
    return _bilingual(
        Message(INVITATION_EXPIRED_SUBJECT, reference=reference),
        "email/sponsor_invitation_expired.txt",
        applicant=applicant,
        reference=reference,
        days=int(params.get("days") or DEADLINE_DAYS),
    )


def _deadline_passed_text(params: dict[str, Any], language: str) -> notifications.Notice:
    reference = str(params["reference"])
    body = Message(
        "The application %(reference)s of %(applicant)s waited %(days)s days for your confirmation and has expired. "
        "Nothing more is asked of you; the applicant may apply again.",
        reference=reference,
        applicant=str(params.get("applicant") or ""),
        days=int(params.get("days") or DEADLINE_DAYS),
    )
    return notifications.Notice(Message(DEADLINE_PASSED_SUBJECT, reference=reference), body)


def _applicant_deadline_text(params: dict[str, Any], language: str) -> notifications.Notice:
    reference = str(params["reference"])
    body = Message(
        "Your application %(reference)s has expired: the sponsor you named (%(email)s) did not confirm the "
        "guarantee within %(days)s days. You can start a new application; check the sponsor's e-mail address "
        "with your employer first.",
        reference=reference,
        email=str(params.get("email") or ""),
        days=int(params.get("days") or DEADLINE_DAYS),
    )
    return notifications.Notice(Message(APPLICANT_DEADLINE_SUBJECT, reference=reference), body)


def deadline_passed(application: Application, applicant: User | None) -> None:
    """Tell the applicant and the sponsor (their account, else their address) that the sponsor step expired."""
    days = DEADLINE_DAYS
    params = {
        "reference": application.reference,
        "applicant": applicant.full_name if applicant is not None else "",
        "email": application.sponsor_email or "",
        "days": days,
    }
    if applicant is not None:
        notifications.notify_text(
            applicant,
            APPLICANT_SPONSOR_DEADLINE,
            params,
            link=f"/applications/{application.reference}",
            application_id=application.id,
            channels=("in_app", "email", "sms"),
        )
    email = application.sponsor_email
    if not email:
        return
    sponsor = account_of(email)
    if sponsor is None:
        since = app_clock().now() - ADDRESS_WINDOW
        notifications.queue_for_address(INVITATION_EXPIRED, email, params, cap=ADDRESS_CAP, since=since)
    elif sponsor.has_role("sponsor"):
        notifications.notify_text(
            sponsor, SPONSOR_DEADLINE_PASSED, params, link="/sponsor/", application_id=application.id
        )


notifications.register_renderer(INVITATION, _invitation)
notifications.register_renderer(INVITATION_EXPIRED, _invitation_expired)
notifications.register_text(SPONSOR_DEADLINE_PASSED, _deadline_passed_text)
notifications.register_text(APPLICANT_SPONSOR_DEADLINE, _applicant_deadline_text)
