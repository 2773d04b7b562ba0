"""POSTing the sandbox provider's signed notices to the merchant over real HTTP.

Outbound I/O only: one POST, no redirects followed (following one would turn the
POST into a GET), and a ``Posted`` result. Which notices are due, and what an
outcome means for them, is the sandbox bank service's business.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .sandbox_provider import SIGNATURE_HEADER

SEND_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Posted:
    """What came of one POST: ``error`` is None when the merchant answered 2xx."""

    error: str | None = None

    @property
    def delivered(self) -> bool:
        """True when the merchant accepted the notice."""
        return self.error is None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected webhook is a failed webhook."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def post_notice(url: str, body: bytes, signature: str, timeout: float = SEND_TIMEOUT_SECONDS) -> Posted:
    """POST one signed notice; never raises for what the network or the merchant does."""
    if urlsplit(url).scheme not in ("http", "https"):
        return Posted(f"the callback URL {url!r} is not http(s)")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "kitas-sandbox-provider/1",
            SIGNATURE_HEADER: signature,
        },
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        return Posted(f"HTTP {exc.code}: {detail}"[:1000])
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        return Posted(f"{exc.__class__.__name__}: {reason}"[:1000])
    return Posted(None if 200 <= status < 300 else f"HTTP {status}")
