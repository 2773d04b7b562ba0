"""Lists inside a sentence, as Messages: the words between the items are translated like any text.

``listed(["a", "b", "c"])`` reads "a, b and c"; ``joined(["a", "b"])`` reads "a; b". Each item may be a
Message (translated with the whole) or a plain string (a name, shown as it is).
"""

from __future__ import annotations

from collections.abc import Sequence

from forms.texts import Message


def listed(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: the items of a list in a sentence (one item is itself)."""
    if len(items) < 2:
        return items[0] if items else ""
    last = Message("%(first)s and %(last)s", first=items[-2], last=items[-1])
    for item in reversed(items[:-2]):
        last = Message("%(first)s, %(rest)s", first=item, rest=last)
    return last


def joined(items: Sequence[str]) -> str:
    """``a; b; c``: separate statements (problems, reasons) in one line (one item is itself)."""
    if not items:
        return ""
    result = items[-1]
    for item in reversed(items[:-1]):
        result = Message("%(first)s; %(rest)s", first=item, rest=result)
    return result
