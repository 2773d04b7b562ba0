"""The sandboxed script environment: ordinary scripts work, escape attempts are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.clock import ManualClock
from engine.errors import ScriptError
from engine.sandbox import (
    HELPERS,
    SandboxEnvironment,
    add_days,
    add_months,
    days_between,
    fee_lookup,
    iso_days,
    make_script_engine,
    parse_date,
    round_rupiah,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def env() -> SandboxEnvironment:
    """A sandbox whose clock stands at 2026-01-05 02:00 UTC (09:00 in Jakarta)."""
    return SandboxEnvironment(ManualClock())


def run(env: SandboxEnvironment, script: str, **data: Any) -> dict[str, Any]:
    """Execute ``script`` on a task-data dict built from ``data`` and return that dict."""
    env.execute(script, data)
    return data


# ---------------------------------------------------------------- ordinary code works


def test_fee_arithmetic_and_ordinary_python(env: SandboxEnvironment) -> None:
    script = """
fee_amount = round_rupiah(base_fee * 1.1)
count = 0
for item in items:
    count += 1
count *= 10
count -= 5
squares = [n * n for n in range(4)]
by_name = {name.strip().upper(): len(name.strip()) for name in names}
if fee_amount > 1000000:
    level = "high"
else:
    level = "low"
sponsor = applicant.get("sponsor", "none")
first, second = names[0].strip(), names[1].strip()
applicant["checked"] = True
items.append(4)
label = f"{level}-{count}"
"""
    data = run(env, script, base_fee=1_000_000, items=[1, 2, 3], names=[" ana ", "budi"], applicant={"name": "Ana"})
    assert data["fee_amount"] == 1_100_000
    assert data["count"] == 25
    assert data["squares"] == [0, 1, 4, 9]
    assert data["by_name"] == {"ANA": 3, "BUDI": 4}
    assert data["level"] == "high"
    assert data["sponsor"] == "none"
    assert (data["first"], data["second"]) == ("ana", "budi")
    assert data["applicant"] == {"name": "Ana", "checked": True}
    assert data["items"] == [1, 2, 3, 4]
    assert data["label"] == "high-25"


def test_date_helpers_in_scripts(env: SandboxEnvironment) -> None:
    data = run(
        env,
        "due = add_days(start, 7)\nwait = days_between(start, '2026-02-04')\nrenewal = add_months(start, 12)",
        start="2026-01-05",
    )
    assert data == {"start": "2026-01-05", "due": "2026-01-12", "wait": 30, "renewal": "2027-01-05"}


def test_helpers_directly() -> None:
    assert add_days(date(2026, 1, 5), 7) == "2026-01-12"
    assert add_days("2026-01-05T23:30:00+07:00", 1) == "2026-01-06"
    assert add_months("2026-01-31", 1) == "2026-02-28"
    assert add_months("2028-01-31", 1) == "2028-02-29"
    assert add_months("2026-03-15", -3) == "2025-12-15"
    assert days_between("2026-01-12", "2026-01-05") == -7
    assert parse_date("2026-01-05") == date(2026, 1, 5)
    assert round_rupiah(1_100_000.0000000002) == 1_100_000
    assert round_rupiah(2500) == 3000  # half up, not banker's rounding
    assert round_rupiah(1499) == 1000
    assert round_rupiah(1250, step=500) == 1500
    assert iso_days(7) == "P7D"
    assert fee_lookup({"6": 1_000_000, "12": 1_500_000}, 7) == 1_500_000
    assert fee_lookup({"6": 1_000_000, "12": 1_500_000}, 6) == 1_000_000
    assert fee_lookup({12: 1_500_000, 6: 1_000_000}, 1) == 1_000_000
    assert set(HELPERS) == {
        "parse_date",
        "add_days",
        "add_months",
        "days_between",
        "round_rupiah",
        "fee_lookup",
        "iso_days",
    }


def test_fee_lookup_beyond_every_bound_is_a_clear_error(env: SandboxEnvironment) -> None:
    assert env.evaluate('fee_lookup({"6": 1000000, "12": 1500000}, 7)', {}) == 1_500_000
    with pytest.raises(ScriptError, match="13 months exceeds every bound.*largest is 12"):
        env.evaluate('fee_lookup({"6": 1000000, "12": 1500000}, 13)', {})


def test_today_and_now_come_from_the_clock_in_jakarta() -> None:
    clock = ManualClock(datetime(2026, 1, 5, 20, 30, tzinfo=UTC))
    env = SandboxEnvironment(clock)
    assert env.evaluate("today()", {}) == "2026-01-06"
    assert env.evaluate("now()", {}) == "2026-01-06T03:30:00+07:00"
    assert env.evaluate("add_days(today(), 30)", {}) == "2026-02-05"


def test_assigning_and_deleting_variables_reaches_the_context(env: SandboxEnvironment) -> None:
    data = {"a": 1, "b": 2, "keep": "x"}
    env.execute("c = a + b\ndel b\na = 10", data)
    assert data == {"a": 10, "c": 3, "keep": "x"}


def test_nothing_but_data_leaks_into_the_context(env: SandboxEnvironment) -> None:
    script = """
