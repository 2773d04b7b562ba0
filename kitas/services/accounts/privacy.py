"""A person's rights over their personal data (UU PDP No. 27/2022): download all of it, and withdraw
consent, which erases the account.

**Export** (Art. 7 and 13, access and portability): the account, the consent given, every
application with its answers, the list of documents with their SHA-256, the permits issued, the messages sent, and the
audit rows about the person (theirs, their own chain's, their cases'). The export is audited, as any
access to personal data is.

**Erasure** (Art. 8 and 9, withdrawal of consent and erasure) is refused while a case of the person
(as applicant or as named sponsor) is still open: its processing rests on the application itself and
on immigration law, and the page says what to do. Otherwise, in one transaction:

* the account row stays, because cases and audit rows point at it, but is emptied: no name, e-mail
  (replaced by ``erased-<id>@erased.invalid``), phone, nationality, password, second factor,
  recovery codes, roles or settings; it can never sign in again;
* the person's closed cases are kept anonymised (reference, type, status, dates, payments, the audit
  chain): the answers are removed from their state (``engine.state_without_data``), their documents'
  rows deleted and the files removed from the store after the commit (a file the store failed to
  delete has no row any more, so the sweep removes it later); a case where they were the sponsor loses
  the sponsor's address, and the answers of such a case are cleared of their name, e-mail and phone;
* their issued permits stay (number, type, validity: the state's record, still checkable) without
  their name, nationality and date of birth (the photo went with the documents);
* their messages, sign-in attempts and pending e-mail change are deleted; other people's messages
  about their cases are cleared of their name, e-mail and phone.

**The audit trail is kept as written.** Its rows are hash-chained and sealed; rewriting one would
make the trail unverifiable, and the trail is what answers for a breach (Art. 46: who saw what, and
when) and for the lawfulness of the decisions taken on a case. Its rows still name the person as the
actor of what they did (the label "name <e-mail>" and, in some rows, their address or e-mail). We
keep them on the legal bases of Art. 20(2)(c) and (e) (a legal obligation of the controller, and the
exercise of public authority: immigration records) within the exceptions of Art. 15(1) to the right
to erasure, for the retention period of the immigration records; they are read by administrators
only, and are destroyed with those records when it ends. Rows written from the erasure on name only
the account number: the erasure itself is audited without any personal value.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select

from engine import state_without_data
from forms.texts import Message

from ...extensions import app_clock, db
from ...models import (
    Application,
    ApplicationGroup,
    AuditEvent,
    CaseNote,
    Document,
    HumanTask,
    Incident,
    LoginAttempt,
    Notification,
    RecoveryCode,
    SavedFilter,
    SecondFactor,
    Timer,
    User,
    user_roles,
)
from ...transactions import is_postgres, write_transaction
from .. import audit
from ..cases import anonymise_closed_case, read_runtime
from ..documents import document_store
from ..errors import InvalidInput, NotFound, ServiceError
from ..permits import issuance as permits
from . import passwords

log = logging.getLogger(__name__)

EXPORT_FORMAT = "kitas-personal-data-1"
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): no mail can reach it
REDACTED = "[erased]"


class ErasureRefused(ServiceError):
    """The account still has an open case; ``references`` names them."""

    def __init__(self, references: list[str]):
        self.references = references
        super().__init__(
            Message(
                "Your account cannot be deleted while an application is still open: %(references)s. "
                "Its processing rests on the application and on immigration law. Wait until it is decided, "
                "or ask the immigration office to withdraw it; then you can delete your account here.",
                references=", ".join(references),
            )
        )


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the cases kept anonymised and how many documents and messages were deleted."""

    cases: list[str]
    documents: int
    notifications: int


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _active(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.erased_at is not None:
        raise NotFound(Message("This account no longer exists."))
    return user


# --- export -------------------------------------------------------------------------------------


def export_data(user_id: int, address: str) -> dict[str, Any]:
    """Everything KITAS Online keeps about a person, as JSON-ready data (the export is audited)."""
    user = _active(user_id)
    own = list(
        db.session.scalars(select(Application).where(Application.applicant_id == user.id).order_by(Application.id))
    )
    case_ids = [case.id for case in own]
    documents = (
        list(db.session.scalars(select(Document).where(Document.application_id.in_(case_ids)).order_by(Document.id)))
        if case_ids
        else []
    )
    references = {case.id: case.reference for case in own}
    messages = db.session.scalars(
        select(Notification)
        .where(or_(Notification.user_id == user.id, Notification.recipient.in_(_addresses(user))))
        .order_by(Notification.id)
    )
    conditions = [AuditEvent.actor_id == user.id, AuditEvent.chain == f"user:{user.id}"]
    if case_ids:
        conditions.append(AuditEvent.application_id.in_(case_ids))
    rows = db.session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id))
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(app_clock().now()),
        "account": {
            "id": user.id,
            "email": user.email,
            "full_name": user.full_name,
            "phone": user.phone,
            "nationality": user.nationality,
            "language": user.language,
            "time_zone": user.time_zone,
            "roles": sorted(user.role_names),
            "notify_email": user.notify_email,
            "notify_sms": user.notify_sms,
            "pending_email": user.pending_email,
            "created_at": _iso(user.created_at),
            "email_verified_at": _iso(user.email_verified_at),
            "second_factor": user.second_factor is not None and user.second_factor.confirmed_at is not None,
        },
        "consents": [
            {
                "purpose": "processing of personal data to handle the account and applications (UU PDP 27/2022)",
                "given_at": _iso(user.consent_at),
            }
        ]
        if user.consent_at is not None
        else [],
        "applications": [_application(case) for case in own],
        "documents": [
            {
                "id": doc.public_id,
                "application": references.get(doc.application_id),
                "field": doc.field,
                "name": doc.original_name,
                "content_type": doc.content_type,
                "size": doc.size,
                "sha256": doc.sha256,
                "uploaded_at": _iso(doc.uploaded_at),
            }
            for doc in documents
        ],
        "permits": [
            {
                "number": permit.number,
                "application": references.get(permit.application_id),
                "kitas_type": permit.kitas_type,
                "index_code": permit.index_code,
                "holder_name": permit.holder_name,
                "nationality": permit.nationality,
                "date_of_birth": permit.date_of_birth.isoformat() if permit.date_of_birth else None,
                "sponsor": permit.sponsor,
                "valid_from": permit.valid_from.isoformat(),
                "valid_until": permit.valid_until.isoformat(),
                "office": permit.office,
                "issued_at": _iso(permit.issued_at),
                "revoked_at": _iso(permit.revoked_at),
            }
            for permit in permits.permits_of_holder(user.id)
        ],
        "notifications": [
            {
                "channel": note.channel,
                "recipient": note.recipient,
                "subject": note.subject,
                "body": None if note.template else note.body,
                "kind": note.template,
                "created_at": _iso(note.created_at),
                "sent_at": _iso(note.sent_at),
                "read_at": _iso(note.read_at),
            }
            for note in messages
        ],
        "audit": [
            {
                "chain": row.chain,
                "seq": row.seq,
                "at": _iso(row.occurred_at),
                "actor": row.actor,
                "action": row.action,
                "application": references.get(row.application_id) if row.application_id else None,
                "detail": row.detail,
                "hash": row.hash,
            }
            for row in rows
        ],
    }
    with write_transaction():
        audit.record("personal_data_exported", {"address": address}, user=db.session.get(User, user.id))
    return data


