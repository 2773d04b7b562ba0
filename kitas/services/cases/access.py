"""Who may see a case: its applicant, the sponsor it names (with a confirmed address) and the officers of
its office (an administrator who is also an officer: every office)."""

from __future__ import annotations

from ...models import Application, User
from ..offices.scope import visible_office_ids

OFFICER_ROLES = ("verifier", "supervisor")


def can_see_case(application: Application, user: User) -> bool:
    """Applicant, named sponsor and the officers of the case's office may see a case; nobody else may know
    it exists. A trial case of the studio is its analyst's alone: no officer, admin or sponsor sees it."""
    if application.trial:
        return application.applicant_id == user.id
    if application.applicant_id == user.id:
        return True
    if is_named_sponsor(application, user):
        return True
    return officer_sees(application, user)


def officer_sees(application: Application, user: User) -> bool:
    """``user`` is an officer who works in the case's office (or an administrator-officer, who sees all)."""
    if application.trial or not any(user.has_role(role) for role in OFFICER_ROLES):
        return False
    offices = visible_office_ids(user)
    return offices is None or application.office_id in offices


def trial_owner(application: Application, user: User) -> bool:
    """``user`` is the analyst who started this trial case: she acts in every lane of it, claims needed none."""
    return application.trial and application.applicant_id == user.id


def another_office(application: Application, user: User) -> bool:
    """``user`` is an officer refused the case only because it belongs to another office (what the
    refusal's audit row says)."""
    return any(user.has_role(role) for role in OFFICER_ROLES) and not officer_sees(application, user)


def is_named_sponsor(application: Application, user: User) -> bool:
    """The user is the sponsor the case names: the sponsor role and a *confirmed* address equal to it.

    An unconfirmed address proves nothing: anyone could register an employer's address and
    read or guarantee its workers' cases.
    """
    return (
        user.has_role("sponsor")
        and user.email_verified_at is not None
        and bool(application.sponsor_email)
        and user.email.lower() == application.sponsor_email
    )
