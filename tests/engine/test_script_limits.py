"""Escape and exhaustion attempts in scripts, conditions, timers and decision tables: each is refused
at deployment or stopped within its limit with a ScriptError naming its element, and the worker
processes serve the next script as if nothing happened.

Every attempt is put into a real diagram (a script task, a gateway condition, a timer, a decision
table's output or input entry), deployed with ``parse_process`` and, if that accepts it, run with
``CaseRuntime.start``. The limits are lowered for the module (0.2 s CPU, 64 MB) so the list runs fast.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from xml.sax.saxutils import escape

import pytest

from engine import CaseRuntime, DiagramError, ManualClock, ScriptError, ScriptLimits, parse_process
from engine.sandbox import SandboxEnvironment
from engine.script_pool import ScriptPool, configure, current_limits, shared_pool

LIMITS = ScriptLimits(cpu_seconds=0.2, memory_mb=64, workers=1)
BIG = "10**9"  # characters: far beyond the 64 MB the tests allow


@dataclass(frozen=True)
class Attempt:
    """One attempt: where the code goes, the code, what must happen and a fragment of the message."""

    place: str  # script | condition | timer | dmn_output | dmn_input
    source: str
    outcome: str  # refused (at deployment) | cpu | memory | limit (cpu or memory) | stopped | unstorable
    message: str


def script(source: str, outcome: str, message: str) -> Attempt:
    return Attempt("script", source, outcome, message)


def condition(source: str, outcome: str, message: str) -> Attempt:
    return Attempt("condition", source, outcome, message)


def timer(source: str, outcome: str, message: str) -> Attempt:
    return Attempt("timer", source, outcome, message)


def dmn_output(source: str, outcome: str, message: str) -> Attempt:
    return Attempt("dmn_output", source, outcome, message)


def dmn_input(source: str, outcome: str, message: str) -> Attempt:
    return Attempt("dmn_input", source, outcome, message)


NOT_AVAILABLE = "is not available in scripts"
UNDERSCORE = "names starting with '_' are not allowed"
CPU = "of CPU time"
MEMORY = "MB of memory"
LOOPS = "[i for i in range(100000) for j in range(100000)]"

ATTEMPTS = [
    # -- forbidden names and escapes: refused at deployment --------------------------------
    script('text = open("/etc/passwd").read()', "refused", f"'open' {NOT_AVAILABLE}"),
    script('n = getattr(x, "real")', "refused", f"'getattr' {NOT_AVAILABLE}"),
    script('setattr(x, "a", 1)', "refused", f"'setattr' {NOT_AVAILABLE}"),
    script('delattr(x, "a")', "refused", f"'delattr' {NOT_AVAILABLE}"),
    script('c = compile("1", "f", "eval")', "refused", f"'compile' {NOT_AVAILABLE}"),
    script('globals()["x"] = 1', "refused", f"'globals' {NOT_AVAILABLE}"),
    script("v = locals()", "refused", f"'locals' {NOT_AVAILABLE}"),
    script("v = vars()", "refused", f"'vars' {NOT_AVAILABLE}"),
    script("t = type(1).mro()", "refused", f"'type' {NOT_AVAILABLE}"),
    script("i = iter([1])", "refused", f"'iter' {NOT_AVAILABLE}"),
    script("n = next(y for y in [1])", "refused", f"'next' {NOT_AVAILABLE}"),
    script('v = eval("1")', "refused", f"'eval' {NOT_AVAILABLE}"),
    script('exec("y = 1")', "refused", f"'exec' {NOT_AVAILABLE}"),
    script('os = __import__("os")', "refused", UNDERSCORE),
    script("d = dir()", "refused", f"'dir' {NOT_AVAILABLE}"),
    script("help()", "refused", f"'help' {NOT_AVAILABLE}"),
    script("answer = input()", "refused", f"'input' {NOT_AVAILABLE}"),
    script('m = memoryview(b"x")', "refused", f"'memoryview' {NOT_AVAILABLE}"),
    script("o = object()", "refused", f"'object' {NOT_AVAILABLE}"),
    script("s = super()", "refused", f"'super' {NOT_AVAILABLE}"),
    script("c = classmethod(len)", "refused", f"'classmethod' {NOT_AVAILABLE}"),
    script("c = staticmethod(len)", "refused", f"'staticmethod' {NOT_AVAILABLE}"),
    script("p = property(len)", "refused", f"'property' {NOT_AVAILABLE}"),
    script("breakpoint()", "refused", f"'breakpoint' {NOT_AVAILABLE}"),
    script("exit()", "refused", f"'exit' {NOT_AVAILABLE}"),
    script("quit()", "refused", f"'quit' {NOT_AVAILABLE}"),
    script('print("hello")', "refused", f"'print' {NOT_AVAILABLE}"),
    script("import os", "refused", "imports are not allowed"),
    script("from os import system", "refused", "imports are not allowed"),
    script("leak = ().__class__.__bases__[0].__subclasses__()", "refused", UNDERSCORE),
    script("f = (y for y in [1]).gi_frame.f_globals", "refused", "attribute 'gi_frame' is not allowed"),
    script("try:\n    1 / 0\nexcept ValueError as e:\n    t = e.__traceback__", "refused", UNDERSCORE),
    script('s = "{0.__class__}".format(1)', "refused", "attribute 'format' is not allowed"),
    script('s = "{a}".format_map({"a": 1})', "refused", "attribute 'format_map' is not allowed"),
    script("f = lambda: 0\nc = f.__code__", "refused", UNDERSCORE),
    script("class Evil:\n    pass", "refused", "class definitions are not allowed"),
    script('type = "mine"', "refused", "'type' is reserved in scripts"),
    script("def f(open=1):\n    return open", "refused", "'open' is reserved in scripts"),
    script("g = _getattr_", "refused", UNDERSCORE),
    script("while True:\n    try:\n        pass\n    except:\n        pass", "refused", "bare 'except:'"),
    script("try:\n    pass\nexcept* ValueError:\n    pass", "refused", "not allowed"),
    script("x = 1\n" * 6000, "refused", "script is too long"),
    # -- exhaustion: stopped within the limit -------------------------------------------------
    script("while True:\n    pass", "cpu", CPU),
    script("n = 0\nwhile True:\n    n += 1", "cpu", CPU),
    script("n = 0\nfor i in range(100000):\n    for j in range(100000):\n        n += 1", "cpu", CPU),
    script("try:\n    while True:\n        pass\nexcept ValueError:\n    pass", "cpu", CPU),
    script("try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass", "cpu", CPU),
    script("m = max(range(100000), key=lambda i: sum(range(100000)))", "cpu", CPU),
    script(f's = "a".ljust({BIG})', "memory", MEMORY),
    script(f's = "a".rjust({BIG})', "memory", MEMORY),
    script(f's = "a".center({BIG})', "memory", MEMORY),
    script(f's = "1".zfill({BIG})', "memory", MEMORY),
    script('s = ("\\t" * 1000).expandtabs(1000000)', "memory", MEMORY),
    script('s = ("a" * 100000).replace("a", "a" * 100000)', "memory", MEMORY),
    script('s = ("a" * 1000000).join(["b"] * 1000)', "memory", MEMORY),
    script('s = "%0999999999d" % 1', "memory", MEMORY),
    script('s = f"{1:>999999999}"', "memory", MEMORY),
    script("grid = [[0] * 100000 for i in range(100000)]", "memory", MEMORY),
    script("keys = sorted(range(100000), key=lambda i: [i] * 100000)", "memory", MEMORY),
    script("items = [1]\nfor item in items:\n    items.append(item)", "limit", "was stopped"),
    script("items = [0] * 100000\nwhile True:\n    items.extend(items)", "limit", "was stopped"),
    script(f"pairs = {LOOPS}", "limit", "was stopped"),
    script("flat = sum([[0] * 1000 for i in range(100000)], [])", "limit", "was stopped"),
    # -- refused by the guards or Python while running -------------------------------------------
    script("def f(n):\n    return f(n + 1)\nf(0)", "stopped", "RecursionError"),
    script("f = lambda g: g(g)\nf(f)", "stopped", "RecursionError"),
    script("def f(n, again=None):\n    return again(n + 1, again)\nf(0, f)", "stopped", "RecursionError"),
    script("f = lambda n: (lambda: f(n + 1))()\nf(0)", "stopped", "RecursionError"),
    script("n = 10\nwhile True:\n    n = n * n", "stopped", "would be too large"),
    script("n = 2 ** 100000", "stopped", "exponent 100000 is too large"),
    script("n = 9 ** 999\nfor i in range(1000):\n    n = n * 9 ** 999", "stopped", "would be too large"),
    script('n = int("9" * 5000)', "stopped", "ValueError"),
    script("items = list(range(100000)) * 100", "stopped", "repetition result too large"),
    script("r = range(10**12)", "stopped", "range() over more than"),
    script("g = (i for i in [1])\nsend = g.send", "stopped", "attributes of generator are not accessible"),
    script("upper = str.upper", "stopped", "attributes of types are not accessible"),
    script('text = "abc"\ntext.x = 1', "stopped", "cannot modify a str"),
    script('big = "a" * 1000000\nresult = [big] * 10', "stopped", "more than the 4096 KB one step may store"),
    # -- what a script leaves must be storable -------------------------------------------------
    script("gen = (i for i in range(3))", "unstorable", "'gen' holds a generator"),
    script('try:\n    int("x")\nexcept ValueError as e:\n    err = e', "unstorable", "'err' holds a ValueError"),
    script("tags = {1, 2}", "unstorable", "'tags' holds a set"),
    script('raw = b"abc"', "unstorable", "'raw' holds a bytes"),
    script('ratio = float("nan")', "unstorable", "'ratio' holds nan, which is not a finite number"),
    script('ratio = float("inf")', "unstorable", "'ratio' holds inf, which is not a finite number"),
    script('names = {1: "a"}', "unstorable", "'names' holds a dictionary key 1"),
    script("helpers = [len]", "unstorable", "'helpers' (at helpers[0]) holds a builtin_function_or_method"),
    script('gap = parse_date("2026-01-05") - parse_date("2026-01-01")', "unstorable", "'gap' holds a timedelta"),
    script("loop = []\nloop.append(loop)", "unstorable", "'loop' (at loop[0][0][0]"),
    script("span = range(10)", "unstorable", "'span' holds a range"),
    # -- gateway conditions ----------------------------------------------------------------------
    condition('open("x") is None', "refused", f"'open' {NOT_AVAILABLE}"),
    condition('getattr(x, "real") > 0', "refused", f"'getattr' {NOT_AVAILABLE}"),
    condition("().__class__ is None", "refused", UNDERSCORE),
    condition("vars() == {}", "refused", f"'vars' {NOT_AVAILABLE}"),
    condition(f"{LOOPS} == []", "limit", "was stopped"),
    condition(f'len("a".ljust({BIG})) > 0', "memory", MEMORY),
    condition('len("%0999999999d" % 1) > 0', "memory", MEMORY),
    condition("(lambda f: f(f))(lambda f: f(f))", "stopped", "RecursionError"),
    condition("len(str(2 ** 10 ** 6)) > 0", "stopped", "is too large"),
    condition("sum(len(str(i)) for i in range(100000) for j in range(100000)) > 0", "cpu", CPU),
    # -- timer expressions -------------------------------------------------------------------------
    timer('open("/etc/passwd").read()', "refused", f"'open' {NOT_AVAILABLE}"),
    timer("iso_days(len(dir()))", "refused", f"'dir' {NOT_AVAILABLE}"),
    timer(f'"P" + str(len({LOOPS})) + "D"', "limit", "was stopped"),
    timer(f'"P" + "1".zfill({BIG}) + "D"', "memory", MEMORY),
    # -- decision tables: output entries ----------------------------------------------------------
    dmn_output('open("x")', "refused", f"'open' {NOT_AVAILABLE}"),
    dmn_output("globals()", "refused", f"'globals' {NOT_AVAILABLE}"),
    dmn_output("type(1)", "refused", f"'type' {NOT_AVAILABLE}"),
    dmn_output('"{0}".format(1)', "refused", "attribute 'format' is not allowed"),
    dmn_output(f'"a".ljust({BIG})', "memory", MEMORY),
    dmn_output(f"len({LOOPS})", "limit", "was stopped"),
    dmn_output("max(range(100000), key=lambda i: sum(range(100000)))", "cpu", CPU),
    dmn_output("(lambda f: f(f))(lambda f: f(f))", "stopped", "RecursionError"),
    dmn_output("(i for i in range(3))", "unstorable", "the result holds a generator"),
    dmn_output("{1, 2}", "unstorable", "the result holds a set"),
    # -- decision tables: input entries --------------------------------------------------------------
    dmn_input('== getattr(1, "real")', "refused", f"'getattr' {NOT_AVAILABLE}"),
    dmn_input('? == __import__("os")', "refused", UNDERSCORE),
    dmn_input(f'< len("a".center({BIG}))', "memory", MEMORY),
    dmn_input(f"? in {LOOPS}", "limit", "was stopped"),
]

# The element a problem or failure must name, per place (decision-table refusals name the DMN entry).
ELEMENT = {"script": "attempt", "condition": "choose", "timer": "wait", "dmn_output": "decide", "dmn_input": "decide"}
REFUSED_ELEMENT = {**ELEMENT, "dmn_output": "attempt_out", "dmn_input": "attempt_in"}

_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="attempt_definitions" targetNamespace="http://kitas.example/bpmn">
  <bpmn:process id="attempt_process" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_body</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="to_body" sourceRef="start" targetRef="{first}"/>
    {body}
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

_BODIES = {
    "script": """<bpmn:scriptTask id="attempt"><bpmn:incoming>to_body</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing><bpmn:script>{code}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="attempt" targetRef="end"/>""",
    "condition": """<bpmn:exclusiveGateway id="choose" default="to_end"><bpmn:incoming>to_body</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing><bpmn:outgoing>to_other</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="to_other" sourceRef="choose" targetRef="other_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{code}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="other_end"><bpmn:incoming>to_other</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="choose" targetRef="end"/>""",
    "timer": """<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>to_body</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing><bpmn:timerEventDefinition id="wait_timer">
      <bpmn:timeDuration>{code}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="to_end" sourceRef="wait" targetRef="end"/>""",
    "dmn": """<bpmn:businessRuleTask id="decide"><bpmn:extensionElements>
      <spiffworkflow:calledDecisionId>attempt_decision</spiffworkflow:calledDecisionId></bpmn:extensionElements>
      <bpmn:incoming>to_body</bpmn:incoming><bpmn:outgoing>to_end</bpmn:outgoing></bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="to_end" sourceRef="decide" targetRef="end"/>""",
}

