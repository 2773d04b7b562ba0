"""Diagrams from other modelers (tests/data/foreign/): what parse_process says of each, in plain words naming
the element, and that the runnable ones run a case to its end (issue 12, importing any BPMN 2.0 file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from engine import CaseRuntime, DiagramError, ManualClock, ProcessModel, decode_bpmn, parse_process, read_process_id

FOREIGN = Path(__file__).resolve().parents[1] / "data" / "foreign"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def text(name: str) -> str:
    """A corpus file as deployment reads it (its bytes decoded as the declaration says, Latin-1 forgiven)."""
    return decode_bpmn((FOREIGN / name).read_bytes())


def problems(name: str, **options: Any) -> list[tuple[str, str]]:
    with pytest.raises(DiagramError) as refused:
        parse_process(text(name), **options)
    return refused.value.problems


class Case:
    """One case of a foreign diagram, stored and restored after every step as the service does."""

    def __init__(self, model: ProcessModel, data: dict[str, Any] | None = None):
        self.model, self.clock = model, ManualClock(START)
        self.keep(CaseRuntime.start(model, data or {}, self.clock))

    def keep(self, runtime: CaseRuntime) -> None:
        self.state, self.format = runtime.dump()

    @property
    def runtime(self) -> CaseRuntime:
        return CaseRuntime.restore(self.model, self.state, self.format, "FOREIGN-1", self.clock)

    def ready(self) -> dict[str, Any]:
        return {t.element_id: t for t in self.runtime.ready_user_tasks()}

    def complete(self, element_id: str, **data: Any) -> None:
        runtime = self.runtime
        [task] = [t for t in runtime.ready_user_tasks() if t.element_id == element_id]
        runtime.complete_user_task(task.task_id, data, performer="tester")
        self.keep(runtime)

    def fire(self, element_id: str) -> None:
        runtime = self.runtime
        [timer] = [t for t in runtime.pending_timers() if t.element_id == element_id]
        self.clock.set(timer.due)
        assert runtime.fire_timer(timer.task_id)
        self.keep(runtime)

    def deliver(self, message: str, **payload: Any) -> None:
        runtime = self.runtime
        runtime.deliver_message(message, payload)
        self.keep(runtime)

    @property
    def ended(self) -> bool:
        runtime = self.runtime
        return runtime.completed and not runtime.ready_user_tasks() and not runtime.pending_timers()


# -- what parse_process says of every file --------------------------------------------------------------------

ACCEPTED = {
    "camunda7_leave_request.bpmn": {},
    "bizagi_subprocess_boundary.bpmn": {},
    "adonis_latin1_manual.bpmn": {},
    "aris_event_subprocess.bpmn": {},
    "call_child.bpmn": {},
    "camunda8_zeebe_order.bpmn": {"require_lanes": False},
    "signavio_collaboration.bpmn": {"process_id": "sid-office-process"},
    "cycle_timer_reminder.bpmn": {},
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_the_runnable_files_are_accepted(name: str) -> None:
    model = parse_process(text(name), **ACCEPTED[name])
    assert model.user_tasks


REFUSED = {
    "camunda7_juel_conditions.bpmn": [
        (
            "Wait_juel",
            "the timer's duration PT1H is read as a Python expression, where it means nothing; "
            'write it in quotes: "PT1H"',
        ),
        (
            "Flow_j3",
            "the condition ${approved} is in another engine's expression language; write it in Python, such as: "
            "approved == True",
        ),
    ],
    "camunda8_service_task.bpmn": [
        (
            "Task_send_mail",
            "the service task names no operator the engine can call (another engine's job worker "
            "would do it); make it a script task, or a user task someone completes",
        ),
    ],
    "camunda8_zeebe_order.bpmn": [
        ("Task_pack", "the task is in no lane, so no role can do it; put it in a lane"),
        ("Task_ship", "the task is in no lane, so no role can do it; put it in a lane"),
    ],
    "signavio_collaboration.bpmn": [
        (
            "(document)",
            "the diagram defines 2 executable processes (sid-applicant-process, sid-office-process); choose one",
        ),
    ],
    "enterprise_architect_data_store.bpmn": [
        (
            "EAID_store_ref",
            "the data store 'National register' has nothing behind it in this engine; remove it and "
            "its associations, and keep what the tasks need in the case data (a form field or a script variable)",
        ),
    ],
    "implicit_split.bpmn": [
        (
            "Task_prepare",
            "2 flows leave the task directly; draw a parallel gateway after it to run the branches "
            "together, or an exclusive gateway with a condition on each flow to take one",
        ),
    ],
    "gateway_without_default.bpmn": [
        (
            "Flow_g3",
            "the flow leaves the gateway Gateway_amount without a condition, and it is not the gateway's "
            "default flow; give it a condition, or make it the default flow",
        ),
    ],
    "empty_time_date.bpmn": [
        ("Timer_appointment", 'the timer\'s date is empty; write one in quotes, such as "2025-01-31T09:00:00+07:00"'),
    ],
    "script_vars_locals.bpmn": [
        ("Script_vars", "Line 1: 'vars' is not available in scripts"),
        ("Script_locals", "Line 1: 'locals' is not available in scripts"),
    ],
    "xsd_error.bpmn": [
        (
            "Flow_x1",
            "line 9: Element 'bpmn:condition': the BPMN 2.0 schema does not allow this element here. "
            "Allowed here: bpmn:documentation, bpmn:extensionElements, bpmn:auditing, bpmn:monitoring, "
            "bpmn:categoryValueRef, bpmn:conditionExpression.",
        ),
    ],
    "call_parent.bpmn": [
        ("Call_child", "the call activity calls call_child, which no diagram of the bundle defines"),
    ],
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_each_refusal_names_the_element_in_plain_words(name: str) -> None:
    found = problems(name)
    assert found == REFUSED[name]
    for _element, message in found:
        assert "<" not in message and "Exception" not in message and "{http" not in message


def test_every_file_of_the_corpus_is_covered() -> None:
    covered = set(ACCEPTED) | set(REFUSED)
    assert covered == {p.name for p in FOREIGN.glob("*.bpmn")}


def test_a_file_with_several_processes_names_them_and_takes_the_one_chosen() -> None:
    collaboration = text("signavio_collaboration.bpmn")
    assert read_process_id(collaboration, "sid-office-process") == "sid-office-process"
    with pytest.raises(DiagramError) as unknown:
        parse_process(collaboration, process_id="sid-nobody")
    assert unknown.value.problems == [
        (
            "(document)",
            "the diagram defines no process sid-nobody (its processes: sid-applicant-process, sid-office-process)",
        )
    ]
    applicant = parse_process(collaboration, process_id="sid-applicant-process")
    assert applicant.process_id == "sid-applicant-process" and applicant.user_tasks == {}


def test_a_process_marked_not_executable_is_refused_even_when_chosen() -> None:
    marked = text("call_child.bpmn").replace('isExecutable="true"', 'isExecutable="false"')
    with pytest.raises(DiagramError) as refused:
        read_process_id(marked)
    assert refused.value.problems == [
        ("(document)", 'no process of the diagram is executable (isExecutable="false"); choose one of: call_child')
    ]
    with pytest.raises(DiagramError) as chosen:
        parse_process(marked, process_id="call_child")
    assert chosen.value.problems == [
        ("call_child", 'the process is marked not executable (isExecutable="false"); remove that to run it')
    ]


def test_a_task_writing_a_data_object_must_set_its_variable() -> None:
    unset = text("bizagi_subprocess_boundary.bpmn").replace('\nId_do_file = {"score": score}', "")
    with pytest.raises(DiagramError) as refused:
        parse_process(unset)
    assert refused.value.problems == [
        (
            "Id_sub_score",
            "the task writes the data object 'Case file', so it must set the variable Id_do_file (in its script or "
            "as a form field); set it, or remove the association",
        )
    ]


def test_latin1_bytes_under_a_utf8_declaration_are_read_as_written() -> None:
    model = parse_process(text("adonis_latin1_manual.bpmn"))
    assert model.name == "Antragsprüfung"
    assert model.user_tasks["ADONIS_task_pruefen"].name == "Unterlagen prüfen (Größe, Gültigkeit)"


def test_a_repeating_timer_is_refused_where_it_cannot_repeat() -> None:
    interrupting = text("cycle_timer_reminder.bpmn").replace('cancelActivity="false"', 'cancelActivity="true"')
    with pytest.raises(DiagramError) as refused:
        parse_process(interrupting)
    assert refused.value.problems == [
        (
            "Timer_remind",
            'the timer repeats ("R3/PT1H"), which only a non-interrupting boundary timer can do (it starts its '
            'branch each time while the task waits); make it one, or give it a duration such as "PT1H"',
        )
    ]


# -- the runnable files run to their end ---------------------------------------------------------------------


def test_camunda_user_tasks_without_forms_are_confirmation_tasks_of_their_lanes() -> None:
    model = parse_process(text("camunda7_leave_request.bpmn"))
    check = model.user_tasks["Task_check"]
    assert (check.lane, check.form_schema, check.kind, check.confirmation) == ("verifier", None, "userTask", True)
    approved = Case(model)
    approved.complete("Task_check")
    assert approved.ready()["Task_approve"].lane == "supervisor"
    approved.complete("Task_approve", approved=True)
    assert approved.ended
    rejected = Case(model)
    rejected.complete("Task_check")
    rejected.complete("Task_approve", approved=False)
    assert rejected.ended


def test_plain_and_manual_tasks_wait_for_someone_and_then_run_on() -> None:
    model = parse_process(text("adonis_latin1_manual.bpmn"))
    assert {e: (i.kind, i.lane) for e, i in model.user_tasks.items()} == {
        "ADONIS_task_pruefen": ("task", "verifier"),
        "ADONIS_manual_stempel": ("manualTask", "verifier"),
    }
    case = Case(model)
    assert list(case.ready()) == ["ADONIS_task_pruefen"]
    case.complete("ADONIS_task_pruefen")
    assert list(case.ready()) == ["ADONIS_manual_stempel"]
    case.complete("ADONIS_manual_stempel")
    assert case.ended


def test_user_tasks_outside_lanes_run_for_whoever_tries_the_version() -> None:
    model = parse_process(text("camunda8_zeebe_order.bpmn"), require_lanes=False)
    assert model.process_id == "zeebe_order" and model.lanes == ()
    case = Case(model)
    assert case.ready()["Task_pack"].lane == ""
    case.complete("Task_pack")
    case.complete("Task_ship")
    assert case.ended


def test_the_chosen_participant_of_a_collaboration_runs_and_receives_its_message() -> None:
    model = parse_process(text("signavio_collaboration.bpmn"), process_id="sid-office-process")
    case = Case(model)
    assert case.ready() == {} and case.runtime.waiting_messages() == ["documents_sent"]
    case.deliver("documents_sent", passport="A1234567")
    assert list(case.ready()) == ["sid-review"]
    case.complete("sid-review")
    assert case.ended


def test_a_subprocess_with_boundary_timers_runs_both_ways() -> None:
    model = parse_process(text("bizagi_subprocess_boundary.bpmn"))
    case = Case(model)
    # The embedded subprocess ran through (its script wrote the data object) before its timer could fire.
    assert case.runtime.data["score"] == 3
    assert set(case.ready()) == {"Id_confirm"}
    assert {t.element_id: t.interrupting for t in case.runtime.pending_timers()} == {"Id_reminder": False}
    case.fire("Id_reminder")  # a day later: the reminder branch ends, the task still waits
    assert set(case.ready()) == {"Id_confirm"}
    case.complete("Id_confirm")
    assert case.ended


def test_an_interrupting_boundary_timer_on_a_subprocess_cuts_it_short() -> None:
    slow = (
        text("bizagi_subprocess_boundary.bpmn")
        .replace(
            '<scriptTask id="Id_sub_score" name="Score the case" scriptFormat="python">',
            '<userTask id="Id_sub_score" name="Score the case">',
        )
        .replace('<script>score = 3\nId_do_file = {"score": score}</script>\n      </scriptTask>', "</userTask>")
    )
    association = '<dataOutputAssociation id="Id_doa_1">\n          <targetRef>Id_dor_file</targetRef>\n'
    slow = slow.replace(association + "        </dataOutputAssociation>", "")
    case = Case(parse_process(slow))
    assert set(case.ready()) == {"Id_sub_score"}
    assert case.runtime.pending_timers()[0].due == START + timedelta(days=2)
    case.fire("Id_timeout")
    assert case.ended and case.runtime.data.get("score") is None


def test_an_event_subprocess_runs_on_its_message_while_the_case_goes_on() -> None:
    case = Case(parse_process(text("aris_event_subprocess.bpmn")))
    assert list(case.ready()) == ["ARIS_decide"]
    case.deliver("address_changed", street="Jl. Sudirman 1")
    assert list(case.ready()) == ["ARIS_decide"]
    case.complete("ARIS_decide")
    assert case.runtime.completed


def test_a_call_activity_into_another_file_runs_the_called_process() -> None:
    model = parse_process(text("call_parent.bpmn"), called={"call_child.bpmn": text("call_child.bpmn")})
    assert model.calls == {"Call_child": "call_child"}
    case = Case(model)
    assert list(case.ready()) == ["Manual_child"]
    case.complete("Manual_child")
    assert case.runtime.data["filed"] is True
    case.complete("Task_after_call")
    assert case.ended


def test_a_cycle_timer_fires_its_rounds_an_interval_apart_then_stops() -> None:
    case = Case(parse_process(text("cycle_timer_reminder.bpmn")))
    seen = []
    for _round in range(3):
        [timer] = case.runtime.pending_timers()
        assert (timer.element_id, timer.interrupting, timer.attached_to) == ("Timer_remind", False, "Task_wait_reply")
        seen.append((timer.task_id, timer.due))
        case.fire("Timer_remind")
        assert list(case.ready()) == ["Task_wait_reply"]  # the task still waits while the reminders run
    assert [due for _id, due in seen] == [START + timedelta(hours=hours) for hours in (1, 2, 3)]
    assert len({task_id for task_id, _due in seen}) == 3  # one timer row per round in the projections
    assert case.runtime.pending_timers() == []
    runs = [t for t in case.runtime.workflow.get_tasks() if t.task_spec.name == "Task_count"]
    assert len(runs) == 3
    runtime = case.runtime
    assert runtime.fire_timer(seen[0][0]) is False  # a round already fired does not fire again
    case.complete("Task_wait_reply")
    assert case.ended


def test_a_cycle_timer_stops_when_its_task_is_done() -> None:
    case = Case(parse_process(text("cycle_timer_reminder.bpmn")))
    case.fire("Timer_remind")
    case.complete("Task_wait_reply")
    assert case.ended
    assert len([t for t in case.runtime.workflow.get_tasks() if t.task_spec.name == "Task_count"]) == 1


def test_a_timer_in_another_engine_s_expression_language_is_named_with_the_python_to_write() -> None:
    timer = text("camunda7_juel_conditions.bpmn").replace("PT1H</bpmn:timeDuration>", "${reminder}</bpmn:timeDuration>")
    with pytest.raises(DiagramError) as refused:
        parse_process(timer)
    assert refused.value.problems[0] == (
        "Wait_juel",
        "the timer's duration ${reminder} is in another engine's expression language; write it in Python: "
        'a quoted text such as "P5D", or the name of a variable that holds one',
    )


def test_a_collaboration_whose_other_pool_is_not_executable_needs_no_choice() -> None:
    marked = text("signavio_collaboration.bpmn").replace(
        'id="sid-applicant-process" name="Applicant"',
        'id="sid-applicant-process" name="Applicant" isExecutable="false"',
    )
    assert read_process_id(marked) == "sid-office-process"
    assert parse_process(marked).process_id == "sid-office-process"