def double(n):
    return n * 2
twice = double(fee)
check = lambda v: v > 0
for _ in range(3):
    pass
due = add_days(today(), 1)
kind = str
"""
    data = run(env, script, fee=5)
    assert data == {"fee": 5, "twice": 10, "due": "2026-01-06"}


def test_failed_script_leaves_variables_unchanged(env: SandboxEnvironment) -> None:
    data = {"a": 1}
    with pytest.raises(ScriptError, match="Line 2: ZeroDivisionError"):
        env.execute("a = 2\nb = 1 / 0", data)
    assert data == {"a": 1}


def test_dates_become_iso_text_in_the_task_data(env: SandboxEnvironment) -> None:
    received = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    data = run(env, 'start = parse_date("2026-01-05")\nboth = [start, received]\nsame = received', received=received)
    assert data == {
        "received": "2026-01-05T09:30:00+00:00",
        "start": "2026-01-05",
        "both": ["2026-01-05", "2026-01-05T09:30:00+00:00"],
        "same": "2026-01-05T09:30:00+00:00",
    }
    assert env.evaluate('parse_date("2026-01-05")', {}) == "2026-01-05"


def test_a_value_that_cannot_be_stored_fails_the_script_and_changes_nothing(env: SandboxEnvironment) -> None:
    data: dict[str, Any] = {"a": 1}
    with pytest.raises(ScriptError) as refused:
        env.execute("a = 2\nseen = {a, 3}", data)
    assert refused.value.variable == "seen"
    assert "the variable 'seen' holds a set, which cannot be stored in the case data" in refused.value.detail
    assert data == {"a": 1}


def test_only_the_variables_a_script_names_travel_to_it(env: SandboxEnvironment) -> None:
    data: dict[str, Any] = {"a": 1, "legacy": {1, 2}}  # not JSON, but this script never names it
    env.execute("b = a + 1", data)
    assert data == {"a": 1, "legacy": {1, 2}, "b": 2}
    with pytest.raises(ScriptError, match="the variable 'legacy' holds a set"):
        env.execute("c = len(legacy)", data)
    assert "c" not in data


def test_gateway_conditions_and_timer_expressions(env: SandboxEnvironment) -> None:
    assert env.evaluate('decision == "approve"', {"decision": "approve"}) is True
    assert env.evaluate('decision == "approve"', {"decision": "reject"}) is False
    assert env.evaluate("\n  total >= 1500000\n", {"total": 1_500_000}) is True
    assert env.evaluate('"P7D"', {}) == "P7D"
    assert env.evaluate("iso_days(wait_days)", {"wait_days": 14}) == "P14D"
    with pytest.raises(ScriptError, match="NameError: name 'decision' is not defined"):
        env.evaluate('decision == "approve"', {})


def test_external_context_is_visible_but_not_stored(env: SandboxEnvironment) -> None:
    assert env.evaluate("dmninputexpr <= 6", {}, {"dmninputexpr": 6}) is True
    data = {"x": 1}
    env.execute("y = dmninputexpr + x", data, {"dmninputexpr": 5})
    assert data == {"x": 1, "y": 6}


def test_task_data_shadows_helpers_and_underscore_keys_stay_hidden(env: SandboxEnvironment) -> None:
    assert env.evaluate("today", {"today": "data wins"}) == "data wins"
    data = {"_internal": "secret", "a": 1}
    env.execute("a = 2", data)
    assert data == {"_internal": "secret", "a": 2}


def test_make_script_engine_uses_the_sandbox() -> None:
    clock = ManualClock()
    engine = make_script_engine(clock)
    assert isinstance(engine, PythonScriptEngine)
    assert isinstance(engine.environment, SandboxEnvironment)
    assert engine.environment.clock is clock


# ---------------------------------------------------------------- escape attempts

ESCAPES = [
    ("().__class__.__bases__[0].__subclasses__()", "names starting with '_' are not allowed: __class__"),
    ("[].__class__.__mro__", "names starting with '_' are not allowed: __class__"),
    ('"{0.__class__}".format(1)', "attribute 'format' is not allowed"),
    ('"{x.__class__.__base__}".format_map({"x": 1})', "attribute 'format_map' is not allowed"),
    ("(x for x in []).gi_frame.f_globals", "attribute 'gi_frame' is not allowed"),
    ("(lambda: 0).__globals__", "names starting with '_' are not allowed: __globals__"),
    ('__import__("os")', "names starting with '_' are not allowed: __import__"),
    ("import os", "imports are not allowed in scripts"),
    ("from os import path", "imports are not allowed in scripts"),
    ('open("/etc/passwd")', "'open' is not available in scripts"),
    ('eval("1")', "'eval' is not available in scripts"),
    ('exec("x=1")', "'exec' is not available in scripts"),
    ('compile("1", "", "eval")', "'compile' is not available in scripts"),
    ("globals()", "'globals' is not available in scripts"),
    ("locals()", "'locals' is not available in scripts"),
    ("vars()", "'vars' is not available in scripts"),
    ("dir()", "'dir' is not available in scripts"),
    ('getattr(1, "__class__")', "'getattr' is not available in scripts"),
    ('setattr(add_days, "x", 1)', "'setattr' is not available in scripts"),
    ("type(1)", "'type' is not available in scripts"),
    ("object", "'object' is not available in scripts"),
    ("input()", "'input' is not available in scripts"),
    ("help()", "'help' is not available in scripts"),
    ("breakpoint()", "'breakpoint' is not available in scripts"),
    ('print("hi")', "'print' is not available in scripts"),
    ("__builtins__", "names starting with '_' are not allowed: __builtins__"),
    ("_getattr_", "names starting with '_' are not allowed: _getattr_"),
    ("[c for c in ().__class__.__base__.__subclasses__()]", "not allowed: __class__"),
    ("__name__ = 1", "names starting with '_' are not allowed: __name__"),
    (
        "class Meta(type):\n    pass\nclass Evil(metaclass=Meta):\n    pass",
        "class definitions are not allowed in scripts",
    ),
    ('f"{().__class__}"', "names starting with '_' are not allowed: __class__"),
    ("add_days.__globals__", "names starting with '_' are not allowed: __globals__"),
    ("today.__self__", "names starting with '_' are not allowed: __self__"),
    ("try:\n    1 / 0\nexcept ValueError as e:\n    e.__traceback__.tb_frame", "__traceback__"),
    # refused while running, by the guards rather than the compiler:
    ("g = (i for i in [1])\nsend = g.send", "attributes of generator are not accessible"),
    ("method = str.upper", "attributes of types are not accessible in scripts: upper"),
    ("f = lambda: 0\ncode = f.func_code", "attribute 'func_code' is not allowed"),
    ("text = 'abc'\ntext.x = 1", "cannot modify a str in scripts"),
    # resource abuse:
    ("2 ** 10 ** 10", "exponent 10000000000 is too large"),
    ("x = 2\nx **= 5000", "exponent 5000 is too large"),
    ("range(10**9)", "range() over more than 100000 elements"),
    ("x = 'a' * 10**7", "repetition result too large"),
    ("x = [0] * 10**7", "repetition result too large"),
    ("x = 2\nfor i in range(30):\n    x = x * x", "would be too large"),
    ("x = 1 << 10**7", "would be too large"),
    ("x = 'ab'\nfor i in range(30):\n    x += x", "concatenation result too large"),
    ("x = 1\n" * 2000, "script is too long"),
]


@pytest.mark.parametrize(("script", "message"), ESCAPES, ids=[s for s, _ in ESCAPES])
def test_escape_attempts_are_refused(env: SandboxEnvironment, script: str, message: str) -> None:
    data: dict[str, Any] = {}
    with pytest.raises(ScriptError) as refused:
        env.execute(script, data)
    assert message in str(refused.value)
    assert message in refused.value.detail
    assert data == {}


@pytest.mark.parametrize(
    "expression",
    [
        "().__class__",
        '"{0.__class__}".format(1)',
        'open("/etc/passwd").read()',
        "__import__('os')",
        "2 ** 10 ** 10",
        "[x for x in range(10**9)]",
    ],
)
def test_escape_attempts_in_expressions_are_refused(env: SandboxEnvironment, expression: str) -> None:
    with pytest.raises(ScriptError):
        env.evaluate(expression, {})


# ---------------------------------------------------------------- through SpiffWorkflow


@pytest.fixture(scope="module")
def parser() -> SpiffBpmnParser:
    """The scenario diagram and decision table, parsed (and validated) once."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(DATA / "sandbox_script.bpmn"))
    parser.add_dmn_file(str(DATA / "sandbox_fee.dmn"))
    return parser


