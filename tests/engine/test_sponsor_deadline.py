"""The sponsor's 14-day deadline of the worker diagram at engine level, restoring between steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import ManualClock, ProcessModel, TaskNotReady
from tests.engine.test_worker_paths import Case, model  # noqa: F401  (the module's fixture)


@pytest.fixture()
def case(model: ProcessModel) -> Case:  # noqa: F811
    return Case(model, ManualClock())


def _waiting_for_sponsor(case: Case) -> None:
    case.complete("applicant_data")
    case.complete("employment_data")
    assert case.ready() == ["sponsor_confirmation"] and case.status() == "awaiting_sponsor"


def test_the_sponsor_step_waits_fourteen_days_then_the_case_expires(case: Case) -> None:
    _waiting_for_sponsor(case)
    timer = case.timers()["sponsor_deadline"]
    assert timer.attached_to == "sponsor_confirmation" and timer.interrupting
    assert timer.due - case.clock.now() == timedelta(days=14)
    # The state is stored and restored between the timer being armed and firing, as the service does.
    restored = case.runtime
    assert [t.element_id for t in restored.pending_timers()] == ["sponsor_deadline"]
    assert case.fire("sponsor_deadline") is True
    runtime = case.runtime
    assert runtime.completed and runtime.status() == "expired"
    assert runtime.ready_user_tasks() == [] and runtime.pending_timers() == []


def test_a_sponsor_answering_in_time_cancels_the_deadline(case: Case) -> None:
    _waiting_for_sponsor(case)
    case.complete("sponsor_confirmation")
    assert "sponsor_deadline" not in case.timers() and case.status() == "awaiting_documents"


def test_the_sponsor_address_can_be_corrected_while_the_step_waits(case: Case) -> None:
    _waiting_for_sponsor(case)
    runtime = case.runtime
    [task] = runtime.ready_user_tasks()
    runtime.correct_waiting_data(task.task_id, {"sponsor_email": "right@employer.co.id"})
    case.store(runtime)
    restored = case.runtime
    assert restored.data["sponsor_email"] == "right@employer.co.id"
    assert restored.task_data(task.task_id)["sponsor_email"] == "right@employer.co.id"
    assert "sponsor_deadline" in case.timers()  # the deadline keeps running
    case.complete("sponsor_confirmation")
    assert case.data()["sponsor_email"] == "right@employer.co.id"
    with pytest.raises(TaskNotReady):
        case.runtime.correct_waiting_data(task.task_id, {"sponsor_email": "late@employer.co.id"})
