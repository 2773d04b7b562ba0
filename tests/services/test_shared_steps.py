"""Shared steps as deployed processes: bundled into the versions that call them, a new version of a
shared step makes new versions of its callers, running cases keep theirs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, ProcessDefinition
from kitas.services import cases
from kitas.services.deployments import (
    called_diagrams,
    collect_files,
    deploy,
    deploy_all,
    deploy_path,
    element_name,
    latest_definition,
    process_model,
)
from kitas.services.errors import DeploymentRefused
from tests.conftest import ROOT, deploy_shared_steps
from tests.services.helpers import complete, open_task, start_until_verification

BPMN = ROOT / "bpmn"
WORKER = BPMN / "kitas_worker.bpmn"
SHARED = BPMN / "shared"
FORMS = ROOT / "forms" / "schemas"


def _redeploy_biometrics(new_name: str = "Choose your biometrics appointment") -> Any:
    bpmn, files = collect_files(SHARED / "shared_biometrics.bpmn", FORMS)
    changed = bpmn.replace('name="Book biometrics appointment"', f'name="{new_name}"')
    assert changed != bpmn
    return deploy(changed, files, actor="analyst")


def _definition(definition_id: int) -> ProcessDefinition:
    definition = db.session.get(ProcessDefinition, definition_id)
    assert definition is not None
    return definition


def test_a_diagram_calling_a_shared_step_not_deployed_is_refused_naming_the_call(ctx: Any) -> None:
    for path in sorted(SHARED.glob("*.bpmn")):
        if path.stem != "shared_approval":
            deploy_path(path, FORMS)
    with pytest.raises(DeploymentRefused) as refused:
        deploy_path(WORKER, FORMS)
    [(element, problem)] = refused.value.problems
    assert element == "call_approval" and "shared_approval, which is not deployed" in problem
    assert latest_definition("kitas_worker") is None


def test_a_diagram_bundles_the_latest_version_of_each_shared_step(ctx: Any) -> None:
    deploy_shared_steps()
    worker = _definition(deploy_path(WORKER, FORMS).definition_id)
    for process_id, bpmn in called_diagrams(worker.files).items():
        shared = latest_definition(process_id)
        assert shared is not None and shared.bpmn_xml == bpmn
        for name, text in shared.files.items():  # its forms and texts come with it
            kept = f"called/{process_id}.id.json" if name == f"{process_id}.id.json" else name
            assert worker.files[kept] == text, (process_id, name)
    model = process_model(worker)
    assert model.user_tasks["verify_documents"].form_schema == "shared-verify-documents.schema.json"
    assert element_name(worker, "await_payment", "id") == "Menunggu pembayaran"  # a shared step's translation
    assert element_name(worker, "call_payment", "id") == "Biaya dan pembayaran"  # the worker's own


def test_a_new_version_of_a_shared_step_makes_new_versions_of_its_callers(ctx: Any, users: dict[str, Any]) -> None:
    deploy_shared_steps()
    first = deploy_path(WORKER, FORMS)
    running = start_until_verification(users)
    assert running.definition_id == first.definition_id

    result = _redeploy_biometrics()
    assert (result.process_id, result.version, result.created) == ("shared_biometrics", 2, True)
    [caller] = result.callers
    assert (caller.process_id, caller.version, caller.created) == ("kitas_worker", 2, True)
    assert caller.because == "shared_biometrics version 2"
    second = _definition(caller.definition_id)
    assert second.deployed_by == "analyst (with shared_biometrics version 2)"
    assert second.bpmn_xml == _definition(first.definition_id).bpmn_xml  # the worker's own diagram is unchanged
    assert second.content_hash != _definition(first.definition_id).content_hash  # the hash covers the bundle
    audited = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "definition_deployed", AuditEvent.chain == "process:kitas_worker")
    ).all()
    assert audited[-1].detail["because"] == {"process_id": "shared_biometrics", "version": 2}
    assert audited[-1].detail["calls"]["shared_biometrics"] == 2 and audited[-1].detail["calls"]["shared_payment"] == 1

    # A new case gets the new shared step...
    newer = start_until_verification(users)
    assert newer.definition_id == second.id
    # ...the running case keeps its version and finishes on it.
    for application in (running, newer):
        complete(application.id, "verify_documents", users["verifier"])
        complete(application.id, "supervisor_approval", users["supervisor"])
    assert open_task(running.id, "book_biometrics").name == "Book biometrics appointment"
    assert open_task(newer.id, "book_biometrics").name == "Choose your biometrics appointment"
    for application in (running, newer):
        complete(application.id, "book_biometrics", users["applicant"])
        complete(application.id, "capture_biometrics", users["verifier"])
    finished = {a.id: db.session.get(Application, a.id) for a in (running, newer)}
    assert (finished[running.id].definition_id, finished[running.id].status) == (first.definition_id, "permit_issued")
    assert (finished[newer.id].definition_id, finished[newer.id].status) == (second.id, "permit_issued")


def test_deploying_the_same_shared_step_again_changes_nothing(ctx: Any) -> None:
    deploy_shared_steps()
    deploy_path(WORKER, FORMS)
    again = deploy_path(SHARED / "shared_payment.bpmn", FORMS)
    assert (again.version, again.created, again.callers) == (1, False, ())
    assert latest_definition("kitas_worker").version == 1  # type: ignore[union-attr]


def test_deploy_all_deploys_the_shared_steps_first_and_a_changed_one_once(ctx: Any, tmp_path: Any) -> None:
    import shutil

    bpmn = tmp_path / "bpmn"
    shutil.copytree(BPMN, bpmn)
    results = deploy_all(bpmn, FORMS)
    order = [r.process_id for r in results]
    assert order[:5] == sorted(p.stem for p in SHARED.glob("*.bpmn")) and "kitas_worker" in order[5:]
    assert all(r.created and r.version == 1 for r in results)
    payment = bpmn / "shared" / "shared_payment.bpmn"
    payment.write_text(payment.read_text().replace('name="Wait for payment"', 'name="Pay the fee"'))
    again = {r.process_id: r for r in deploy_all(bpmn, FORMS)}
    assert (again["shared_payment"].version, again["shared_payment"].created) == (2, True)
    # Every type's diagram calls the payment step: each gets its new version (worker, investor, student...).
    callers = sorted((c.process_id, c.version) for c in again["shared_payment"].callers)
    assert callers == sorted((p.stem, 2) for p in bpmn.glob("*.bpmn")) and ("kitas_worker", 2) in callers
    # The worker from disk is what the new shared step's deployment already made: no third version.
    assert (again["kitas_worker"].version, again["kitas_worker"].created) == (2, False)
    worker = latest_definition("kitas_worker")
    assert worker is not None and process_model(worker).element_names["await_payment"] == "Pay the fee"


def test_a_fee_table_change_reaches_new_cases_of_the_caller(ctx: Any, tmp_path: Any, users: dict[str, Any]) -> None:
    import shutil

    bpmn = tmp_path / "bpmn"
    shutil.copytree(BPMN, bpmn)
    deploy_all(bpmn, FORMS)
    fees = bpmn / "fees.dmn"
    fees.write_text(fees.read_text().replace("<text>1700000</text>", "<text>1750000</text>", 1))
    # The worker's own deployment refuses a fee table other than the one its payment step pinned...
    with pytest.raises(DeploymentRefused) as refused:
        deploy_path(bpmn / "kitas_worker.bpmn", FORMS)
    assert "fees.dmn" in dict(refused.value.problems)
    assert "shared_payment version 1" in dict(refused.value.problems)["fees.dmn"]
    # ...deploying everything deploys the payment step with it, and the worker follows.
    results = {r.process_id: r for r in deploy_all(bpmn, FORMS)}
    assert results["shared_payment"].version == 2 and results["kitas_worker"].version == 2
    from tests.services.helpers import start_until_payment

    application = start_until_payment(users)
    assert cases.read_runtime(db.session.get(Application, application.id)).data["fee_amount"] == 1750000


def test_an_element_id_of_a_shared_step_reused_by_a_type_diagram_is_refused(ctx: Any) -> None:
    deploy_shared_steps()
    bpmn, files = collect_files(WORKER, FORMS)
    clashing = bpmn.replace('"gw_payment"', '"gw_approval"').replace("_gw_payment", "_gw_approval")
    clashing = clashing.replace("gw_payment_", "gw_approval_")
    with pytest.raises(DeploymentRefused) as refused:
        deploy(clashing, files)
    problems = dict(refused.value.problems)
    assert "gw_approval" in problems and "shared_approval.bpmn" in problems["gw_approval"]


def test_the_deploy_command_names_the_callers_it_deployed_again(ctx: Any, tmp_path: Any) -> None:
    deploy_shared_steps()
    deploy_path(WORKER, FORMS)
    shared = tmp_path / "shared"
    shared.mkdir()
    changed = shared / "shared_issuance.bpmn"
    changed.write_text(
        (SHARED / "shared_issuance.bpmn").read_text().replace('name="Issue permit"', 'name="Issue the permit"')
    )
    (shared / "shared_issuance.id.json").write_text((SHARED / "shared_issuance.id.json").read_text())
    result = ctx.test_cli_runner().invoke(args=["deploy", str(changed)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "shared_issuance: deployed as version 2",
        "kitas_worker: deployed as version 2 (with shared_issuance version 2)",
    ]


def test_a_failure_inside_a_shared_step_is_fixed_by_deploying_the_step_and_retried(
    ctx: Any, users: dict[str, Any]
) -> None:
    """The fee table of the payment step breaks (a result that cannot be stored); the case waits at
    compute_fee inside call_payment as an incident. Deploying the payment step with a good table makes a
    new worker version; the admin's retry moves the case to it and it goes on to the payment."""
    from kitas.models import Incident
    from kitas.services.incidents import actions
    from tests.services.helpers import start_until_payment

    deploy_shared_steps()
    deploy_path(WORKER, FORMS)
    bpmn, files = collect_files(SHARED / "shared_payment.bpmn", FORMS)
    good = files["fees.dmn"]
    files["fees.dmn"] = good.replace("<text>1700000</text>", "<text>(n for n in range(3))</text>", 1)
    assert [(c.process_id, c.version) for c in deploy(bpmn, files).callers] == [("kitas_worker", 2)]
    application = start_until_payment(users)
    [incident] = db.session.scalars(select(Incident).where(Incident.application_id == application.id)).all()
    assert (incident.element_id, incident.status) == ("compute_fee", "open")

    files["fees.dmn"] = good.replace("</definitions>", "<!-- fixed --></definitions>")  # new content, same fees
    assert [(c.process_id, c.version) for c in deploy(bpmn, files).callers] == [("kitas_worker", 3)]
    outcome = actions.retry(incident.id, users["admin"])
    assert outcome.went_on and outcome.moved_to == 3 and outcome.error is None
    moved = db.session.get(Application, application.id)
    assert moved is not None and moved.definition.version == 3 and moved.status == "awaiting_payment"
    assert cases.read_runtime(moved).data["fee_amount"] == 1700000
