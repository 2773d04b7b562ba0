"""A step whose script, condition or decision table fails or hits its limit leaves the case as it was.

The worker diagram is deployed again with one piece of code made hostile; a case on that version is
driven through the service layer up to the step that runs it. The step fails with a ServiceError whose
cause is the ScriptError naming the element; the case row (version, state, status), its open tasks and
its audit trail are exactly what they were before; the next steps of other cases still run.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine import ScriptError
from kitas.extensions import db
from kitas.models import Application, AuditEvent, HumanTask, ProcessDefinition
from kitas.services import cases
from kitas.services.deployments import collect_files, deploy, deploy_path
from kitas.services.errors import DeploymentRefused, ServiceError
from tests.conftest import ROOT
from tests.services.helpers import complete

WORKER = ROOT / "bpmn" / "kitas_worker.bpmn"
FORMS = ROOT / "forms" / "schemas"
CONFIRM = 'sponsor_decision == "confirm"'
ENDLESS = "sum(1 for i in range(100000) for j in range(100000)) > 0"


def _snapshot(application_id: int) -> dict[str, Any]:
    """Everything a failed step must not have changed, read fresh from the database."""
    db.session.rollback()
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert application is not None
    tasks = db.session.execute(
        select(HumanTask.task_id, HumanTask.element_id, HumanTask.claimed_by_id).where(
            HumanTask.application_id == application_id
        )
    ).all()
    audits = db.session.scalar(select(func.count()).where(AuditEvent.application_id == application_id))
    return {
        "version": application.version,
        "status": application.status,
        "status_detail": application.status_detail,
        "state": application.workflow_state,
        "audit": (application.audit_seq, application.audit_hash, audits),
        "tasks": sorted(tasks),
    }


def _hostile_version(old: str, new: str, *, in_file: str | None = None) -> None:
    """Deploy the worker diagram again with ``old`` replaced by ``new`` in the diagram or one of its files."""
    bpmn, files = collect_files(WORKER, FORMS)
    if in_file is None:
        assert old in bpmn
        bpmn = bpmn.replace(old, new)
    else:
        assert old in files[in_file]
        files[in_file] = files[in_file].replace(old, new)
    assert deploy(bpmn, files, actor="analyst").version == 2


def _up_to_sponsor(users: dict[str, Any]) -> Application:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    return complete(application.id, "employment_data", users["applicant"])


@pytest.mark.parametrize(
    ("old", "new", "in_file", "element", "limit", "message"),
    [
        (CONFIRM, f"{CONFIRM} and {ENDLESS}", None, "gw_sponsor", "cpu", "s of CPU time"),
        (CONFIRM, f'{CONFIRM} and len("a".ljust(10**9)) > 0', None, "gw_sponsor", "memory", "MB of memory"),
        (CONFIRM, f"{CONFIRM} and (lambda f: f(f))(lambda f: f(f))", None, "gw_sponsor", None, "RecursionError"),
    ],
    ids=["cpu", "memory", "recursion"],
)
def test_a_condition_that_hits_its_limit_leaves_the_case_unchanged(
    worker: int,
    users: dict[str, Any],
    old: str,
    new: str,
    in_file: str | None,
    element: str,
    limit: str | None,
    message: str,
) -> None:
    _hostile_version(old, new.replace('"', "&quot;") if in_file is None else new, in_file=in_file)
    application = _up_to_sponsor(users)
    before = _snapshot(application.id)
    with pytest.raises(ServiceError) as failed:
        complete(application.id, "sponsor_confirmation", users["sponsor"])
    cause = failed.value.__cause__
    assert isinstance(cause, ScriptError)
    assert (cause.element_id, cause.limit) == (element, limit)
    assert message in cause.detail and element in str(failed.value)
    assert _snapshot(application.id) == before
    # The case can be read, and another case on the first version goes on: the workers serve again.
    assert cases.read_runtime(db.session.get(Application, application.id)).ready_user_tasks()


def test_a_decision_table_result_that_cannot_be_stored_fails_the_step_and_keeps_the_case(
    worker: int, users: dict[str, Any]
) -> None:
    _hostile_version("<text>1700000</text>", "<text>(n for n in range(3))</text>", in_file="fees.dmn")
    application = _up_to_sponsor(users)
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    before = _snapshot(application.id)
    with pytest.raises(ServiceError) as failed:
        complete(application.id, "document_checklist", users["applicant"])
    cause = failed.value.__cause__
    assert isinstance(cause, ScriptError) and cause.element_id == "compute_fee"
    assert "the result holds a generator, which cannot be stored" in cause.detail
    assert _snapshot(application.id) == before


def test_after_a_stopped_step_the_next_steps_of_other_cases_run(worker: int, users: dict[str, Any]) -> None:
    good = _up_to_sponsor(users)  # on version 1
    _hostile_version(CONFIRM, f"{CONFIRM} and {ENDLESS}")
    bad = _up_to_sponsor(users)  # on version 2
    with pytest.raises(ServiceError):
        complete(bad.id, "sponsor_confirmation", users["sponsor"])
    after = complete(good.id, "sponsor_confirmation", users["sponsor"])
    assert after.status == _snapshot(good.id)["status"]
    assert {t.element_id for t in db.session.scalars(select(HumanTask).where(HumanTask.application_id == good.id))} == {
        "document_checklist"
    }


@pytest.mark.parametrize(
    ("old", "new", "in_file", "element", "message"),
    [
        (CONFIRM, 'open("/etc/passwd") != None', None, "gw_sponsor", "'open' is not available in scripts"),
        (
            "interview_required = False",
            'interview_required = getattr(sla_escalations, "count")',
            None,
            "init_case",
            "'getattr' is not available in scripts",
        ),
        ('"P7D"', "iso_days(len(vars()))", None, "payment_deadline", "'vars' is not available in scripts"),
        (
            "<text>1700000</text>",
            "<text>type(1)</text>",
            "fees.dmn",
            "rule_up_to_12_months_output",
            "'type' is not available in scripts",
        ),
        (
            "<text>6 &lt; ? &lt;= 12</text>",
            "<text>6 &lt; ? &lt;= len(globals())</text>",
            "fees.dmn",
            "rule_up_to_12_months_input",
            "'globals' is not available in scripts",
        ),
    ],
    ids=["condition", "script", "timer", "dmn-output", "dmn-input"],
)
def test_forbidden_names_are_refused_by_the_deployment_service(
    worker: int, old: str, new: str, in_file: str | None, element: str, message: str
) -> None:
    bpmn, files = collect_files(WORKER, FORMS)
    if in_file is None:
        assert old in bpmn
        bpmn = bpmn.replace(old, new.replace('"', "&quot;"), 1)
    else:
        assert old in files[in_file]
        files[in_file] = files[in_file].replace(old, new)
    with pytest.raises(DeploymentRefused) as refused:
        deploy(bpmn, files, actor="analyst")
    matching = [(e, m) for e, m in refused.value.problems if message in m]
    assert [e for e, _ in matching] == [element], refused.value.problems
    assert db.session.scalar(select(func.count()).select_from(ProcessDefinition)) == 1


def test_the_repository_diagrams_still_deploy(ctx: Any) -> None:
    assert deploy_path(WORKER, FORMS).version == 1


def test_the_application_sets_the_script_limits_from_its_configuration(app: Any) -> None:
    from engine import ScriptLimits
    from engine.script_pool import current_limits

    assert app.config["KITAS_SCRIPT_CPU_SECONDS"] == 0.25  # tests/conftest.py
    assert current_limits() == ScriptLimits(cpu_seconds=0.25, memory_mb=64, workers=2)
