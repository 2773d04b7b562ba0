"""A merchant endpoint over real HTTP, for tests of the provider's notices."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Merchant:
    """A tiny HTTP endpoint that records what it receives and answers with ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                length = int(self.headers.get("Content-Length", "0"))
                merchant.received.append((dict(self.headers.items()), self.rfile.read(length)))
                self.send_response(merchant.status)
                if merchant.status in (301, 302, 303, 307):
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"outcome": "test"}')

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks/payments/sandbox"


@contextmanager
def running_merchant() -> Iterator[Merchant]:
    """A merchant endpoint on a free port, for the duration of the block."""
    endpoint = Merchant()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.server.shutdown()
        thread.join(timeout=10)
        endpoint.server.server_close()


def closed_url() -> str:
    """A merchant URL where nothing listens any more."""
    closed = Merchant()
    closed.server.server_close()
    return closed.url
