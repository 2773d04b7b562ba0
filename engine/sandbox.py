"""The sandboxed script environment: RestrictedPython, guards and an allow-list of helpers.

Code is compiled here, in the calling process, as a first check (and at deployment,
engine/spec.py); it then RUNS in a worker process with a CPU-time and a memory limit
(engine/script_pool.py, engine/script_worker.py). Only the variables a piece of code names
travel to the worker, as JSON, and what it leaves behind comes back as JSON
(engine/script_data.py), so task data always stays storable.
"""

from __future__ import annotations

import ast
import builtins
import calendar
import json
import operator
import types
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from RestrictedPython import Guards, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    RestrictingNodeTransformer,
    copy_locations,
)
from SpiffWorkflow.bpmn.script_engine import python_environment
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine

from engine.clock import Clock, SystemClock
from engine.errors import ScriptError
from engine.script_data import iso_dates_encoder, storable
from engine.script_pool import ScriptPool, shared_pool
from engine.spiff_internals import wrapped_cause

MAX_SOURCE_CHARS = 10_000
MAX_RANGE = 100_000
MAX_EXPONENT = 1000
MAX_INT_BITS = 100_000
MAX_SEQUENCE = 1_000_000
JAKARTA = ZoneInfo("Asia/Jakarta")  # WIB; tzdata is a dependency, so the zone exists everywhere
# The file name scripts are compiled under; _script_line finds a script's failing line by it.
SCRIPT_FILENAME = "<string>"

# Builtin names a script may not use, even as its own variable: refused when the code is compiled
# (at deployment), with a plain message, rather than failing as an unknown name while a case runs.
FORBIDDEN_NAMES = frozenset(
    {
        "open",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "compile",
        "globals",
        "locals",
        "vars",
        "type",
        "iter",
        "aiter",
        "next",
        "anext",
        "eval",
        "exec",
        "dir",
        "help",
        "input",
        "memoryview",
        "object",
        "super",
        "classmethod",
        "staticmethod",
        "property",
        "breakpoint",
        "exit",
        "quit",
        "print",
        "printed",
        "builtins",
        "copyright",
        "credits",
        "license",
    }
)
# Attributes refused whatever the object: frame/code/generator internals and str.format tricks.
FORBIDDEN_ATTRIBUTES = frozenset(INSPECT_ATTRIBUTES) | {
    "format",
    "format_map",
    "mro",
    "func_globals",
    "func_code",
    "func_closure",
}
# Objects whose attributes scripts may not touch at all.
OPAQUE_TYPES: tuple[type, ...] = (
    types.ModuleType,
    types.FrameType,
    types.CodeType,
    types.TracebackType,
    types.FunctionType,
    types.LambdaType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ClassMethodDescriptorType,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
    types.CellType,
    type,
)
_GUARDED_OPS = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Add: "+"}
_BINARY_OPS = {"**": operator.pow, "*": operator.mul, "<<": operator.lshift, "+": operator.add}
_INPLACE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd,
    "-=": operator.isub,
    "*=": operator.imul,
    "/=": operator.itruediv,
    "//=": operator.ifloordiv,
    "%=": operator.imod,
    "**=": operator.ipow,
    "<<=": operator.ilshift,
    ">>=": operator.irshift,
    "&=": operator.iand,
    "|=": operator.ior,
    "^=": operator.ixor,
    "@=": operator.imatmul,
}


def parse_date(value: date | str) -> date:
    """Turn a date, datetime or ISO date/datetime string into a date."""
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, str):
        raise TypeError(f"not a date: {value!r}")
    text = value.strip()
    return datetime.fromisoformat(text).date() if "T" in text else date.fromisoformat(text)


def add_days(value: date | str, n: int) -> str:
    """Return the ISO date ``n`` days after ``value``."""
    return (parse_date(value) + timedelta(days=int(n))).isoformat()


def add_months(value: date | str, n: int) -> str:
    """Return the ISO date ``n`` months after ``value``, clamped to the month's last day."""
    start = parse_date(value)
    index = start.year * 12 + start.month - 1 + int(n)
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day).isoformat()


def days_between(a: date | str, b: date | str) -> int:
    """Return the number of days from ``a`` to ``b`` (negative when ``b`` is earlier)."""
    return (parse_date(b) - parse_date(a)).days


