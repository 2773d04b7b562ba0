"""A step whose script, condition or decision table fails or hits its limit changes nothing it computed.

The worker diagram is deployed again with one piece of code made hostile; a case on that version is
driven through the service layer up to the step that runs it. The person's submission is kept (the
form's task completes), the hostile element waits in ERROR with one incident naming it and its limit,
nothing the hostile code produced reaches the stored case, the stored state restores, and the next
steps of other cases still run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, HumanTask, Incident, ProcessDefinition
from kitas.services import cases
from kitas.services.deployments import collect_files, deploy, deploy_path
from kitas.services.errors import DeploymentRefused
from tests.conftest import ROOT, deploy_shared_steps
from tests.services.helpers import complete

WORKER = ROOT / "bpmn" / "kitas_worker.bpmn"
PAYMENT = ROOT / "bpmn" / "shared" / "shared_payment.bpmn"
FORMS = ROOT / "forms" / "schemas"
CONFIRM = 'sponsor_decision == "confirm"'
ENDLESS = "sum(1 for i in range(100000) for j in range(100000)) > 0"


def _stored(application_id: int) -> Application:
    db.session.rollback()
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None
    return application


def _open_tasks(application_id: int) -> list[str]:
    return sorted(db.session.scalars(select(HumanTask.element_id).where(HumanTask.application_id == application_id)))


def _hostile_version(old: str, new: str, *, in_file: str | None = None) -> None:
    """Deploy the worker diagram again with ``old`` replaced by ``new`` in the diagram or one of its files;
    the fee table is the shared payment step's: deploying that step again makes worker version 2."""
    bpmn, files = collect_files(PAYMENT if in_file == "fees.dmn" else WORKER, FORMS)
    if in_file is None:
        assert old in bpmn
        bpmn = bpmn.replace(old, new)
    else:
        assert old in files[in_file]
        files[in_file] = files[in_file].replace(old, new)
    result = deploy(bpmn, files, actor="analyst")
    worker = result if result.process_id == "kitas_worker" else next(c for c in result.callers)
    assert (worker.process_id, worker.version) == ("kitas_worker", 2)


def _up_to_sponsor(users: dict[str, Any]) -> Application:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    return complete(application.id, "employment_data", users["applicant"])


@pytest.mark.parametrize(
    ("old", "new", "element", "limit", "message"),
    [
        (CONFIRM, f"{CONFIRM} and {ENDLESS}", "gw_sponsor", "cpu", "s of CPU time"),
        (CONFIRM, f'{CONFIRM} and len("a".ljust(10**9)) > 0', "gw_sponsor", "memory", "MB of memory"),
        (CONFIRM, f"{CONFIRM} and (lambda f: f(f))(lambda f: f(f))", "gw_sponsor", None, "RecursionError"),
    ],
    ids=["cpu", "memory", "recursion"],
)
def test_a_condition_that_hits_its_limit_keeps_the_submission_and_waits_as_an_incident(
    worker: int, users: dict[str, Any], old: str, new: str, element: str, limit: str | None, message: str
) -> None:
    _hostile_version(old, new.replace('"', "&quot;"))
    application = _up_to_sponsor(users)
    before = _stored(application.id)
    version, status, data_before = before.version, before.status, dict(cases.read_runtime(before).data)
    complete(application.id, "sponsor_confirmation", users["sponsor"], sponsor_decision="confirm")
    after = _stored(application.id)
    assert after.version == version + 1 and after.status == status  # saved, not half-written
    assert _open_tasks(application.id) == []  # the case waits on the stopped condition, nothing else
    runtime = cases.read_runtime(after)  # the stored state restores
    [failed] = runtime.failed_steps()
    assert failed.element_id == element
    assert runtime.data["sponsor_decision"] == "confirm"  # what the sponsor answered is kept
    assert {k: v for k, v in runtime.data.items() if k != "sponsor_decision"} == {
        k: v for k, v in data_before.items() if k != "sponsor_decision"
    }
    [incident] = db.session.scalars(select(Incident).where(Incident.application_id == application.id)).all()
    assert (incident.element_id, incident.kind) == (element, "time_limit" if limit else "script_error")
    assert message in incident.error


