"""The words of a case's history: one describer per kind of audit row a case's chain holds, and who did it.

Every kind of row the code records in a case's chain is either told here (``EVENT_WORDS``) or deliberately
kept out of the history (``HIDDEN_EVENTS``: the access log); ``tests/services/test_history_words.py`` walks
the code for every kind it can record and fails on one that is neither. Texts are Messages (English ids,
Indonesian in the .po); names come from data: steps and deadlines from the diagram, documents from the
catalog (else their form field's title), payment providers from the catalog, people by name and role.
An element id, a document key or a provider's code is never shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from forms.texts import Message
from workflows import Catalog

from ...models import Application, AuditEvent, User
from ...money import rupiah
from .four_eyes import SENT_BACK
from .invitation_mail import INVITED
from .invitations import CORRECTED, REGISTERED

# Recorded in a case's chain but never told in its history: who looked at what (the access log).
HIDDEN_EVENTS = frozenset({"access_refused", "document_viewed"})

# Told to officers (and administrators) only.
OFFICER_ONLY = frozenset(
    {
        "task_claimed",
        "task_released",
        "task_assigned",
        "task_taken_back",
        "document_uploaded",
        "incident_opened",
        "incident_retried",
        "incident_resolved",
        "payment_confirmed",
        "payment_webhook_refused",
        "group_payment_not_applied",
        "permit_downloaded",
        "answers_changed",
        SENT_BACK,  # the reason is for the verifier, not the applicant
        "note_added",
    }
)


@dataclass(frozen=True)
class Words:
    """What a describer needs: the case, the row's detail, names in the reader's language."""

    application: Application
    detail: Mapping[str, Any]
    actor: str
    steps: Mapping[str, str]  # element id -> the diagram's name of it
    documents: Mapping[str, str]  # document key (form field) -> its name
    catalog: Catalog

    def step(self, key: str = "task") -> str:
        """The diagram's name of the element the detail names; a neutral word for an unnamed one."""
        return self.steps.get(str(self.detail.get(key) or ""), Message("a step of the process"))

    def document(self) -> str:
        """The document's name: the catalog's, else its form field's title; never its key."""
        return self.documents.get(str(self.detail.get("field") or ""), Message("a document"))

    def text(self, key: str) -> str:
        """A value of the detail as it is (a code, a number someone typed), or a dash."""
        value = self.detail.get(key)
        return str(value) if value not in (None, "") else "—"

    def amount(self, key: str = "amount") -> str:
        """An amount of the detail in rupiah."""
        value = self.detail.get(key)
        return rupiah(value) if isinstance(value, int) else "—"

    def moment(self, key: str) -> datetime | str:
        """A time of the detail (ISO text), shown in the reader's zone."""
        try:
            return datetime.fromisoformat(str(self.detail.get(key)))
        except ValueError:
            return "—"

    def day(self, key: str) -> date | str:
        """A date of the detail (ISO text), shown in the reader's language."""
        try:
            return date.fromisoformat(str(self.detail.get(key))[:10])
        except ValueError:
            return "—"

    def provider(self) -> str:
        """The payment provider named by the row's actor (``payment:sandbox``) or its detail, by its name."""
        code = str(self.detail.get("provider") or "") or self.actor.removeprefix("payment:")
        return provider_name(code, self.catalog)

    def status(self) -> str:
        """The case status the detail names, in words."""
        return self.catalog.status_text(str(self.detail.get("status") or "")).label


def provider_name(code: str, catalog: Catalog) -> str:
    """A payment provider by the name the catalog gives it; one the catalog lacks, said as a provider."""
    return catalog.payment_providers.get(code) or Message("the payment provider")


def _timer(words: Words) -> str:
    name = words.steps.get(str(words.detail.get("timer") or ""), Message("a deadline"))
    if words.detail.get("escalates"):
        return Message("Escalated to a supervisor: %(deadline)s", deadline=name)
    return Message("Deadline passed: %(deadline)s", deadline=name)


def _incident(template: Message) -> Callable[[Words], str]:
    def describe(words: Words) -> str:
        element = str(words.detail.get("element") or "")
        about = words.steps.get(element) or (Message("a step of the process") if element else Message("the case"))
        return Message(template.msgid, element=about)

    return describe


_REFUSED_NOTICES = {
    "duplicate": Message("the same notice had arrived before"),
    "already_paid": Message("the billing code was paid already"),
    "wrong_amount": Message("the amount paid is not the amount of the billing code"),
    "expired": Message("it was paid after the billing code expired"),
    "unknown_billing": Message("no payment has its billing code"),
    "not_waiting": Message("the case no longer waited for a payment"),
    "conflict": Message("the case changed at the same moment; the provider sends it again"),
}


def _refused_notice(words: Words) -> str:
    why = _REFUSED_NOTICES.get(str(words.detail.get("outcome") or ""), Message("it could not be applied"))
    return Message("A payment notice from %(provider)s was refused: %(why)s", provider=words.provider(), why=why)


def _invited(words: Words) -> str:
    if words.detail.get("again"):
        return Message("Invitation to register sent again to the sponsor (%(email)s)", email=words.text("email"))
    return Message("Invitation to register sent to the sponsor (%(email)s)", email=words.text("email"))


def _message(words: Words) -> str:
    return words.catalog.messages.get(str(words.detail.get("message") or ""), Message("A message arrived"))


