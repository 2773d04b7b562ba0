"""The sandboxed script environment: RestrictedPython, guards and an allow-list of helpers."""

from __future__ import annotations

import ast
import builtins
import calendar
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

MAX_SOURCE_CHARS = 10_000
MAX_RANGE = 100_000
MAX_EXPONENT = 1000
MAX_INT_BITS = 100_000
MAX_SEQUENCE = 1_000_000
JAKARTA = ZoneInfo("Asia/Jakarta")  # WIB; tzdata is a dependency, so the zone exists everywhere
# The file name scripts are compiled under; _script_line finds a script's failing line by it.
SCRIPT_FILENAME = "<string>"

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
        """Refuse underscore names and reserved names with a plain message."""
        if name and name.startswith("_") and name != "_":
            self.error(node, f"names starting with '_' are not allowed: {name}")
        elif name in ("print", "printed", "builtins", "breakpoint"):
            self.error(node, f"'{name}' is not available in scripts")
        else:
            super().check_name(node, name, allow_magic_methods)

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


class SandboxEnvironment(python_environment.BasePythonScriptEngineEnvironment):
    """Evaluates expressions and runs scripts against task data under RestrictedPython."""

    def __init__(self, clock: Clock | None = None):
        super().__init__({})
        self.clock: Clock = clock or SystemClock()
        self.builtins: dict[str, Any] = {
            **_ALLOWED_BUILTINS,
            **HELPERS,
            **_GUARDS,
            "today": self.today,
            "now": self.now,
        }

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
        code = compile_script(expression.strip(), "eval")
        namespace = self._namespace(context, external_context)
        return self._run(lambda: eval(code, namespace), with_line=False)

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        """Run ``script`` and write created, changed and deleted variables back into ``context``."""
        if not isinstance(script, str):
            raise ScriptError(f"scripts must be text, not {type(script).__name__}")
        code = compile_script(script, "exec")
        namespace = self._namespace(context, external_context)
        visible = [key for key in namespace if key != "__builtins__"]
        self._run(lambda: exec(code, namespace), with_line=True)  # noqa: S102 - restricted code
        for key, value in namespace.items():
            if key.startswith("_") or (key in (external_context or {}) and key not in context):
                continue
            if callable(value):  # functions defined by the script, helpers, types
                context.pop(key, None)
            else:
                context[key] = value
        for key in visible:
            if key not in namespace:
                context.pop(key, None)
        return True

    def _namespace(self, context: dict[str, Any], external_context: dict[str, Any] | None) -> dict[str, Any]:
        merged = {**(external_context or {}), **context}
        namespace = {key: value for key, value in merged.items() if not (isinstance(key, str) and key.startswith("_"))}
        namespace["__builtins__"] = self.builtins
        return namespace

    @staticmethod
    def _run(call: Callable[[], Any], with_line: bool) -> Any:
        try:
            return call()
        except Exception as exc:
            line = _script_line(exc) if with_line else None
            where = f"Line {line}: " if line else ""
            if isinstance(exc, ScriptError):
                message = exc.detail
            elif isinstance(exc, NameError) and exc.name and hasattr(builtins, exc.name):
                message = f"'{exc.name}' is not available in scripts"
            else:
                message = f"{type(exc).__name__}: {exc}"
            raise ScriptError(where + message) from exc


def _script_line(exc: BaseException) -> int | None:
    """Return the script line on which ``exc`` was raised, if the traceback shows it."""
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def make_script_engine(clock: Clock | None = None) -> PythonScriptEngine:
    """Return a SpiffWorkflow script engine that runs everything in the sandbox."""
    return PythonScriptEngine(environment=SandboxEnvironment(clock))