_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="attempt_dmn" name="Attempt"
    namespace="http://kitas.example/dmn">
  <decision id="attempt_decision" name="Attempt">
    <decisionTable id="attempt_table" hitPolicy="UNIQUE">
      <input id="attempt_column" label="Value">
        <inputExpression id="attempt_column_expression" typeRef="integer"><text>value</text></inputExpression>
      </input>
      <output id="attempt_output" label="Result" name="result" typeRef="string"/>
      <rule id="attempt_rule">
        <inputEntry id="attempt_in"><text>{entry}</text></inputEntry>
        <outputEntry id="attempt_out"><text>{output}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>"""


def diagram(attempt: Attempt) -> tuple[str, dict[str, str]]:
    """The BPMN (and decision table) that carries ``attempt``."""
    code = escape(attempt.source)
    if attempt.place.startswith("dmn"):
        entry, output = (code, '"ok"') if attempt.place == "dmn_input" else ("-", code)
        first = "decide"
        return _BPMN.format(first=first, body=_BODIES["dmn"]), {"attempt.dmn": _DMN.format(entry=entry, output=output)}
    return _BPMN.format(first=ELEMENT[attempt.place], body=_BODIES[attempt.place].format(code=code)), {}


@pytest.fixture(scope="module", autouse=True)
def low_limits() -> Iterator[None]:
    """The process-wide script limits lowered for this module, then put back."""
    saved = current_limits()
    configure(LIMITS)
    yield
    configure(saved)


def _still_serving() -> None:
    """A normal script runs right after the attempt, in the same pool."""
    data = {"a": 20}
    SandboxEnvironment(ManualClock()).execute("b = a + 1\nc = today()", data)
    assert data == {"a": 20, "b": 21, "c": "2026-01-05"}


def test_the_list_is_long_and_covers_every_place() -> None:
    assert len(ATTEMPTS) >= 60
    assert {a.place for a in ATTEMPTS} == set(ELEMENT)
    assert len({(a.place, a.source) for a in ATTEMPTS}) == len(ATTEMPTS)


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[f"{a.place}:{a.source[:50]}" for a in ATTEMPTS])
def test_attempt_is_refused_or_stopped_naming_its_element(attempt: Attempt) -> None:
    bpmn, decisions = diagram(attempt)
    if attempt.outcome == "refused":
        with pytest.raises(DiagramError) as refused:
            parse_process(bpmn, decisions)
        elements = {element for element, _ in refused.value.problems}
        assert elements == {REFUSED_ELEMENT[attempt.place]}, refused.value.problems
        assert any(attempt.message in message for _, message in refused.value.problems), refused.value.problems
    else:
        model = parse_process(bpmn, decisions)  # accepted at deployment: it must stop while running
        with pytest.raises(ScriptError) as stopped:
            CaseRuntime.start(model, {"x": 1, "value": 5}, ManualClock())
        error = stopped.value
        assert error.element_id == ELEMENT[attempt.place], error
        assert attempt.message in error.detail, error.detail
        assert ELEMENT[attempt.place] in str(error)
        expected_limit = {"cpu": {"cpu"}, "memory": {"memory"}, "limit": {"cpu", "memory"}}
        assert error.limit in expected_limit.get(attempt.outcome, {None}), (error.limit, error.detail)
        if attempt.outcome == "unstorable":
            assert error.variable == (None if attempt.place.startswith("dmn") else attempt.message.split("'")[1])
    _still_serving()


def test_a_worker_stuck_past_the_wall_clock_is_killed_and_replaced() -> None:
    """The parent's own timeout: here shorter than the CPU limit, as for code stuck in one C call."""
    pool = ScriptPool(ScriptLimits(cpu_seconds=30, memory_mb=64, workers=1, wall_seconds=0.5))
    try:
        env = SandboxEnvironment(ManualClock(), pool)
        assert env.evaluate("a + 1", {"a": 1}) == 2
        (first,) = pool.worker_pids()
        with pytest.raises(ScriptError) as stopped:
            env.execute("while True:\n    pass", {})
        assert stopped.value.limit == "time" and "did not finish within 0.5 seconds" in stopped.value.detail
        assert pool.worker_pids() == []  # killed, not left spinning
        assert env.evaluate("a * 3", {"a": 2}) == 6
        assert pool.worker_pids() != [first]
    finally:
        pool.close()