EVENT_WORDS: dict[str, Callable[[Words], str]] = {
    "case_started": lambda w: Message("Application started"),
    "trial_started": lambda w: Message("Trial case started from the studio"),
    "trial_discarded": lambda w: Message("Trial case discarded"),
    "group_member_started": lambda w: Message(
        "Application started by the sponsor in the group application %(group)s", group=w.text("group")
    ),
    "task_completed": lambda w: Message("%(task)s: done", task=w.step()),
    SENT_BACK: lambda w: Message("Sent back to verification by the supervisor: %(reason)s", reason=w.text("reason")),
    "answers_changed": lambda w: Message("Answers changed before sending: %(step)s", step=w.step("step")),
    "task_claimed": lambda w: Message("Task claimed: %(task)s", task=w.step()),
    "note_added": lambda w: Message("Internal note added (officers only)"),
    "task_released": lambda w: Message("Task released: %(task)s", task=w.step()),
    "task_assigned": lambda w: Message("Task given to %(officer)s: %(task)s", officer=w.text("officer"), task=w.step()),
    "task_taken_back": lambda w: Message(
        "Task taken back from %(officer)s: %(task)s", officer=w.text("officer"), task=w.step()
    ),
    "appointment_booked": lambda w: Message(
        "Appointment booked for %(when)s at %(office)s", when=w.moment("at"), office=w.text("office")
    ),
    "appointment_rebooked": lambda w: Message(
        "Appointment moved to %(when)s at %(office)s", when=w.moment("at"), office=w.text("office")
    ),
    "appointment_cancelled": lambda w: Message("Appointment of %(when)s cancelled", when=w.moment("at")),
    "message_delivered": _message,
    "timer_fired": _timer,
    INVITED: _invited,
    CORRECTED: lambda w: Message("Sponsor's e-mail address corrected to %(email)s", email=w.text("to")),
    REGISTERED: lambda w: Message("The sponsor created their account from the invitation"),
    "billing_created": lambda w: Message(
        "Billing code %(code)s issued by %(provider)s for %(amount)s, payable until %(until)s",
        code=w.text("billing_code"),
        provider=w.provider(),
        amount=w.amount(),
        until=w.moment("expires_at"),
    ),
    "group_billing_created": lambda w: Message(
        "Group billing code %(code)s issued for the group %(group)s: this case's share %(amount)s of %(total)s, "
        "payable until %(until)s",
        code=w.text("billing_code"),
        group=w.text("group"),
        amount=w.amount(),
        total=w.amount("total"),
        until=w.moment("expires_at"),
    ),
    # The provider that confirmed it is the row's actor, named beside the line.
    "payment_confirmed": lambda w: Message(
        "Payment of %(amount)s confirmed for billing code %(code)s", amount=w.amount(), code=w.text("billing_code")
    ),
    "group_payment_not_applied": lambda w: Message(
        "The group's payment arrived, but this case no longer waited for it (status: %(status)s)", status=w.status()
    ),
    "payment_webhook_refused": _refused_notice,
    "document_uploaded": lambda w: Message("Document uploaded: %(document)s", document=w.document()),
    "incident_opened": _incident(Message("Stopped by a problem (an incident for administrators): %(element)s")),
    "incident_retried": _incident(Message("Incident retried: %(element)s")),
    "incident_resolved": _incident(Message("Incident resolved: %(element)s")),
    "permit_issued": lambda w: Message(
        "Permit %(number)s issued, valid from %(start)s until %(end)s",
        number=w.text("permit"),
        start=w.day("valid_from"),
        end=w.day("valid_until"),
    ),
    "permit_downloaded": lambda w: Message("Permit %(number)s downloaded", number=w.text("permit")),
    "permit_revoked": lambda w: Message(
        "Permit %(number)s revoked: %(reason)s", number=w.text("permit"), reason=w.text("reason")
    ),
    "case_anonymised": lambda w: Message("Personal data removed: the account was erased"),
}


# The roles an officer acted in, most senior first, and how each is said.
_ROLE_WORDS = {
    "admin": Message("administrator"),
    "supervisor": Message("supervisor"),
    "verifier": Message("verifier"),
    "analyst": Message("policy analyst"),
}


def person(user: User, application: Application) -> str:
    """A person by name and by the part they play in this case: ``Vera Verifier (verifier)``."""
    if user.erased_at is not None:
        return Message("an erased account")
    if user.id == application.applicant_id:
        role = Message("applicant")
    elif application.sponsor_email and user.email.casefold() == application.sponsor_email.casefold():
        role = Message("sponsor")
    else:
        role = next((words for name, words in _ROLE_WORDS.items() if user.has_role(name)), Message("user"))
    return Message("%(name)s (%(role)s)", name=user.full_name, role=role)


def machine(actor: str, catalog: Catalog) -> str | None:
    """Who acted when no person did, in plain words (None for an actor string we do not know)."""
    if actor.startswith("payment:"):
        return provider_name(actor.removeprefix("payment:"), catalog)
    if actor.startswith("scheduler"):
        return Message("the scheduler")
    if actor in ("system", "engine"):
        return Message("KITAS Online, automatically")
    if actor.startswith("account ") and actor.endswith("(erased)"):
        return Message("an erased account")
    if actor.startswith("anonymous"):
        return Message("a visitor who was not signed in")
    return None


def describe(row: AuditEvent, words: Words) -> str | None:
    """The row in words (None for a kind kept out of the history)."""
    describer = EVENT_WORDS.get(row.action)
    return describer(words) if describer is not None else None
