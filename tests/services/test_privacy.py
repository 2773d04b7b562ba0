"""Personal-data rights (UU PDP 27/2022): the export of everything kept about a person, and the
erasure of an account: refused while a case is open, then nothing personal left in any table."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import JSON, String, Text, select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, Document, Incident, Notification, User
from kitas.services import audit, cases, documents
from kitas.services.accounts import passwords, privacy
from kitas.services.accounts import profile as profiles
from kitas.services.cases import notes
from kitas.services.errors import InvalidInput, NotFound
from tests import uploads
from tests.services.helpers import complete, start_until_verification
from tests.worker_data import APPLICANT_DATA

PASSWORD = "tropical mango lantern 42"
ADDRESS = "203.0.113.9"
PHONE = "+6281234567890"


@pytest.fixture()
def people(worker: int, users: dict[str, Any]) -> dict[str, Any]:
    """The conftest users, the applicant with a password, a phone and a recorded consent."""
    applicant = users["applicant"]
    applicant.password_hash = passwords.hash_password(PASSWORD)
    applicant.phone = PHONE
    applicant.consent_at = applicant.created_at
    users["sponsor"].password_hash = passwords.hash_password(PASSWORD)
    db.session.commit()
    return users


def uploaded_case(people: dict[str, Any]) -> Application:
    """A worker case with two uploaded documents, waiting for the verifier."""
    application = start_until_verification(people)
    files = {"passport_scan": ("passport.pdf", uploads.pdf_bytes()), "photo": ("photo.jpg", uploads.jpeg_bytes())}
    result = documents.store_uploads(application.id, people["applicant"], None, files)
    assert not result.errors
    return application


def decide(application: Application, people: dict[str, Any]) -> None:
    """Take a verified case to the permit (closed)."""
    complete(application.id, "verify_documents", people["verifier"])
    complete(application.id, "supervisor_approval", people["supervisor"])
    complete(application.id, "book_biometrics", people["applicant"])
    complete(application.id, "capture_biometrics", people["verifier"])
    db.session.rollback()
    assert db.session.get(Application, application.id).closed_at is not None  # type: ignore[union-attr]


def personal_values(user: User) -> list[str]:
    """What the person typed or was known by: account fields and the answers of their forms."""
    return [
        user.full_name,
        user.email,
        PHONE,
        APPLICANT_DATA["full_name"],
        APPLICANT_DATA["passport_number"],
        APPLICANT_DATA["phone"],
    ]


def found_anywhere(values: list[str], *, skip: set[str]) -> list[tuple[str, str, Any]]:
    """(table, column, row key) of every text or JSON column of every table holding one of ``values``."""
    db.session.rollback()
    wanted = [value.lower() for value in values]
    hits = []
    for table in db.metadata.sorted_tables:
        if table.name in skip:
            continue
        columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON) or "JSON" in repr(c.type)]
        if not columns:
            continue
        key = list(table.primary_key.columns)
        for row in db.session.execute(select(*key, *columns)).mappings():
            for column in columns:
                text = str(row[column.name] or "").lower()
                for value in wanted:
                    if value and value in text:
                        hits.append((table.name, column.name, tuple(row[c.name] for c in key), value))
    return hits


# --- export ---------------------------------------------------------------------------------------


def test_the_export_holds_account_consent_answers_documents_messages_and_audit(people: dict[str, Any]) -> None:
    application = uploaded_case(people)
    data = privacy.export_data(people["applicant"].id, ADDRESS)
    assert data["format"] == "kitas-personal-data-1"
    assert data["account"]["email"] == "ana@example.org" and data["account"]["phone"] == PHONE
    assert data["account"]["roles"] == ["applicant"]
    assert data["consents"][0]["given_at"] == people["applicant"].created_at.isoformat()
    [case] = data["applications"]
    assert case["reference"] == application.reference and case["status"] == "in_verification"
    assert case["answers"]["passport_number"] == APPLICANT_DATA["passport_number"]
    stored = {doc.public_id: doc.sha256 for doc in db.session.scalars(select(Document))}
    assert {doc["id"]: doc["sha256"] for doc in data["documents"]} == stored and len(stored) == 2
    assert {doc["field"] for doc in data["documents"]} == {"passport_scan", "photo"}
    assert data["notifications"] and {n["recipient"] for n in data["notifications"]} <= {"ana@example.org", PHONE}
    actions = {row["action"] for row in data["audit"]}
    assert {"case_started", "task_completed"} <= actions
    assert all(row["application"] in (None, application.reference) for row in data["audit"])
    # Other people's rows of no case of hers are not in it.
    assert not [row for row in data["audit"] if row["chain"] == f"user:{people['sponsor'].id}"]
    db.session.rollback()
    [exported] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "personal_data_exported")).all()
    assert exported.actor_id == people["applicant"].id


# --- erasure ----------------------------------------------------------------------------------------


def test_erasure_is_refused_while_a_case_is_open_then_leaves_nothing_personal(people: dict[str, Any]) -> None:
    applicant = people["applicant"]
    application = uploaded_case(people)
    profiles.request_email_change(applicant.id, "ana.new@example.org", PASSWORD, ADDRESS)
    keys = list(db.session.scalars(select(Document.storage_key)))
    store = documents.document_store()
    assert keys and all(store.exists(key) for key in keys)

    with pytest.raises(privacy.ErasureRefused) as refused:
        privacy.erase_account(applicant.id, PASSWORD, ADDRESS)
    assert refused.value.references == [application.reference]
    assert application.reference in str(refused.value) and "immigration office" in str(refused.value)
    assert privacy.open_cases(applicant.id) == [application.reference]
    assert db.session.get(User, applicant.id).email == "ana@example.org"  # type: ignore[union-attr]

    decide(application, people)
    # An officer's internal note names her: it goes with her data.
    notes.add_note(
        application.reference, people["verifier"], f"{APPLICANT_DATA['full_name']} phoned about the contract"
    )
    assert privacy.open_cases(applicant.id) == []
    now = people["admin"].created_at  # an incident of no case that quotes her address
    db.session.add(
        Incident(
            kind="notification_undeliverable",
            error="550 no mailbox ana@example.org",
            created_at=now,
            last_failed_at=now,
            open_key="test:undeliverable",
        )
    )
    db.session.commit()
    values = [*personal_values(applicant), "ana.new@example.org"]
    assert found_anywhere(values, skip={"audit_event"})  # the scan sees the data before
    erasure = privacy.erase_account(applicant.id, PASSWORD, ADDRESS)
    assert erasure.cases == [application.reference] and erasure.documents == 2

    assert found_anywhere(values, skip={"audit_event"}) == []
    assert not any(store.exists(key) for key in keys)
    db.session.rollback()
    erased = db.session.get(User, applicant.id)
    assert erased is not None and erased.erased_at is not None and not erased.is_active
    assert erased.email == f"erased-{applicant.id}@erased.invalid" and erased.roles == []
    # The case is kept, anonymised, and still reads.
    case = db.session.get(Application, application.id)
    assert case is not None and case.status == "permit_issued"
    assert "passport_number" not in cases.read_runtime(case).data
    # The audit trail is kept as written and still verifies; the erasure is in it, naming no one.
    report = audit.verify_chain()
    assert report.ok, report.problem
    [row] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account_erased")).all()
    assert row.chain == f"user:{applicant.id}" and row.actor == f"account {applicant.id} (erased)"
    assert row.detail["cases_anonymised"] == [application.reference] and row.detail["documents_deleted"] == 2
    assert found_anywhere(personal_values(applicant), skip=set()) != []  # only older audit rows still name her
    later = db.session.scalars(select(AuditEvent).where(AuditEvent.id >= row.id - 2)).all()
    assert not [r for r in later if "ana@example.org" in r.actor or "ana@example.org" in str(r.detail)]
    with pytest.raises(NotFound):
        privacy.erase_account(applicant.id, PASSWORD, ADDRESS)


def test_erasure_needs_the_current_password(people: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        privacy.erase_account(people["applicant"].id, "not my password", ADDRESS)
    assert "not your current password" in refused.value.errors["current_password"][0]
    assert db.session.get(User, people["applicant"].id).erased_at is None  # type: ignore[union-attr]


def test_a_sponsor_is_erased_from_a_closed_case_and_refused_while_one_is_open(people: dict[str, Any]) -> None:
    sponsor = people["sponsor"]
    application = uploaded_case(people)
    with pytest.raises(privacy.ErasureRefused):
        privacy.erase_account(sponsor.id, PASSWORD, ADDRESS)
    decide(application, people)
    values = [sponsor.full_name, sponsor.email]
    assert found_anywhere(values, skip={"audit_event"})
    privacy.erase_account(sponsor.id, PASSWORD, ADDRESS)
    assert found_anywhere(values, skip={"audit_event"}) == []
    db.session.rollback()
    case = db.session.get(Application, application.id)
    assert case is not None and case.sponsor_email is None
    # The applicant's own answers stay in her case.
    assert cases.read_runtime(case).data["passport_number"] == APPLICANT_DATA["passport_number"]
    assert db.session.scalars(select(Notification).where(Notification.user_id == sponsor.id)).all() == []
    assert audit.verify_chain().ok
