"""Four eyes and the supervisor's send back, as the diagrams state them.

**Four eyes.** A diagram's ``notByPerformerOf`` rule (on the type's ``call_approval``: ``verify_documents``)
keeps the officers who completed the named tasks of a case from a task; the engine records every performer
(``complete_in_step`` names the acting user by id) and gives each READY task's ``not_by``. The unit of work
refuses such an officer's claim, a supervisor's assignment to them and their decision (``CaseStep.check_four_eyes``);
the task page shows why the decision form is disabled.

**Send back.** The supervisor's approval form offers a third decision, ``send_back`` with a required
``send_back_reason``; the shared approval leaves ``approval_outcome = "send_back"`` and ``sent_back_reason``,
and every type's diagram routes that outcome back to its document review. The next verification round shows
the reason to the officers (``sent_back_reason``) and the history tells it (``SENT_BACK``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from forms.texts import Message

from ...models import User

# The history's event for a supervisor's send back (officers only: the reason is for the verifier).
SENT_BACK = "sent_back_to_verification"
# What the shared approval's form and diagram leave in the case (shared-supervisor-approval, shared_approval).
_DECISION, _SEND_BACK, _REASON = "approval_decision", "send_back", "send_back_reason"
_OUTCOME, _KEPT_REASON = "approval_outcome", "sent_back_reason"

# The refusal a barred officer reads (claiming, deciding) and the one a supervisor assigning them reads.
YOU_VERIFIED = Message("You verified this case; another supervisor must approve it (four eyes)")


def they_verified(officer: User) -> Message:
    """The refusal of an assignment to an officer the four-eyes rule keeps from the task."""
    return Message(
        "%(officer)s verified this case; another supervisor must approve it (four eyes)", officer=officer.full_name
    )


def barred(not_by: frozenset[str], user: User) -> bool:
    """The user is one of the performers a task's four-eyes rule keeps from it."""
    return str(user.id) in not_by


def performer(user: User) -> str:
    """How the engine records a person who completes a task (their account id)."""
    return str(user.id)


def trial_performer(user: User, role: str) -> str:
    """How the engine records the analyst completing a trial case's task in a lane's role: one performer per
    role she plays, so the verifier she played does not bar the supervisor she plays next."""
    return f"trial:{role or 'none'}:{user.id}"


def sent_back_reason(data: Mapping[str, Any]) -> str | None:
    """The supervisor's reason, while the case is in the verification round it was sent back to."""
    reason = data.get(_KEPT_REASON)
    if data.get(_OUTCOME) == _SEND_BACK and isinstance(reason, str) and reason.strip():
        return reason.strip()
    return None


def send_back_in(submitted: Mapping[str, Any]) -> str | None:
    """The reason of a decision that sends the case back (the approval form's), else None."""
    if submitted.get(_DECISION) != _SEND_BACK:
        return None
    return str(submitted.get(_REASON) or "").strip() or None
