"""The KITAS catalog as the pages read it: the types, which can be applied for online, and status words.

The catalog itself is data (``workflows/kitas_types.json``); the web layer reads it through here,
so that the pages depend on services only.
"""

from __future__ import annotations

from workflows import KitasType, StatusText, catalog

from .errors import NotFound


def kitas_types() -> tuple[KitasType, ...]:
    """Every KITAS type of the catalog, in its order."""
    return catalog().types


def startable_types() -> list[KitasType]:
    """The types that can be applied for online (they have a diagram)."""
    return [t for t in catalog().types if t.process_id]


def kitas_type(code: str) -> KitasType:
    """The type with this code (``worker``); NotFound if there is none."""
    try:
        return catalog().by_code(code)
    except KeyError as exc:
        raise NotFound(f"there is no KITAS type {code!r}") from exc


def status_text(status: str | None) -> StatusText:
    """The plain words for a case status (an unknown one humanized)."""
    return catalog().status_text(status or "")
