"""Sponsors who have no account yet (issue 9, section 5).

When a case reaches the sponsor step naming an address that no account has, the unit of work audits
an invitation (``sponsor_invited``) and queues its e-mail (``invitation_mail``): a sign-up link bound
to the case and that address. Opening the link proves the mailbox: registering through it creates a
sponsor account with the address confirmed, and the waiting case (which names that address) is theirs
to answer. The applicant sees the invitation on the status page, may send it again (at most
``RESEND_LIMIT`` invitations a day per case) or correct the address while the step waits: the case's
data names the new address from then on, so the old link stops working (it names another address).
Every invitation and correction is a row of the case's audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from forms.texts import Message

from ...extensions import app_clock, db
from ...models import Application, AuditEvent, HumanTask, User
from .. import notifications
from ..accounts import create_account
from ..accounts import tokens as account_tokens
from ..accounts.fields import email_problem, normalize_email
from ..accounts.registration import CONSENT_MISSING, PASSWORDS_DIFFER, TokenInvalid
from ..errors import Conflict, Forbidden, InvalidInput
from . import notices
from .access import is_named_sponsor
from .invitation_mail import (
    INVITED,
    RESEND_LIMIT,
    RESEND_WINDOW,
    WAITING_STATUS,
    account_of,
    invitations_since,
    needs_invitation,
    queue_invitation,
    sponsor_deadline,
)
from .lifecycle import find_case
from .unit_of_work import CaseStep, case_step

SPONSOR_ROLE = "sponsor"  # the sponsor step is the open task of the sponsor's lane, whatever the type's diagram
CORRECTED = "sponsor_email_corrected"
REGISTERED = "sponsor_registered_by_invitation"


@dataclass(frozen=True)
class SponsorInvitation:
    """The invitation a case waits on, as its applicant sees it."""

    email: str
    sent_at: datetime
    sent_today: int  # invitations of the case in the last 24 hours
    limit: int
    deadline: datetime | None  # when the sponsor step expires

    @property
    def can_resend(self) -> bool:
        return self.sent_today < self.limit


@dataclass(frozen=True)
class InvitationLink:
    """What a valid invitation link is for."""

    email: str
    reference: str
    applicant: str


def invitation_of(application: Application) -> SponsorInvitation | None:
    """The latest invitation to the address the case names, while the sponsor step waits without an account."""
    email = application.sponsor_email or ""
    if application.status != WAITING_STATUS or application.closed_at is not None or not needs_invitation(email):
        return None
    rows = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.application_id == application.id, AuditEvent.action == INVITED)
        .order_by(AuditEvent.seq.desc())
    ).all()
    latest = next((row for row in rows if (row.detail or {}).get("email") == email), None)
    if latest is None:
        return None
    since = app_clock().now() - RESEND_WINDOW
    sent = sum(1 for row in rows if row.occurred_at >= since)
    return SponsorInvitation(email, latest.occurred_at, sent, RESEND_LIMIT, sponsor_deadline(application.id))


def _applicants_waiting_step(step: CaseStep, user: User) -> HumanTask:
    """The sponsor task of a case of ``user`` that waits for the sponsor, or why not."""
    step.check_access(user)
    if step.application.applicant_id != user.id:
        raise Forbidden(Message("only the applicant can change whom the application asks to be sponsor"))
    task = next((t for t in step.tasks().values() if t.role == SPONSOR_ROLE), None)
    if task is None or step.application.status != WAITING_STATUS:
        raise Conflict(Message("the application no longer waits for the sponsor"))
    return task


def _limit_reached(step: CaseStep) -> None:
    since = step.now - RESEND_WINDOW
    if invitations_since(step.application.id, since) >= RESEND_LIMIT:
        raise Conflict(
            Message(
                "the invitation was already sent %(limit)s times in the last 24 hours; try again tomorrow",
                limit=RESEND_LIMIT,
            )
        )


def resend_invitation(reference: str, user: User) -> str:
    """Send the invitation again to the address the case names (``RESEND_LIMIT`` a day); returns it."""
    application_id = find_case(reference, user).id
    with case_step(application_id, user=user, action="resend_invitation") as step:
        _applicants_waiting_step(step, user)
        email = step.application.sponsor_email or ""
        if not needs_invitation(email):
            raise Conflict(Message("the sponsor has an account now; they see the application in their list"))
        _limit_reached(step)
        queue_invitation(step.application, email)
        step.audit(INVITED, {"email": email, "again": True}, user=user)
    return email


def correct_sponsor_email(reference: str, user: User, new_email: str) -> str:
    """Name another sponsor address while the sponsor step waits: the step asks that address from now on
    (an invitation, or a notice to its account); links sent to the old address stop working."""
    application_id = find_case(reference, user).id
    email = normalize_email(new_email or "")
    problem = email_problem(email)
    if problem is not None:
        raise InvalidInput({"sponsor_email": [problem]})
    with case_step(application_id, user=user, action="correct_sponsor_email") as step:
        task = _applicants_waiting_step(step, user)
        old = step.application.sponsor_email
        if email == old:
            raise InvalidInput(
                {"sponsor_email": [Message("The application already names %(email)s as sponsor.", email=email)]}
            )
        if email == user.email.lower():
            raise InvalidInput({"sponsor_email": [Message("You cannot be your own sponsor; name your employer.")]})
        _limit_reached(step)
        step.run(lambda runtime: runtime.correct_waiting_data(task.task_id, {"sponsor_email": email}))
        step.audit(CORRECTED, {"from": old, "to": email}, user=user)
        sponsor = account_of(email)
        if sponsor is None:
            queue_invitation(step.application, email)
            step.audit(INVITED, {"email": email, "corrected": True}, user=user)
        else:
            _tell_sponsor(step.application, sponsor, user, email)
    return email


def _tell_sponsor(application: Application, sponsor: User, applicant: User, email: str) -> None:
    """The in-app and e-mail notice that the case asks ``sponsor`` (whose address it now names) to act."""
    if not sponsor.has_role("sponsor") or sponsor.email_verified_at is None:
        return
    params = {"reference": application.reference, "status": WAITING_STATUS, "applicant": applicant.full_name}
    notifications.notify_text(sponsor, notices.SPONSOR_ASKED, params, link="/sponsor/", application_id=application.id)


# --- the link -------------------------------------------------------------------------------------


def check_invitation(token: str) -> InvitationLink:
    """What an invitation link is for, or TokenInvalid saying why it does not work (clear, for its page)."""
    try:
        application_id, email = account_tokens.read_sponsor_invitation_token(token)
    except account_tokens.LinkProblem as problem:
        if problem.expired:
            raise TokenInvalid(
                Message("this invitation is more than 14 days old; ask the applicant to send a new one"), expired=True
            ) from None
        raise TokenInvalid(Message("this invitation link is damaged or not one of ours")) from None
    if account_of(email) is not None:
        raise TokenInvalid(
            Message("this invitation was already used: %(email)s has an account; sign in with it", email=email),
            email=email,
        )
    application = db.session.get(Application, application_id)
    if application is None or application.sponsor_email != email:
        raise TokenInvalid(Message("this invitation was replaced: the applicant named another address as sponsor"))
    if application.status != WAITING_STATUS or application.closed_at is not None:
        raise TokenInvalid(Message("the application of this invitation no longer waits for a sponsor"))
    applicant = db.session.get(User, application.applicant_id)
    return InvitationLink(email, application.reference, applicant.full_name if applicant is not None else "")


def accept_invitation(
    token: str,
    *,
    full_name: str,
    password: str,
    password_confirm: str,
    phone: str,
    consent: bool,
    language: str | None = None,
) -> User:
    """Register the invited sponsor: an account with the sponsor role and the address the link proved,
    and the waiting case (which names that address) asks them for their answer."""
    link = check_invitation(token)
    errors: dict[str, list[str]] = {}
    if password and password != password_confirm:
        errors["password_confirm"] = [PASSWORDS_DIFFER]
    if not consent:
        errors["consent"] = [CONSENT_MISSING]
    if errors:
        raise InvalidInput(errors)
    try:
        user = create_account(
            link.email, full_name, password, ["sponsor"], phone=phone, verified=True, consent=True, language=language
        )
    except InvalidInput as exc:
        if "email" in exc.errors:  # registered a moment ago through the same link
            raise TokenInvalid(
                Message(
                    "this invitation was already used: %(email)s has an account; sign in with it", email=link.email
                ),
                email=link.email,
            ) from None
        raise
    application = db.session.scalars(select(Application).where(Application.reference == link.reference)).one()
    with case_step(application.id) as step:
        step.audit(REGISTERED, {"email": user.email}, user=user)
        if is_named_sponsor(step.application, user):
            applicant = db.session.get(User, step.application.applicant_id)
            if applicant is not None:
                _tell_sponsor(step.application, user, applicant, user.email)
    return user
