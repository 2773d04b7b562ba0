"""The address people and providers reach this service on, worked out when a link or callback is made.

``KITAS_PUBLIC_URL`` is used as given when it is set (behind a proxy, on a real domain). Without it,
the address is the one ``kitas serve`` actually serves on (``--host``/``--port``, recorded at start),
so that a service started on another port still gets its payment callbacks and its e-mail links
right; a process that serves nothing (a separate scheduler) falls back to http://127.0.0.1:5000.
The request's own Host header is never used: anyone can send any Host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

DEFAULT_ADDRESS = "http://127.0.0.1:5000"


def served_address(host: str, port: int) -> str:
    """The address a server bound to ``host:port`` is reached on from this machine."""
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    elif ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_url() -> str:
    """The base address (no trailing slash) for links in e-mails and callbacks, as of now."""
    return public_url_of(current_app.config)


def public_url_of(config: Mapping[str, Any]) -> str:
    """The base address a configuration gives: ``KITAS_PUBLIC_URL``, else the one served on, else the default."""
    configured = config.get("KITAS_PUBLIC_URL")
    if configured:
        return str(configured).rstrip("/")
    served = config.get("KITAS_SERVED_URL")
    return str(served).rstrip("/") if served else DEFAULT_ADDRESS


def is_https(config: Mapping[str, Any]) -> bool:
    """True when people reach the service on an https address: a real deployment, not a laptop."""
    return public_url_of(config).lower().startswith("https://")


def absolute(path_or_url: str) -> str:
    """``path_or_url`` under the current public address; an absolute URL keeps its own path, not its host."""
    path = urlsplit(path_or_url)
    tail = path.path + (f"?{path.query}" if path.query else "")
    return public_url() + "/" + tail.lstrip("/")
