"""A case on its diagram, as the services give it to officers, analysts and the applicant: the pinned version's
diagrams, the path with when and who, names in both languages, each step's data for officers only, and the
applicant's journey marked from the same trace."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent
from kitas.services import cases, documents
from kitas.services.cases import diagram, journey, studio_cases
from kitas.services.errors import InvalidInput, NotFound
from tests.conftest import deploy_fee_table
from tests.factories import make_user
from tests.services.helpers import complete, open_task, request_corrections, start_until_payment
from tests.uploads import jpeg_bytes
from tests.worker_data import PAYMENT

pytestmark = pytest.mark.usefixtures("worker")


def _at_verification(users: dict[str, Any], *, photo: bool = False) -> Application:
    """A paid worker case waiting for the verifier (with a real uploaded photo when asked)."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"], full_name="Ana Applicant")
    complete(application.id, "employment_data", users["applicant"])
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    overrides = {}
    if photo:
        task = open_task(application.id, "document_checklist")
        stored = documents.store_uploads(
            application.id, users["applicant"], task.task_id, {"photo": ("ana-photo.jpg", jpeg_bytes())}
        )
        overrides["photo"] = stored.stored["photo"].public_id
    complete(application.id, "document_checklist", users["applicant"], **overrides)
    return cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")


def _step(view: diagram.CaseDiagram, element: str) -> diagram.StepView:
    found = [s for s in view.steps if s.element_id == element]
    assert found, [s.element_id for s in view.steps]
    return found[-1]


def test_the_officer_sees_the_path_who_did_each_step_and_what_it_holds(users: dict[str, Any]) -> None:
    application = _at_verification(users, photo=True)
    view = diagram.officer_diagram(application.reference, users["verifier"])
    listed = [s.element_id for s in view.steps]
    assert listed[:4] == ["applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"]
    assert "await_payment" in listed and "init_case" not in listed  # scripts are on the drawing, not the list
    assert [s.element_id for s in view.current] == ["verify_documents"]
    assert view.current[0].within == "Document review" and view.current[0].called_by == "call_document_review"
    assert [t.element_id for t in view.timers] == ["verify_sla"] and view.timers[0].attached_name == "Verify documents"
    applicant = _step(view, "applicant_data")
    assert applicant.who == "Ana Applicant (applicant)" and applicant.when is not None
    assert _step(view, "sponsor_confirmation").who == "PT Employer HR (sponsor)"
    rows = {row.label: row for row in applicant.rows or ()}
    assert rows and any(row.value == "Ana Applicant" for row in rows.values())
    photo = [row for row in _step(view, "document_checklist").rows or () if row.is_document and row.document]
    assert [row.document for row in photo if row.document == "ana-photo.jpg"] == ["ana-photo.jpg"]
    assert view.with_data and view.marks()["current"] == ["call_document_review", "verify_documents"]
    assert ["document_checklist", "call_payment"] in view.marks()["flows"]
    # What the viewer's JSON reads: the same diagrams and marks, no steps and no data.
    bare = diagram.officer_diagram(application.reference, users["verifier"], listed=False)
    assert bare.steps == () and bare.current == () and bare.marks() == view.marks()
    assert [d.process_id for d in bare.diagrams] == [d.process_id for d in view.diagrams]