def start(parser: SpiffBpmnParser, process_id: str, **data: Any) -> BpmnWorkflow:
    """Start ``process_id`` with ``data`` on its start task (engine steps not run yet)."""
    workflow = BpmnWorkflow(parser.get_spec(process_id), script_engine=make_script_engine(ManualClock()))
    first = workflow.get_next_task(state=TaskState.READY)
    assert first is not None
    first.data.update(data)
    return workflow


@pytest.mark.parametrize(
    ("base_fee", "months", "total", "route"),
    [
        (1_000_000, 12, 1_350_000, "verifier"),
        (1_200_000, 12, 1_570_000, "supervisor"),
        (1_400_000, 3, 1_540_000, "supervisor"),
    ],
)
def test_script_task_and_gateway_run_in_the_sandbox(
    parser: SpiffBpmnParser, base_fee: int, months: int, total: int, route: str
) -> None:
    workflow = start(parser, "sandbox_fee_script", base_fee=base_fee, contract_months=months, submitted_on="2026-01-05")
    workflow.do_engine_steps()
    assert workflow.is_completed()
    end = workflow.get_next_task(spec_name="fee_end")
    assert end is not None
    assert end.data["fee_amount"] == round_rupiah(base_fee * 1.1)
    assert end.data["total"] == total
    assert end.data["due_date"] == "2026-01-19"
    assert end.data["route"] == route
    assert "__builtins__" not in end.data and "round_rupiah" not in end.data


