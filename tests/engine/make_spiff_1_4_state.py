"""Write stored states of two cases as the engine wrote them on SpiffWorkflow 3.1.2 (format 1.4).

Run it with a Python whose SpiffWorkflow is 3.1.2 (see tests/data/states/README.md); it is not part of the suite.
It mirrors what the engine did on that release: the spec-less workflow converter, timers armed from
the engine's clock with Spiff's own value parked far in the future, and the state dumped as 3.1.2's
``serialize_json`` did (``to_dict`` then plain ``json.dumps``), without the version key.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

HERE = Path(__file__).resolve().parents[1] / "data" / "states"
NOW = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)  # ManualClock's default start
PARKED = "9999-12-31T23:59:59+00:00"


class SpeclessWorkflowConverter(BpmnWorkflowConverter):
    """The engine's converter of that time: the workflow without its specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def arm_timers(workflow: BpmnWorkflow) -> None:
    """Record each new timer's due time from NOW and park Spiff's wall-clock value, as the engine did."""
    for task in workflow.get_tasks(state=TaskState.WAITING, spec_class=CatchingEvent):
        definition = task.task_spec.event_definition
        if not isinstance(definition, TimerEventDefinition) or task._get_internal_data("kitas_due"):
            continue
        duration = TimerEventDefinition.parse_iso_duration(workflow.script_engine.evaluate(task, definition.expression))
        due = NOW + TimerEventDefinition.get_timedelta_from_start(duration, NOW)
        task._set_internal_data(kitas_due=due.isoformat(), event_value=PARKED)


def start(process_id: str) -> BpmnWorkflow:
    """A new workflow of the diagram ``process_id``.bpmn beside the fixtures."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(HERE / f"{process_id}.bpmn"))
    return BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))


def write(workflow: BpmnWorkflow, process_id: str) -> None:
    """Dump ``workflow`` as the engine stored it and write it as the fixture of ``process_id``."""
    serializer = BpmnWorkflowSerializer(
        BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: SpeclessWorkflowConverter})
    )
    state = json.dumps(serializer.to_dict(workflow), indent=1)
    (HERE / f"{process_id}.kitas-1+spiff-{VERSION}.json").write_text(state + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {process_id}: {len(state)} characters of format kitas-1+spiff-{VERSION}\n")


def permit_review() -> None:
    """Run a permit_review case to its timer inside the review subprocess."""
    workflow = start("permit_review")
    start_data = {
        "reference": "KITAS-UPG-0001",
        "received_at": datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=7))),
        "case_key": UUID("5b0c7a52-9a8e-4c3e-8c1e-3f1d2b7a6e01"),
    }
    workflow.task_tree.data.update(start_data)
    for task in workflow.get_tasks(state=TaskState.READY):
        task.data.update(start_data)
    workflow.do_engine_steps()
    arm_timers(workflow)
    apply = next(t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == "apply")
    apply.set_data(months=6, full_name="Ana Pereira", documents=["passport", "sponsor_letter"])
    apply.run()
    workflow.do_engine_steps()
    arm_timers(workflow)
    write(workflow, "permit_review")


def payment_or_lapse() -> None:
    """Run a payment_or_lapse case to its event-based gateway (waiting for a message or a timer)."""
    workflow = start("payment_or_lapse")
    workflow.do_engine_steps()
    arm_timers(workflow)
    write(workflow, "payment_or_lapse")


def main() -> None:
    """Write every fixture of format 1.4."""
    assert VERSION == "1.4", f"this recipe needs SpiffWorkflow 3.1.x (serializer 1.4), not {VERSION}"
    permit_review()
    payment_or_lapse()


if __name__ == "__main__":
    main()