def test_the_analyst_gets_the_same_path_without_data_or_names(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    officer = diagram.officer_diagram(application.reference, users["verifier"])
    analyst = diagram.analyst_diagram(application.reference)
    assert [s.element_id for s in analyst.steps] == [s.element_id for s in officer.steps]
    assert analyst.marks() == officer.marks()
    assert not analyst.with_data and all(s.rows is None for s in analyst.steps)
    assert _step(analyst, "applicant_data").who == "the applicant"
    assert _step(analyst, "sponsor_confirmation").who == "the sponsor"
    everything = repr([(s.name, s.who, s.within) for s in analyst.steps])
    assert "Ana Applicant" not in everything and "PT Employer HR" not in everything
    with pytest.raises(NotFound):
        diagram.analyst_diagram("E23-2026-NOSUCHXX")


def test_names_and_diagrams_are_in_the_readers_language(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    english = diagram.analyst_diagram(application.reference, "en")
    indonesian = diagram.analyst_diagram(application.reference, "id")
    assert _step(english, "document_checklist").name == "Upload documents"
    assert _step(indonesian, "document_checklist").name == "Unggah dokumen"
    assert (indonesian.current[0].name, indonesian.current[0].within) == ("Verifikasi dokumen", "Pemeriksaan dokumen")
    own, *called = indonesian.diagrams
    assert own.process_id == "kitas_worker" and 'name="Unggah dokumen"' in own.xml
    assert 'name="Upload documents"' in english.diagrams[0].xml
    # The shared steps the version bundles, each labelled by the call activity that calls it.
    assert [d.process_id for d in called] == [
        "shared_payment",
        "shared_document_review",
        "shared_approval",
        "shared_biometrics",
        "shared_issuance",
    ]
    payment = called[0]
    assert payment.called_by == ("call_payment",) and payment.label == "Biaya dan pembayaran"
    assert 'name="Menunggu pembayaran"' in payment.xml


def test_a_case_keeps_the_diagram_of_its_version_after_a_new_one(users: dict[str, Any]) -> None:
    old = start_until_payment(users)
    with open("bpmn/fees.dmn", encoding="utf-8") as table:
        deploy_fee_table(table.read().replace("1700000", "1750000"))  # a new payment step: new worker version
    new = cases.start_case("worker", users["applicant"])
    db.session.expire_all()
    old_view = diagram.analyst_diagram(old.reference)
    new_view = diagram.analyst_diagram(new.reference)
    assert old_view.definition.version < new_view.definition.version
    assert old_view.definition.id == db.session.get(Application, old.id).definition_id  # type: ignore[union-attr]
    listing = studio_cases.version_cases("kitas_worker", old_view.definition.version)
    assert [c.reference for c in listing.cases] == [old.reference] and listing.count == 1
    counts = {(v.process_id, v.version): v.count for v in studio_cases.versions_with_cases()}
    assert counts == {
        ("kitas_worker", old_view.definition.version): 1,
        ("kitas_worker", new_view.definition.version): 1,
    }
    with pytest.raises(NotFound):
        studio_cases.version_cases("kitas_worker", 99)


def test_another_offices_officer_and_other_people_are_refused_and_audited(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    bali = make_user("verifier", email="dewi@imigrasi.example", offices=("DPS",))
    for person in (bali, users["analyst"], users["applicant"]):
        with pytest.raises(NotFound):
            diagram.officer_diagram(application.reference, person)
    refused = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).all()
    assert [row.actor_id for row in refused] == [bali.id, users["analyst"].id, users["applicant"].id]
    assert "belongs to another office" in refused[0].detail["reason"]
    # An administrator sees every office's case, with its data.
    assert diagram.officer_diagram(application.reference, users["admin"]).with_data


def test_the_studio_search_names_a_missing_case(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    assert studio_cases.studio_case(f"  {application.reference} ") == application.reference
    for typed, words in (("", "Type the register number"), ("E23-NOPE", "No case has the register number E23-NOPE")):
        with pytest.raises(InvalidInput) as refused:
            studio_cases.studio_case(typed)
        assert words in refused.value.errors["reference"][0]


def _marks(steps: tuple[journey.JourneyStep, ...]) -> dict[str, str]:
    return {s.element_id: s.state for s in steps}


def test_the_applicants_journey_follows_the_trace_through_a_correction_round(users: dict[str, Any]) -> None:
    application = start_until_payment(users)
    steps = journey.applicant_journey(application)
    marks = _marks(steps)
    assert [s.element_id for s in steps][:4] == [
        "applicant_data",
        "employment_data",
        "sponsor_confirmation",
        "document_checklist",
    ]
    assert marks["document_checklist"] == "done" and marks["await_payment"] == "now"
    assert marks["verify_documents"] == "next" and marks["supervisor_approval"] == "next"
    whose = {s.element_id: s.who for s in steps}
    assert whose["applicant_data"] == "you" and whose["sponsor_confirmation"] == "your sponsor"
    assert whose["verify_documents"] == "the immigration office"
    assert [s.optional for s in steps if s.element_id == "submit_corrections"] == [True]
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    application = request_corrections(application.id, users["verifier"], "The passport scan is blurred.")
    marks = _marks(journey.applicant_journey(application))
    assert marks["await_payment"] == "done" and marks["verify_documents"] == "done"
    assert marks["submit_corrections"] == "now"
    application = complete(application.id, "submit_corrections", users["applicant"])
    marks = _marks(journey.applicant_journey(application))
    assert marks["verify_documents"] == "now" and marks["submit_corrections"] == "done"
    indonesian = {s.element_id: s.name for s in journey.applicant_journey(application, "id")}
    assert indonesian["document_checklist"] == "Unggah dokumen"


def test_a_finished_journey_lists_only_the_steps_the_case_went_through(users: dict[str, Any]) -> None:
    application = start_until_payment(users)
    cases.deliver_message(application.id, "payment_received", PAYMENT, actor="sandbox-bank")
    application = complete(
        application.id,
        "verify_documents",
        users["verifier"],
        verification_decision="reject",
        verification_reason="Forged RPTKA",
    )
    steps = journey.applicant_journey(application)
    assert application.closed_at is not None
    assert {s.state for s in steps} == {"done"}
    assert [s.element_id for s in steps][-1] == "verify_documents" and "supervisor_approval" not in _marks(steps)


def test_a_send_back_puts_the_approval_ahead_again(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    complete(application.id, "verify_documents", users["verifier"])
    application = complete(
        application.id,
        "supervisor_approval",
        users["supervisor"],
        approval_decision="send_back",
        send_back_reason="Check the passport's expiry date again",
    )
    marks = _marks(journey.applicant_journey(application))
    assert marks["verify_documents"] == "now" and marks["supervisor_approval"] == "next"
    view = diagram.officer_diagram(application.reference, users["verifier"])
    # Both rounds of the review are on the path; the approval once, with the supervisor's words.
    assert [s.element_id for s in view.steps].count("verify_documents") == 1
    approval = _step(view, "supervisor_approval")
    assert approval.who == "Sam Supervisor (supervisor)"
    assert any(row.value == "Check the passport's expiry date again" for row in approval.rows or ())


def test_a_sandbox_case_is_the_studios_not_the_officers(users: dict[str, Any]) -> None:
    application = _at_verification(users)
    application.trial = True
    db.session.commit()
    with pytest.raises(NotFound):
        diagram.officer_diagram(application.reference, users["verifier"])
    assert diagram.analyst_diagram(application.reference).application.trial
    listing = studio_cases.version_cases("kitas_worker", application.definition.version)
    assert [(c.reference, c.trial) for c in listing.cases] == [(application.reference, True)]