@pytest.mark.parametrize(
    ("process_id", "task_name", "message"),
    [
        ("sandbox_escape", "escape", "names starting with '_' are not allowed: __class__"),
        ("sandbox_open", "read_file", "Line 2: 'open' is not available in scripts"),
    ],
)
def test_escaping_script_task_fails_with_the_sandbox_message(
    parser: SpiffBpmnParser, process_id: str, task_name: str, message: str
) -> None:
    workflow = start(parser, process_id)
    # PythonScriptEngine.execute wraps the ScriptError in a WorkflowTaskException whose
    # message is "ScriptError:<message>"; the ScriptError itself is the implicit context.
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.do_engine_steps()
    assert failed.value.error_type == "ScriptError"
    assert message in str(failed.value)
    assert isinstance(failed.value.__context__, ScriptError)
    assert message in failed.value.__context__.detail
    task = workflow.get_next_task(spec_name=task_name)
    assert task is not None
    assert task.state == TaskState.ERROR
    assert "checked" not in task.data and "leak" not in task.data


def test_refused_expression_through_the_engine_keeps_the_reason_as_context(parser: SpiffBpmnParser) -> None:
    workflow = start(parser, "sandbox_fee_script")
    task = workflow.get_next_task(state=TaskState.READY)
    # For expressions (conditions, timers, DMN cells) SpiffWorkflow's message only quotes
    # the expression: the reason is on the ScriptError in __context__.
    with pytest.raises(WorkflowTaskException) as failed:
        workflow.script_engine.evaluate(task, "().__class__")
    assert "Error evaluating expression '().__class__'" in str(failed.value)
    assert isinstance(failed.value.__context__, ScriptError)
    assert "__class__" in failed.value.__context__.detail