def round_rupiah(amount: float | str, step: int = 1000) -> int:
    """Round ``amount`` half up to a multiple of ``step`` rupiah."""
    if not isinstance(step, int) or step <= 0:
        raise ValueError(f"round_rupiah: step must be a positive integer, not {step!r}")
    units = (Decimal(str(amount)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(units) * step


def fee_lookup(schedule: dict[Any, Any], months: int) -> int:
    """Return the amount of the smallest bound (in months) of ``schedule`` that is >= ``months``."""
    bounds = sorted((int(bound), int(amount)) for bound, amount in schedule.items())
    for bound, amount in bounds:
        if bound >= months:
            return amount
    largest = bounds[-1][0] if bounds else None
    raise ValueError(f"fee_lookup: {months} months exceeds every bound of the schedule (largest is {largest})")


def iso_days(n: int) -> str:
    """Return the ISO 8601 duration of ``n`` days, e.g. ``"P7D"``, for timer expressions."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"iso_days: n must be a non-negative integer, not {n!r}")
    return f"P{n}D"


def guarded_getattr(obj: Any, name: str, *default: Any) -> Any:
    """Return ``obj.name`` unless the attribute could lead out of the sandbox."""
    if not isinstance(name, str):
        raise ScriptError("attribute names must be strings")
    if name.startswith("_"):
        raise ScriptError(f"names starting with '_' are not allowed: {name}")
    if name in FORBIDDEN_ATTRIBUTES:
        raise ScriptError(f"attribute '{name}' is not allowed in scripts")
    if isinstance(obj, OPAQUE_TYPES):
        kind = "types" if isinstance(obj, type) else type(obj).__name__
        raise ScriptError(f"attributes of {kind} are not accessible in scripts: {name}")
    return getattr(obj, name, *default)


def _int_result_bits(op: str, a: int, b: int) -> int:
    """Return an upper bound of the bit length of ``a op b`` (0 for cheap operators)."""
    if op == "**":
        return a.bit_length() * max(b, 0)
    if op == "<<":
        return a.bit_length() + b
    return a.bit_length() + b.bit_length() if op == "*" else 0


def _check_size(op: str, a: Any, b: Any) -> None:
    """Refuse ``a op b`` when the result would exhaust memory or time."""
    if op == "**" and isinstance(b, (int, float)) and abs(b) > MAX_EXPONENT:
        raise ScriptError(f"exponent {b} is too large (limit {MAX_EXPONENT})")
    if isinstance(a, int) and isinstance(b, int) and _int_result_bits(op, a, b) > MAX_INT_BITS:
        raise ScriptError(f"the result of '{op}' would be too large (over {MAX_INT_BITS} bits)")
    if op == "*" and isinstance(a, int) and isinstance(b, (str, bytes, list, tuple)):
        _check_size(op, b, a)
    elif op == "*" and isinstance(b, int) and isinstance(a, (str, bytes, list, tuple)):
        if len(a) * b > MAX_SEQUENCE:
            raise ScriptError(f"repetition result too large (over {MAX_SEQUENCE} items)")
    elif (
        op == "+"
        and isinstance(a, (str, list, tuple))
        and isinstance(b, (str, list, tuple))
        and len(a) + len(b) > MAX_SEQUENCE
    ):
        raise ScriptError(f"concatenation result too large (over {MAX_SEQUENCE} items)")


def guarded_binop(op: str, a: Any, b: Any) -> Any:
    """Return ``a op b`` for op in ``** * << +`` unless the result would be huge."""
    _check_size(op, a, b)
    return _BINARY_OPS[op](a, b)


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    """Implement ``target op= value`` (``x += 1``) with the same limits as plain operators."""
    func = _INPLACE_OPS.get(op)
    if func is None:
        raise ScriptError(f"operator {op} is not allowed in scripts")
    _check_size(op[:-1], target, value)
    return func(target, value)


def guarded_write(obj: Any) -> Any:
    """Allow item assignment on dicts and lists (task data) and nothing else."""
    if type(obj) in (dict, list):
        return obj
    raise ScriptError(f"cannot modify a {type(obj).__name__} in scripts; only dicts and lists")


def safe_range(*args: int) -> range:
    """Return ``range(*args)`` unless it would have more than MAX_RANGE elements."""
    result = range(*args)
    try:
        too_big = len(result) > MAX_RANGE
    except OverflowError:
        too_big = True
    if too_big:
        raise ScriptError(f"range() over more than {MAX_RANGE} elements is not allowed")
    return result


_ALLOWED_BUILTINS: dict[str, Any] = {
    name: getattr(builtins, name)
    for name in (
        "abs",
        "all",
        "any",
        "bool",
        "dict",
        "enumerate",
        "float",
        "int",
        "isinstance",
        "len",
        "list",
        "max",
        "min",
        "round",
        "set",
        "sorted",
        "str",
        "sum",
        "tuple",
        "zip",
        "ValueError",
    )
}
_ALLOWED_BUILTINS["range"] = safe_range
_GUARDS: dict[str, Any] = {
    "_getattr_": guarded_getattr,
    "_getitem_": operator.getitem,
    "_getiter_": iter,
    "_iter_unpack_sequence_": Guards.guarded_iter_unpack_sequence,
    "_unpack_sequence_": Guards.guarded_unpack_sequence,
    "_write_": guarded_write,
    "_inplacevar_": guarded_inplacevar,
    "_guarded_binop_": guarded_binop,
    "_apply_": lambda f, *a, **k: f(*a, **k),  # calls written with *args / **kwargs
}
HELPERS: dict[str, Callable[..., Any]] = {
    f.__name__: f for f in (parse_date, add_days, add_months, days_between, round_rupiah, fee_lookup, iso_days)
}


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy with plainer messages, no imports/classes and guarded operators."""

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        """Refuse underscore names and forbidden builtin names with a plain message."""
        if name and name.startswith("_") and name != "_":
            self.error(node, f"names starting with '_' are not allowed: {name}")
        elif name in FORBIDDEN_NAMES:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                self.error(node, f"'{name}' is not available in scripts")
            else:
                self.error(node, f"'{name}' is reserved in scripts; use another name for the variable")
        else:
            super().check_name(node, name, allow_magic_methods)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> Any:
        """Refuse a bare ``except:``: it would also catch the signal that stops code at its time limit."""
        if node.type is None:
            self.error(node, "a bare 'except:' is not allowed in scripts; name the error, e.g. 'except ValueError:'")
        return super().visit_ExceptHandler(node)

    def visit_Name(self, node: ast.Name) -> Any:
        """Refuse print before RestrictedPython rewrites it into a print collector."""
        if node.id in ("print", "printed"):
            self.check_name(node, node.id)
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        """Refuse underscore and introspection attributes, otherwise route through _getattr_."""
        if node.attr.startswith("_") or node.attr in FORBIDDEN_ATTRIBUTES:
            self.node_contents_visit(node)
            if node.attr.startswith("_"):
                self.error(node, f"names starting with '_' are not allowed: {node.attr}")
            else:
                self.error(node, f"attribute '{node.attr}' is not allowed in scripts")
            return node
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> Any:
        """Refuse eval/exec by name with a plain message."""
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
            self.error(node, f"'{node.func.id}' is not available in scripts")
            return self.node_contents_visit(node)
        return super().visit_Call(node)

    def visit_Import(self, node: ast.AST) -> Any:
        """Refuse imports."""
        self.error(node, "imports are not allowed in scripts")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        """Refuse class definitions (and with them metaclass tricks)."""
        self.error(node, "class definitions are not allowed in scripts")
        return node

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """Route **, *, << and + through a guard that refuses huge results."""
        node = self.node_contents_visit(node)
        symbol = _GUARDED_OPS.get(type(node.op))
        if symbol is None:
            return node
        call = ast.Call(
            func=ast.Name("_guarded_binop_", ast.Load()),
            args=[ast.Constant(symbol), node.left, node.right],
            keywords=[],
        )
        copy_locations(call, node)
        return call


@lru_cache(maxsize=1024)
def compile_script(source: str, mode: str) -> types.CodeType:
    """Compile ``source`` ('eval' or 'exec' mode) under the sandbox policy or raise ScriptError."""
    if len(source) > MAX_SOURCE_CHARS:
        raise ScriptError(f"script is too long ({len(source)} characters, limit {MAX_SOURCE_CHARS})")
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, SCRIPT_FILENAME, policy=SandboxPolicy)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise ScriptError(f"the script cannot be compiled: {exc}") from None
    if result.errors or result.code is None:
        raise ScriptError("; ".join(dict.fromkeys(result.errors)) or "the script cannot be compiled")
    return result.code


@lru_cache(maxsize=1024)
def referenced_names(source: str, mode: str) -> frozenset[str]:
    """Every global name compiled code can read, write or delete (its nested functions included).

    Scripts have no ``globals()``/``vars()``, so these are the only task-data variables the
    code can reach: only they are sent to the worker process.
    """
    names: set[str] = set()
    pending = [compile_script(source, mode)]
    while pending:
        code = pending.pop()
        names.update(code.co_names)
        pending.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return frozenset(names)


_NOT_PLAIN = object()
_SCALARS = (str, int, float, bool, type(None))
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}


