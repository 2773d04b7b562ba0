"""Stored states of an older format are upgraded explicitly, or refused naming the case; never reset.

The fixture under tests/data/states/ was written by SpiffWorkflow 3.1.2 (serializer 1.4);
tests/data/states/README.md tells how.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from engine import STATE_FORMAT, CaseRuntime, ManualClock, ProcessModel, StateError, parse_process
from engine.serialization import UPGRADES

STATES = Path(__file__).resolve().parents[1] / "data" / "states"
OLD_FORMAT = "kitas-1+spiff-1.4"
FIXTURE = STATES / f"permit_review.{OLD_FORMAT}.json"
REFERENCE = "KITAS-UPG-0001"


@pytest.fixture(scope="module")
def model() -> ProcessModel:
    return parse_process((STATES / "permit_review.bpmn").read_text())


@pytest.fixture()
def old_state() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def restore(model: ProcessModel, state: str, state_format: str = OLD_FORMAT, clock: Any = None) -> CaseRuntime:
    return CaseRuntime.restore(model, state, state_format, REFERENCE, clock or ManualClock())


def test_the_fixture_is_of_the_older_format_and_upgrades_to_the_current_one(old_state: str) -> None:
    assert STATE_FORMAT == "kitas-1+spiff-1.5"
    assert UPGRADES[OLD_FORMAT][0] == STATE_FORMAT
    dct = json.loads(old_state)
    assert "spec" not in dct and dct["subprocesses"], "the fixture is a spec-less state with a subprocess"
    assert all("delta" not in task for task in dct["tasks"].values()), "1.4 stores whole task data"


def test_an_old_state_restores_where_it_waited(model: ProcessModel, old_state: str) -> None:
    runtime = restore(model, old_state)
    [timer] = runtime.pending_timers()
    assert (timer.element_id, timer.due) == ("cooling_off", datetime(2026, 1, 7, 2, 0, tzinfo=UTC))
    assert runtime.status() == "cooling_off"
    assert runtime.ready_user_tasks() == []
    waiting = runtime.workflow.get_task_from_id(UUID(timer.task_id)).data  # inside the subprocess
    assert waiting["fee"] == 4_500_000 and waiting["assessed"] is True and waiting["months"] == 6
    assert runtime.data["received_at"] == datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=7)))
    assert runtime.data["case_key"] == UUID("5b0c7a52-9a8e-4c3e-8c1e-3f1d2b7a6e01")


def test_an_old_state_runs_on_to_its_end(model: ProcessModel, old_state: str) -> None:
    clock = ManualClock()
    runtime = restore(model, old_state, clock=clock)
    [timer] = runtime.pending_timers()
    clock.set(timer.due)
    assert runtime.fire_timer(timer.task_id)
    assert runtime.pending_timers() == []
    assert runtime.data["reviewed"] is True  # the subprocess ran its last script and finished
    assert all(sub.completed for sub in runtime.workflow.subprocesses.values())
    [collect] = runtime.ready_user_tasks()
    assert collect.element_id == "collect" and runtime.status() == "ready_to_collect"
    runtime.complete_user_task(collect.task_id, {"handed_over": True})
    assert runtime.completed and runtime.status() == "issued"
    data = runtime.data
    assert (
        data["full_name"] == "Ana Pereira"
        and data["months"] == 6
        and data["documents"] == ["passport", "sponsor_letter"]
    )
    assert data["fee"] == 4_500_000 and data["handed_over"] is True
    assert data["case_key"] == UUID("5b0c7a52-9a8e-4c3e-8c1e-3f1d2b7a6e01")


def test_an_upgraded_state_is_stored_in_the_current_format(model: ProcessModel, old_state: str) -> None:
    state, state_format = restore(model, old_state).dump()
    assert state_format == STATE_FORMAT
    dct = json.loads(state)
    assert all("delta" in task for task in dct["tasks"].values())
    again = restore(model, state, state_format)
    assert [t.element_id for t in again.pending_timers()] == ["cooling_off"]
    assert again.data == restore(model, old_state).data


@pytest.mark.parametrize("state_format", ["kitas-1+spiff-1.3", "kitas-0+spiff-1.4", "kitas-2+spiff-1.5", ""])
def test_an_unknown_format_is_refused_naming_the_case(model: ProcessModel, old_state: str, state_format: str) -> None:
    with pytest.raises(StateError, match=re.escape(f"case {REFERENCE} has format {state_format!r}, which")):
        restore(model, old_state, state_format)


def _damage_truncated(state: str) -> str:
    return state[: len(state) // 2]


def _damage_unknown_task(state: str) -> str:
    dct = json.loads(state)
    sub = next(iter(dct["subprocesses"].values()))
    next(iter(sub["tasks"].values()))["task_spec"] = "vanished_task"
    return json.dumps(dct)


def _damage_unknown_subprocess(state: str) -> str:
    dct = json.loads(state)
    next(iter(dct["subprocesses"].values()))["spec"] = "vanished_review"
    return json.dumps(dct)


def _damage_no_tasks(state: str) -> str:
    dct = json.loads(state)
    del dct["tasks"]
    return json.dumps(dct)


def _damage_broken_parent(state: str) -> str:
    dct = json.loads(state)
    root = dct["tasks"][dct["root"]]
    root["children"] = ["not-a-uuid"]
    return json.dumps(dct)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_damage_truncated, "is corrupt"),
        (_damage_unknown_task, "cannot be upgraded from kitas-1\\+spiff-1.4: it has a task of 'vanished_task'"),
        (_damage_unknown_subprocess, "cannot be upgraded .*subprocess 'vanished_review'"),
        (_damage_no_tasks, "cannot be upgraded .*no task tree"),
        (_damage_broken_parent, "is corrupt"),
    ],
)
def test_a_damaged_old_state_is_refused_never_reset(
    model: ProcessModel, old_state: str, damage: Any, message: str
) -> None:
    damaged = damage(old_state)
    with pytest.raises(StateError, match=message) as refused:
        restore(model, damaged)
    assert REFERENCE in str(refused.value)


def test_a_case_waiting_at_an_event_based_gateway_is_refused_not_left_stuck() -> None:
    """1.5 moves the wait from the gateway's children to the gateway: the timer row's task would vanish."""
    model = parse_process((STATES / "payment_or_lapse.bpmn").read_text())
    state = (STATES / f"payment_or_lapse.{OLD_FORMAT}.json").read_text(encoding="utf-8")
    waiting = [t["task_spec"] for t in json.loads(state)["tasks"].values() if t["internal_data"].get("kitas_due")]
    assert waiting == ["lapsed"], "in 1.4 the gateway's timer child holds the timer"
    with pytest.raises(StateError, match="cannot be upgraded .*event-based gateway before 'lapsed'") as refused:
        restore(model, state)
    assert REFERENCE in str(refused.value)
    # The same case started today waits at the gateway itself, which is why the 1.4 state cannot be kept as is.
    [timer] = CaseRuntime.start(model, {}, ManualClock()).pending_timers()
    assert timer.element_id == "wait_for_payment"
