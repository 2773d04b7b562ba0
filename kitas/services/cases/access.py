"""Who may see a case: its applicant, the sponsor it names (with a confirmed address) and officers."""

from __future__ import annotations

from ...models import Application, User

OFFICER_ROLES = ("verifier", "supervisor")


def can_see_case(application: Application, user: User) -> bool:
    """Applicant, named sponsor and officers may see a case; nobody else may know it exists."""
    if application.applicant_id == user.id:
        return True
    if is_named_sponsor(application, user):
        return True
    return any(user.has_role(role) for role in OFFICER_ROLES)


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