def test_a_decision_table_result_that_cannot_be_stored_stores_nothing_of_it(worker: int, users: dict[str, Any]) -> None:
    _hostile_version("<text>1700000</text>", "<text>(n for n in range(3))</text>", in_file="fees.dmn")
    application = _up_to_sponsor(users)
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    complete(application.id, "document_checklist", users["applicant"])
    runtime = cases.read_runtime(_stored(application.id))
    [failed] = runtime.failed_steps()
    assert failed.element_id == "compute_fee"
    assert "fee" not in runtime.data  # the generator never reached the task data
    [incident] = db.session.scalars(select(Incident).where(Incident.application_id == application.id)).all()
    assert incident.element_id == "compute_fee"
    assert "the result holds a generator, which cannot be stored" in incident.error


def test_after_a_stopped_step_the_next_steps_of_other_cases_run(worker: int, users: dict[str, Any]) -> None:
    good = _up_to_sponsor(users)  # on version 1
    _hostile_version(CONFIRM, f"{CONFIRM} and {ENDLESS}")
    bad = _up_to_sponsor(users)  # on version 2
    complete(bad.id, "sponsor_confirmation", users["sponsor"])
    assert [f.element_id for f in cases.read_runtime(_stored(bad.id)).failed_steps()] == ["gw_sponsor"]
    complete(good.id, "sponsor_confirmation", users["sponsor"])
    assert _open_tasks(good.id) == ["document_checklist"]
    assert cases.read_runtime(_stored(good.id)).failed_steps() == []


@pytest.mark.parametrize(
    ("diagram", "old", "new", "in_file", "element", "message"),
    [
        (WORKER, CONFIRM, 'open("/etc/passwd") != None', None, "gw_sponsor", "'open' is not available in scripts"),
        (
            WORKER,
            "interview_required = False",
            'interview_required = getattr(sla_escalations, "count")',
            None,
            "init_case",
            "'getattr' is not available in scripts",
        ),
        (PAYMENT, '"P7D"', "iso_days(len(vars()))", None, "payment_deadline", "'vars' is not available in scripts"),
        (
            PAYMENT,
            "<text>1700000</text>",
            "<text>type(1)</text>",
            "fees.dmn",
            "rule_worker_12_output",
            "'type' is not available in scripts",
        ),
        (
            PAYMENT,
            "<text>12</text>",
            "<text>len(globals())</text>",
            "fees.dmn",
            "rule_worker_12_duration",
            "'globals' is not available in scripts",
        ),
    ],
    ids=["condition", "script", "timer", "dmn-output", "dmn-input"],
)
def test_forbidden_names_are_refused_by_the_deployment_service(
    worker: int, diagram: Path, old: str, new: str, in_file: str | None, element: str, message: str
) -> None:
    before = db.session.scalar(select(func.count()).select_from(ProcessDefinition))
    bpmn, files = collect_files(diagram, FORMS)
    if in_file is None:
        assert old in bpmn
        bpmn = bpmn.replace(old, new.replace('"', "&quot;"), 1)
    else:
        assert old in files[in_file]
        files[in_file] = files[in_file].replace(old, new, 1)
    with pytest.raises(DeploymentRefused) as refused:
        deploy(bpmn, files, actor="analyst")
    matching = [(e, m) for e, m in refused.value.problems if message in m]
    assert [e for e, _ in matching] == [element], refused.value.problems
    assert db.session.scalar(select(func.count()).select_from(ProcessDefinition)) == before


def test_the_repository_diagrams_still_deploy(ctx: Any) -> None:
    assert [r.version for r in deploy_shared_steps()] == [1] * 5
    assert deploy_path(WORKER, FORMS).version == 1


def test_the_application_sets_the_script_limits_from_its_configuration(app: Any, tmp_path: Any) -> None:
    """Each application configures the script workers from its own settings (the suite's session app, the
    browser tests' live server and the CLI's apps each do, so the test makes its own and puts back the
    limits it found)."""
    from app import create_app
    from engine import ScriptLimits, configure_scripts
    from engine.script_pool import current_limits

    assert app.config["KITAS_SCRIPT_CPU_SECONDS"] == 0.25  # tests/conftest.py
    before = current_limits()
    try:
        create_app(
            {
                "SECRET_KEY": "x",
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'limits.db'}",
                "KITAS_SCRIPT_CPU_SECONDS": 0.4,
                "KITAS_SCRIPT_MEMORY_MB": 96,
                "KITAS_SCRIPT_WORKERS": 1,
            }
        )
        assert current_limits() == ScriptLimits(cpu_seconds=0.4, memory_mb=96, workers=1)
    finally:
        configure_scripts(before)