def test_a_worker_killed_from_outside_is_replaced() -> None:
    import os
    import signal

    pool = ScriptPool(LIMITS)
    try:
        env = SandboxEnvironment(ManualClock(), pool)
        assert env.evaluate("a + 1", {"a": 1}) == 2
        (pid,) = pool.worker_pids()
        os.kill(pid, signal.SIGKILL)
        assert env.evaluate("a + 2", {"a": 1}) == 3
        assert pool.worker_pids() and pool.worker_pids() != [pid]
    finally:
        pool.close()


def test_threads_share_a_pool_and_each_gets_its_own_answer() -> None:
    pool = ScriptPool(ScriptLimits(cpu_seconds=1, memory_mb=64, workers=2))
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            data = {"n": n}
            SandboxEnvironment(ManualClock(), pool).execute("square = n * n\nlabel = str(n)", data)
            results[n] = (data["square"], data["label"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert results == {n: (n * n, str(n)) for n in range(12)}
        assert 1 <= len(pool.worker_pids()) <= 2
    finally:
        pool.close()


def test_the_shared_pool_follows_configure() -> None:
    before = shared_pool()
    assert before.limits == LIMITS
    configure(LIMITS)  # the same limits: the same pool
    assert shared_pool() is before
    configure(ScriptLimits(cpu_seconds=0.3, memory_mb=64, workers=1))
    try:
        assert shared_pool() is not before and shared_pool().limits.cpu_seconds == 0.3
    finally:
        configure(LIMITS)


@pytest.mark.parametrize(
    "limits",
    [
        {"cpu_seconds": 0},
        {"cpu_seconds": -1},
        {"memory_mb": 8},
        {"workers": 0},
        {"wall_seconds": 0},
    ],
)
def test_limits_out_of_range_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="out of range"):
        ScriptLimits(**limits)  # type: ignore[arg-type]


def test_workers_do_not_inherit_secrets_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KITAS_SECRET_KEY", "must-not-reach-scripts")
    pool = ScriptPool(LIMITS)
    try:
        SandboxEnvironment(ManualClock(), pool).execute("b = 1", {})
        (pid,) = pool.worker_pids()
        with open(f"/proc/{pid}/environ", "rb") as environ:
            names = {entry.split(b"=", 1)[0] for entry in environ.read().split(b"\0") if entry}
        assert b"KITAS_SECRET_KEY" not in names and b"PYTHONPATH" in names
    finally:
        pool.close()
