"""Try this version: a draft's content as a trial version, a sandbox case on it stepped through by the
analyst in every role, and officers, inboxes, dashboards and statistics that never see it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import (
    Application,
    Appointment,
    AppointmentSlot,
    CaseMilestone,
    HumanTask,
    Notification,
    Permit,
    ProcessDefinition,
    Timer,
)
from kitas.services import cases
from kitas.services.cases.inbox import InboxQuery, officer_inbox
from kitas.services.dashboard import dashboard, late_work
from kitas.services.deployments import latest_definition
from kitas.services.errors import Forbidden, NotFound
from kitas.services.studio import drafts, trial
from tests.factories import free_slot_for, make_user
from tests.services.helpers import complete, start_until_verification
from tests.worker_data import form_data

pytestmark = pytest.mark.usefixtures("worker")


def _changed_draft(analyst: Any) -> int:
    """A draft of the worker diagram with one step renamed (so its content is new)."""
    draft = drafts.open_draft("kitas_worker", analyst)
    bpmn = draft.bpmn_xml.replace('name="Fill in applicant data"', 'name="Fill in your data"', 1)
    assert bpmn != draft.bpmn_xml
    return drafts.save_draft(draft.id, draft.revision, analyst, bpmn_xml=bpmn).id


def _do(application: Application, element_id: str, analyst: Any, **overrides: Any) -> Application:
    task = db.session.scalars(
        select(HumanTask).where(HumanTask.application_id == application.id, HumanTask.element_id == element_id)
    ).one()
    if element_id == "book_biometrics":
        overrides.setdefault("appointment_slot", free_slot_for(application.id, "biometrics"))
    return cases.complete_task(application.id, task.task_id, analyst, form_data(element_id, **overrides))


def _roles(reference: str, analyst: Any) -> list[tuple[str, str]]:
    return [(t.element_id, t.role) for t in trial.trial_page(reference, analyst).tasks]


def test_a_draft_that_cannot_run_is_refused_naming_its_elements(users: dict[str, Any]) -> None:
    analyst = users["analyst"]
    draft = drafts.open_draft("kitas_worker", analyst)
    broken = draft.bpmn_xml.replace('calledElement="shared_payment"', 'calledElement="shared_nowhere"', 1)
    drafts.save_draft(draft.id, draft.revision, analyst, bpmn_xml=broken)
    with pytest.raises(trial.TryRefused) as refused:
        trial.try_draft(draft.id, analyst)
    assert any(element == "call_payment" and "shared_nowhere" in problem for element, problem in refused.value.problems)
    assert db.session.scalar(select(func.count()).select_from(Application).where(Application.trial)) == 0


def test_the_analyst_steps_a_trial_through_to_its_end_in_every_role(users: dict[str, Any]) -> None:
    analyst = users["analyst"]
    draft_id = _changed_draft(analyst)
    application = trial.try_draft(draft_id, analyst)
    assert application.trial and application.office_id is None and application.applicant_id == analyst.id
    definition = db.session.get(ProcessDefinition, application.definition_id)
    assert definition.trial and definition.version == -1
    assert _roles(application.reference, analyst) == [("applicant_data", "applicant")]
    assert trial.trial_page(application.reference, analyst).tasks[0].name == "Fill in your data"
    _do(application, "applicant_data", analyst)
    _do(application, "employment_data", analyst)
    assert db.session.get(Application, application.id).sponsor_email is None  # no real sponsor ever sees it
    assert _roles(application.reference, analyst) == [("sponsor_confirmation", "sponsor")]
    _do(application, "sponsor_confirmation", analyst)
    _do(application, "document_checklist", analyst)
    page = trial.trial_page(application.reference, analyst)
    assert page.can_pay and page.fee and page.fee > 0
    assert {t.element_id for t in page.timers} == {"payment_deadline"}
    trial.pay_trial(application.reference, analyst)
    assert _roles(application.reference, analyst) == [("verify_documents", "verifier")]
    _do(application, "verify_documents", analyst)  # no claim needed: the analyst is every officer
    _do(application, "supervisor_approval", analyst)  # four eyes cannot hold: she verified it too
    _do(application, "book_biometrics", analyst)
    done = _do(application, "capture_biometrics", analyst)
    assert done.status == "permit_issued" and done.closed_at is not None
    # It told nobody, counted in no statistic, issued no permit.
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert db.session.scalar(select(func.count()).select_from(CaseMilestone)) == 0
    assert db.session.scalar(select(func.count()).select_from(Permit)) == 0
    # Its booking took no place in the office's times: no officer's appointment list shows it.
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 0
    assert db.session.scalar(select(func.sum(AppointmentSlot.booked))) == 0
    # New real cases still start on the deployed version.
    assert latest_definition("kitas_worker").version == 1
    real = cases.start_case("worker", users["applicant"])
    assert real.definition.version == 1 and not real.trial
    # The same content tried again reuses the trial version.
    again = trial.try_draft(draft_id, analyst)
    assert again.definition_id == application.definition_id
    assert [row.reference for row in trial.trials_of_draft(draft_id, analyst)] == [again.reference, done.reference]


def test_officers_never_see_a_trial_case_beside_a_real_one(users: dict[str, Any]) -> None:
    analyst = users["analyst"]
    real = start_until_verification(users)
    admin = make_user("admin", "verifier", "supervisor", email="adi@imigrasi.example", name="Adi Admin")
    before = {who: dashboard(users[who] if who != "admin" else admin).figures for who in ("supervisor", "admin")}
    tried = trial.try_draft(_changed_draft(analyst), analyst)
    for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
        _do(tried, element, analyst)  # the same name and passport number as the real case
    trial.pay_trial(tried.reference, analyst)  # both wait for a verifier now
    for reader in (users["verifier"], admin):
        for query in (InboxQuery(), InboxQuery(q="FZ1234567"), InboxQuery(q=tried.reference), InboxQuery(q="ana")):
            inbox = officer_inbox(reader, query)
            assert tried.reference not in [row.reference for row in inbox.page.items]
        listed = officer_inbox(reader, InboxQuery())
        assert [row.reference for row in listed.page.items] == [real.reference]
        assert listed.page.total == 1
        assert {o.value: o.count for o in listed.facets["step"]}.get("verify_documents") == 1
        with pytest.raises(NotFound):
            cases.find_case(tried.reference, reader)
    # The dashboard's figures are those without the trial (an admin's every-office figures too).
    assert dashboard(users["supervisor"]).figures == before["supervisor"]
    assert dashboard(admin).figures == before["admin"]
    assert late_work(admin).total == 0
    # A real officer cannot act on the trial's task, nor claim it.
    task = db.session.scalars(select(HumanTask).where(HumanTask.application_id == tried.id)).one()
    assert task.office_id is None
    with pytest.raises((NotFound, Forbidden)):
        cases.complete_task(tried.id, task.task_id, users["verifier"], form_data("verify_documents"))
    # Another analyst does not see it either.
    other = make_user("analyst", email="otto.analyst@imigrasi.example", name="Otto Analyst")
    with pytest.raises(NotFound):
        trial.trial_page(tried.reference, other)
    complete(real.id, "verify_documents", users["verifier"])


def test_a_timer_fires_now_and_discarding_closes_the_trials(users: dict[str, Any]) -> None:
    analyst = users["analyst"]
    draft_id = _changed_draft(analyst)
    tried = trial.try_draft(draft_id, analyst)
    for element in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist"):
        _do(tried, element, analyst)
    timer = trial.trial_page(tried.reference, analyst).timers[0]
    assert timer.element_id == "payment_deadline"
    assert trial.fire_timer_now(tried.reference, timer.timer_id, analyst) == "fired"
    after = db.session.get(Application, tried.id)
    assert after.status != "awaiting_payment" and after.closed_at is not None  # the unpaid case ended
    assert db.session.get(Timer, timer.timer_id).status == "fired"
    second = trial.try_draft(draft_id, analyst)
    assert trial.discard_trials(draft_id, analyst) == 1  # the open one
    left = select(func.count()).select_from(HumanTask).where(HumanTask.application_id == second.id)
    assert db.session.scalar(left) == 0
    rows = trial.trials_of_draft(draft_id, analyst)
    assert all(row.closed_at is not None for row in rows)


def test_deploying_content_that_was_tried_makes_the_trial_row_the_new_version(users: dict[str, Any]) -> None:
    from kitas.services.deployments import deploy

    analyst = users["analyst"]
    draft_id = _changed_draft(analyst)
    tried = trial.try_draft(draft_id, analyst)
    draft = drafts.get_draft(draft_id)
    result = deploy(draft.bpmn_xml, dict(draft.files), analyst, comment="Plainer name for the first step")
    assert result.created and result.version == 2 and result.definition_id == tried.definition_id
    promoted = latest_definition("kitas_worker")
    assert promoted.id == tried.definition_id
    # The version says why it was made, as one deployed without a trial does (the versions page shows it).
    assert promoted.comment == "Plainer name for the first step"
    assert db.session.get(Application, tried.id).trial  # the trial case stays a trial case


NEW_PROCESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="trial_probe" name="Trial probe" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l1" name="Verifier">
      <bpmn:flowNodeRef>s</bpmn:flowNodeRef><bpmn:flowNodeRef>look</bpmn:flowNodeRef><bpmn:flowNodeRef>e</bpmn:flowNodeRef>
    </bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="look" />
    <bpmn:userTask id="look" name="Have a look">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="look.schema.json" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="e" />
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def test_an_imported_process_of_no_kitas_type_runs_as_a_trial(users: dict[str, Any]) -> None:
    analyst = users["analyst"]
    draft = drafts.import_draft(NEW_PROCESS, "probe.bpmn", analyst)
    form = '{"title": "Look", "type": "object", "properties": {"seen": {"type": "boolean", "title": "Seen"}}}'
    draft = drafts.save_draft(draft.id, draft.revision, analyst, files={"look.schema.json": form})
    tried = trial.try_draft(draft.id, analyst)
    assert tried.kitas_type == "trial_probe" and tried.reference.startswith("TRY-")
    assert _roles(tried.reference, analyst) == [("look", "verifier")]
    task = db.session.scalars(select(HumanTask).where(HumanTask.application_id == tried.id)).one()
    done = cases.complete_task(tried.id, task.task_id, analyst, {"seen": True})
    assert done.closed_at is not None
    assert latest_definition("trial_probe") is None  # only tried: new cases cannot start on it
