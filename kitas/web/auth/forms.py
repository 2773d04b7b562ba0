"""Reading the auth forms from a request: trimmed text, checkboxes as booleans, passwords never echoed."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import request

# Fields shown back to the person after an error; passwords are never among them.
REGISTER_FIELDS = ("full_name", "email", "phone", "nationality", "kind")
# Longer input than any field accepts is cut before it reaches a service or a template.
MAX_FIELD = 1000


def text(name: str) -> str:
    """A posted text field, trimmed and bounded (missing fields read as empty)."""
    return (request.form.get(name) or "").strip()[:MAX_FIELD]


def secret(name: str) -> str:
    """A posted password exactly as typed (spaces count), bounded well above the policy's maximum."""
    return (request.form.get(name) or "")[:MAX_FIELD]


def register_values() -> dict[str, Any]:
    """The registration form's fields other than passwords, to keep them on the page after an error."""
    values: dict[str, Any] = {name: text(name) for name in REGISTER_FIELDS}
    values["consent"] = request.form.get("consent") in ("1", "on", "yes", "true")
    return values


def client_address() -> str:
    """The address the request came from (behind a proxy, ProxyFix must make this the client's)."""
    return (request.remote_addr or "unknown")[:64]


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no scheme, host, ``//`` or control characters)."""
    if not target or len(target) > 2000:
        return None
    # Browsers drop tabs and newlines and read "\" as "/", which turns "/\evil.example" into another host.
    if any(ord(ch) < 32 or ord(ch) == 127 or ch == "\\" for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