class _NotPlain(Exception):
    """The expression needs the worker process after all (a name that is no plain value, a type error)."""


@lru_cache(maxsize=1024)
def plain_expression(expression: str) -> ast.expr | None:
    """The tree of an expression made only of literals, variable names, comparisons, and/or/not; else None.

    Such an expression cannot loop or allocate: evaluated on plain values (text, numbers, true/false,
    none) it costs at most a pass over those values. Most gateway conditions (``decision == "approve"``),
    decision-table cells (``<= 6``, ``6 < ? <= 12``), timer durations (``"P7D"``) and outputs
    (``1200000``) have this shape, so they need no round trip to a worker process.
    """
    body = ast.parse(expression, mode="eval").body
    return body if _is_plain(body) else None


def _is_plain(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) in _SCALARS
    if isinstance(node, ast.Name):
        return not node.id.startswith("_")
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(isinstance(e, ast.Constant) and type(e.value) in _SCALARS for e in node.elts)
    if isinstance(node, ast.Compare):
        # 'is' only against None/True/False: identity of other values depends on where they were made.
        singletons = all(
            isinstance(c, ast.Constant) and c.value in (None, True, False) and type(c.value) in (bool, type(None))
            for op, c in zip(node.ops, node.comparators, strict=True)
            if isinstance(op, (ast.Is, ast.IsNot))
        )
        operands = [node.left, *node.comparators]
        return singletons and all(type(op) in _COMPARE for op in node.ops) and all(map(_is_plain, operands))
    if isinstance(node, ast.BoolOp):
        return all(map(_is_plain, node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _is_plain(node.operand)
    return False


def _plain_value(node: ast.expr, names: dict[str, Any], external: dict[str, Any]) -> Any:
    """Evaluate a plain expression as Python would; _NotPlain when a name is not a plain value."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        value = names.get(node.id, _NOT_PLAIN) if node.id in names else external.get(node.id, _NOT_PLAIN)
        if type(value) not in _SCALARS:
            raise _NotPlain()
        return value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    if isinstance(node, ast.UnaryOp):
        return not _plain_value(node.operand, names, external)
    if isinstance(node, ast.BoolOp):
        value = None
        for item in node.values:
            value = _plain_value(item, names, external)
            if bool(value) == isinstance(node.op, ast.Or):
                return value
        return value
    if isinstance(node, ast.Compare):
        left = _plain_value(node.left, names, external)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _plain_value(comparator, names, external)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                raise _NotPlain() from None  # the worker reports the error as any script's
            left = right
        return True
    raise _NotPlain()


def sandbox_builtins(now: datetime) -> dict[str, Any]:
    """The names a script sees besides its variables, with today()/now() fixed at ``now`` (aware, UTC)."""
    local = now.astimezone(JAKARTA)

    def today() -> str:
        """Return today's ISO date in Asia/Jakarta according to the engine clock."""
        return local.date().isoformat()

    def now_() -> str:
        """Return the current ISO datetime in Asia/Jakarta (+07:00) according to the engine clock."""
        return local.isoformat(timespec="seconds")

    return {**_ALLOWED_BUILTINS, **HELPERS, **_GUARDS, "today": today, "now": now_}


MAX_MESSAGE_CHARS = 500


def run_code(
    mode: str, source: str, variables: dict[str, Any], external: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Run restricted code on JSON variables; return ``{"value": ...}`` or ``{"variables": ..., "deleted": [...]}``.

    This is what the worker process does with a request. Everything returned is storable
    JSON (engine/script_data.py): a value that is not fails here, naming the variable.
    """
    code = compile_script(source, mode)
    namespace: dict[str, Any] = {**external, **variables, "__builtins__": sandbox_builtins(now)}
    if mode == "eval":
        value = _reported(lambda: eval(code, namespace), with_line=False)
        return {"value": storable(value, None)}
    _reported(lambda: exec(code, namespace), with_line=True)  # noqa: S102 - restricted code
    changed: dict[str, Any] = {}
    deleted = [key for key in variables if key not in namespace]
    for key, value in namespace.items():
        if key == "__builtins__" or key.startswith("_") or (key in external and key not in variables):
            continue
        if callable(value):  # functions defined by the script, helpers, types: not data
            deleted.append(key)
        else:
            changed[key] = storable(value, key)
    return {"variables": changed, "deleted": deleted}


def _reported(call: Callable[[], Any], with_line: bool) -> Any:
    """Run ``call``; an error of the script becomes a ScriptError with a plain message (and its line)."""
    try:
        return call()
    except MemoryError:
        raise  # the worker reports the memory limit
    except Exception as exc:
        line = _script_line(exc) if with_line else None
        where = f"Line {line}: " if line else ""
        if isinstance(exc, ScriptError):
            message = exc.detail
        elif isinstance(exc, NameError) and exc.name and hasattr(builtins, exc.name):
            message = f"'{exc.name}' is not available in scripts"
        else:
            message = f"{type(exc).__name__}: {_shortened(exc)}"
        raise ScriptError(where + message) from None


def _shortened(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - str() of a script's exception may itself fail (huge ints)
        text = "(no message)"
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "..."


def _script_line(exc: BaseException) -> int | None:
    """Return the script line on which ``exc`` was raised, if the traceback shows it."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


class SandboxEnvironment(python_environment.BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data: compiled here, run in a worker process.

    ``pool`` is the pool of worker processes to run in; by default the process-wide one
    (engine/script_pool.py), whose limits ``script_pool.configure`` sets.
    """

    def __init__(self, clock: Clock | None = None, pool: ScriptPool | None = None):
        super().__init__({})
        self.clock: Clock = clock or SystemClock()
        self._pool = pool

    def today(self) -> str:
        """Return today's ISO date in Asia/Jakarta according to the engine clock."""
        return self.clock.now().astimezone(JAKARTA).date().isoformat()

    def now(self) -> str:
        """Return the current ISO datetime in Asia/Jakarta (+07:00) according to the engine clock."""
        return self.clock.now().astimezone(JAKARTA).isoformat(timespec="seconds")

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate ``expression`` with the task data (and external context) as variables."""
        if not isinstance(expression, str):
            raise ScriptError(f"expressions must be text, not {type(expression).__name__}")
        source = expression.strip()
        compile_script(source, "eval")
        tree = plain_expression(source)
        if tree is not None:
            try:
                return _plain_value(tree, context, external_context or {})
            except _NotPlain:
                pass
        return self._run("eval", source, context, external_context)["value"]

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        """Run ``script`` and write created, changed and deleted variables back into ``context``.

        Nothing is written back unless the whole script ran and everything it left is storable.
        """
        if not isinstance(script, str):
            raise ScriptError(f"scripts must be text, not {type(script).__name__}")
        compile_script(script, "exec")
        reply = self._run("exec", script, context, external_context)
        for key in reply["deleted"]:
            context.pop(key, None)
        context.update(reply["variables"])
        return True

    def _run(
        self, mode: str, source: str, context: dict[str, Any], external_context: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Send the code and the variables it names to a worker process; return its reply."""
        names = referenced_names(source, mode)
        variables = _named(context, names)
        external = _named(external_context or {}, names)
        pool = self._pool or shared_pool()
        request = {
            "cpu": pool.limits.cpu_seconds,
            "mode": mode,
            "source": source,
            "variables": variables,
            "external": external,
            "now": self.clock.now().isoformat(),
        }
        try:
            payload = json.dumps(request, default=iso_dates_encoder, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            for key, value in {**external, **variables}.items():
                storable(value, key)  # raises the ScriptError that names the variable
            raise ScriptError("the task data cannot be passed to scripts") from None
        return pool.run(payload)


def _named(values: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """The variables among ``values`` that code naming ``names`` can see."""
    return {key: values[key] for key in names if key in values and not key.startswith("_")}


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on the sandbox; a failing script's ScriptError names its element."""

    def __init__(self, clock: Clock | None = None, pool: ScriptPool | None = None):
        super().__init__(environment=SandboxEnvironment(clock, pool))

    def evaluate(self, task: Any, expression: str, external_context: dict[str, Any] | None = None) -> Any:
        """Evaluate an expression of ``task`` (condition, timer, decision-table cell)."""
        try:
            return super().evaluate(task, expression, external_context)
        except Exception as exc:
            _name_element(exc, task)
            raise

    def execute(self, task: Any, script: str, external_context: dict[str, Any] | None = None) -> bool:
        """Run the script of ``task``."""
        try:
            return bool(super().execute(task, script, external_context))
        except Exception as exc:
            _name_element(exc, task)
            raise


def _name_element(exc: BaseException, task: Any) -> None:
    """Give the sandbox's ScriptError inside ``exc`` the id of the element whose code failed."""
    spec = getattr(task, "task_spec", None)
    element_id = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
    for candidate in (exc, wrapped_cause(exc)):
        if isinstance(candidate, ScriptError):
            candidate.name_element(element_id)


def make_script_engine(clock: Clock | None = None, pool: ScriptPool | None = None) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything in the sandbox."""
    return SandboxScriptEngine(clock, pool)
