"""What may cross between task data and scripts: JSON, with dates written as ISO text.

Task data is stored as JSON with the case. A value a script leaves behind is made
storable here before it reaches the task data: dates and datetimes become ISO
strings, tuples become lists; anything else JSON cannot hold (a set, bytes, a
generator, an exception, a function inside a list, a number that is not finite,
a dictionary key that is not text) fails, naming the variable, so the step fails
instead of leaving a case that cannot be saved.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

from engine.errors import ScriptError

MAX_DEPTH = 100  # nesting of lists and dictionaries
MAX_INT_DIGITS = 4000  # Python refuses to write longer integers as text

_HINTS = {
    "set": "use a list, e.g. sorted(...)",
    "frozenset": "use a list, e.g. sorted(...)",
    "bytes": "use text",
    "bytearray": "use text",
    "timedelta": "use a number of days (days_between) or an ISO duration text",
    "generator": "use a list, e.g. [x for x in ...]",
    "range": "use a list, e.g. list(range(...))",
}


def storable(value: Any, variable: str | None) -> Any:
    """``value`` as storable JSON (dates as ISO text, tuples as lists); ScriptError naming ``variable`` if it is not.

    ``variable`` is the task-data variable holding the value, None for the result of an expression.
    """
    return _storable(value, variable, variable or "the result", 0)


def _storable(value: Any, variable: str | None, path: str, depth: int) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_DIGITS * 3.32:
            raise _refused(variable, path, f"a number with more than {MAX_INT_DIGITS} digits")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refused(variable, path, f"{value!r}, which is not a finite number")
        return value
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if depth >= MAX_DEPTH:
        raise _refused(variable, path, f"lists or dictionaries nested more than {MAX_DEPTH} deep")
    if isinstance(value, (list, tuple)):
        return [_storable(item, variable, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _refused(variable, path, f"a dictionary key {_short(key)}, and keys must be text")
            result[key] = _storable(item, variable, f"{path}[{key!r}]", depth + 1)
        return result
    kind = type(value).__name__
    hint = _HINTS.get(kind, "keep only text, numbers, true/false, lists and dictionaries")
    raise _refused(variable, path, f"a {kind}", hint)


def _refused(variable: str | None, path: str, what: str, hint: str | None = None) -> ScriptError:
    if variable is None:
        where = path
    else:
        shown = path if len(path) <= 80 else path[:77] + "..."
        where = f"the variable '{variable}'" + (f" (at {shown})" if path != variable else "")
    message = f"{where} holds {what}, which cannot be stored in the case data"
    return ScriptError(f"{message}; {hint}" if hint else message, variable=variable)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - repr of an arbitrary object may fail
        text = type(value).__name__
    return text if len(text) <= 40 else text[:40] + "..."


def iso_dates_encoder(value: Any) -> Any:
    """``json.dumps(default=...)``: dates and datetimes as ISO text; anything else is refused (TypeError)."""
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