def _application(case: Application) -> dict[str, Any]:
    try:
        answers: dict[str, Any] | None = read_runtime(case).data
    except ServiceError as exc:  # an unreadable state is named, never hidden
        answers = None
        log.warning("the answers of case %s could not be read for an export: %s", case.reference, exc)
    return {
        "reference": case.reference,
        "kitas_type": case.kitas_type,
        "status": case.status,
        "status_detail": case.status_detail,
        "sponsor_email": case.sponsor_email,
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
        "closed_at": _iso(case.closed_at),
        "answers": answers,
    }


def _addresses(user: User) -> list[str]:
    return [value for value in (user.email, user.phone, user.pending_email) if value]


# --- erasure ------------------------------------------------------------------------------------


def open_cases(user_id: int) -> list[str]:
    """The references of the cases that keep an account from being erased: open, as applicant or sponsor."""
    user = _active(user_id)
    return _open_references(user)


def _open_references(user: User) -> list[str]:
    query = (
        select(Application.reference)
        .where(
            Application.closed_at.is_(None),
            or_(Application.applicant_id == user.id, Application.sponsor_email == user.email),
        )
        .order_by(Application.id)
    )
    return list(db.session.scalars(query))


def erase_account(user_id: int, password: str, address: str) -> Erasure:
    """Withdraw consent and erase the account (see the module's text). Raises InvalidInput (wrong
    password) or ErasureRefused (an open case)."""
    user = _active(user_id)
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidInput({"current_password": [Message("This is not your current password. Type it again.")]})
    refused = _open_references(user)
    if refused:
        raise ErasureRefused(refused)
    with write_transaction():
        query = select(User).where(User.id == user_id).execution_options(populate_existing=True)
        if is_postgres():
            query = query.with_for_update()
        user = db.session.scalars(query).one()
        refused = _open_references(user)  # a case may have started meanwhile
        if refused:
            raise ErasureRefused(refused)
        values = [value for value in (user.full_name, user.email, user.phone, user.pending_email) if value]
        erasure, keys = _erase(user, values)
    for key in keys:  # after the commit: a file left behind has no row, so the sweep removes it
        try:
            document_store().delete(key)
        except Exception:  # noqa: BLE001 - the sweep is the fallback; the erasure itself is committed
            log.warning("a document file of an erased account could not be deleted now; the sweep will", exc_info=True)
    return erasure