@pytest.mark.parametrize(
    ("months", "fee"),
    [
        (3, 1_000_000),
        (6, 1_000_000),
        (7, 1_500_000),
        (12, 1_500_000),
        (13, 2_625_000),
    ],
)
def test_decision_table_runs_in_the_sandbox(parser: SpiffBpmnParser, months: int, fee: int) -> None:
    workflow = start(parser, "sandbox_fee_rule", contract_months=months)
    workflow.do_engine_steps()
    assert workflow.is_completed()
    end = workflow.get_next_task(spec_name="rule_end")
    assert end is not None
    assert end.data == {"contract_months": months, "fee_amount": fee}


# ---------------------------------------------------------------- plain expressions stay in the process

PLAIN = [
    ('decision == "approve"', {"decision": "approve"}),
    ('decision == "approve"', {"decision": "reject"}),
    ("interview_required == True", {"interview_required": False}),
    ("months <= 6", {"months": 6}),
    ("6 < months <= 12", {"months": 13}),
    ("6 < months <= 12", {"months": 7.5}),
    ('kind in ["a", "b"]', {"kind": "b"}),
    ('kind not in ("a", "b")', {"kind": "c"}),
    ('"ab" in name', {"name": "xaby"}),
    ("flag is None", {"flag": None}),
    ("flag is not True", {"flag": 1}),
    ("not a and b or c", {"a": 0, "b": "x", "c": ""}),
    ("a or b", {"a": "", "b": 0}),
    ("a and b", {"a": 3, "b": "yes"}),
    ('"P7D"', {}),
    ("1200000", {}),
    ("None", {}),
]


@pytest.mark.parametrize(("expression", "data"), PLAIN, ids=[e for e, _ in PLAIN])
def test_plain_expressions_give_what_the_worker_gives(
    env: SandboxEnvironment, expression: str, data: dict[str, Any]
) -> None:
    from engine.sandbox import plain_expression

    assert plain_expression(expression) is not None
    in_process = env.evaluate(expression, data)
    in_worker = env._run("eval", expression, data, None)["value"]
    assert in_process == in_worker and type(in_process) is type(in_worker)


@pytest.mark.parametrize(
    "expression",
    ["f(x)", "x + 1", "x[0] == 1", 'x is "a"', "x == [y for y in z]", "-x < 0", "x.real == 1", "(x := 1)"],
)
def test_anything_else_goes_to_the_worker(expression: str) -> None:
    from engine.sandbox import plain_expression

    assert plain_expression(expression) is None


def test_a_plain_expression_on_other_values_still_runs_in_the_worker(env: SandboxEnvironment) -> None:
    assert env.evaluate("items == [1, 2]", {"items": [1, 2]}) is True  # a list variable: the worker compares
    assert env.evaluate("today == 1", {}) is False  # a helper, not a value
    with pytest.raises(ScriptError, match="TypeError: '<' not supported"):
        env.evaluate("a < b", {"a": 1, "b": "x"})
    with pytest.raises(ScriptError, match="NameError: name 'missing' is not defined"):
        env.evaluate("missing == 1", {})