def _erase(user: User, values: list[str]) -> tuple[Erasure, list[str]]:
    """Everything of the erasure that is written, inside the caller's transaction."""
    own = list(db.session.scalars(select(Application).where(Application.applicant_id == user.id)))
    sponsored = list(
        db.session.scalars(
            select(Application).where(Application.sponsor_email == user.email, Application.applicant_id != user.id)
        )
    )
    own_ids = [case.id for case in own]
    keys: list[str] = []
    if own_ids:
        keys = list(db.session.scalars(select(Document.storage_key).where(Document.application_id.in_(own_ids))))
        db.session.execute(delete(Document).where(Document.application_id.in_(own_ids)))
        db.session.execute(delete(HumanTask).where(HumanTask.application_id.in_(own_ids)))
        # Officers' notes on her cases may name her: they go with the documents.
        db.session.execute(delete(CaseNote).where(CaseNote.application_id.in_(own_ids)))
    pattern = _pattern(values)
    for case in own:
        anonymise_closed_case(
            case.id,
            lambda row: {
                "workflow_state": state_without_data(row.workflow_state),
                "status_detail": _redacted(row.status_detail, pattern),
                # The inbox's search columns hold the applicant's name and passport number.
                "applicant_name": None,
                "name_search": None,
                "passport_number": None,
                # A group's member cases are the sponsor's own and name them as sponsor too.
                "sponsor_email": None if row.sponsor_email == user.email else row.sponsor_email,
            },
        )
    # The groups they started: the members' names and the sponsor data go with the cases' data.
    for group in db.session.scalars(select(ApplicationGroup).where(ApplicationGroup.sponsor_id == user.id)):
        group.members, group.sponsor_data = {}, {}
    for case in sponsored:
        anonymise_closed_case(
            case.id,
            lambda row: {
                "workflow_state": _redacted_json(row.workflow_state, pattern),
                "status_detail": _redacted(row.status_detail, pattern),
                "sponsor_email": None,
            },
        )
    permits.erase_holder(user.id)
    touched = own_ids + [case.id for case in sponsored]
    _redact_texts(touched, values, pattern)
    deleted = db.session.execute(
        delete(Notification).where(or_(Notification.user_id == user.id, Notification.recipient.in_(values)))
    ).rowcount  # type: ignore[attr-defined]
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.account.in_(values)))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    db.session.execute(delete(user_roles).where(user_roles.c.user_id == user.id))
    db.session.execute(delete(SavedFilter).where(SavedFilter.user_id == user.id))  # searches may name people
    db.session.expire(user, ["roles", "second_factor"])
    now = app_clock().now()
    for field, value in {
        "email": f"erased-{user.id}@{ERASED_DOMAIN}",
        "full_name": "",
        "phone": None,
        "nationality": None,
        "password_hash": None,
        "language": None,
        "time_zone": None,
        "notify_email": False,
        "notify_sms": False,
        "pending_email": None,
        "pending_email_nonce": None,
        "email_verified_at": None,
        "consent_at": None,
        "is_active": False,
        "session_token": secrets.token_hex(16),
        "erased_at": now,
    }.items():
        setattr(user, field, value)
    db.session.flush()
    actor = f"account {user.id} (erased)"
    for case in own + sponsored:
        audit.record("case_anonymised", {"account": user.id}, application_id=case.id, actor=actor)
    references = sorted(case.reference for case in own)
    audit.record(
        "account_erased",
        {
            "account": user.id,
            "basis": "UU PDP 27/2022 Art. 8-9: consent withdrawn, erasure requested",
            "cases_anonymised": references,
            "sponsored_cases_anonymised": sorted(case.reference for case in sponsored),
            "documents_deleted": len(keys),
            "notifications_deleted": deleted,
            "address": None,  # the request's address is personal data of the person erased
        },
        chain=f"user:{user.id}",
        actor=actor,
    )
    return Erasure(references, len(keys), deleted), keys


def _pattern(values: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({value.strip() for value in values if value and value.strip()}, key=len, reverse=True)
    return re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE) if words else None


def _redacted(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    if text is None or pattern is None:
        return text
    return pattern.sub(REDACTED, text)


def _redacted_value(value: Any, pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return _redacted(value, pattern)
    if isinstance(value, list):
        return [_redacted_value(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redacted_value(item, pattern) for key, item in value.items()}
    return value


def _redacted_json(state: str, pattern: re.Pattern[str] | None) -> str:
    return json.dumps(_redacted_value(json.loads(state), pattern), separators=(",", ":"))


def _redact_texts(case_ids: list[int], values: list[str], pattern: re.Pattern[str] | None) -> None:
    """Free texts that may quote the person: messages to others about the cases, incidents (a failed
    delivery names its recipient), timer notes."""
    if pattern is None:
        return
    quoting = [column.ilike(f"%{value}%") for value in values for column in (Incident.error, Incident.note)]
    for incident in db.session.scalars(select(Incident).where(or_(Incident.application_id.in_(case_ids), *quoting))):
        incident.error = _redacted(incident.error, pattern) or ""
        incident.note = _redacted(incident.note, pattern)
    if not case_ids:
        return
    for note in db.session.scalars(select(Notification).where(Notification.application_id.in_(case_ids))):
        note.subject = _redacted(note.subject, pattern) or ""
        note.body = _redacted(note.body, pattern) or ""
    for timer in db.session.scalars(select(Timer).where(Timer.application_id.in_(case_ids))):
        timer.note = _redacted(timer.note, pattern)
