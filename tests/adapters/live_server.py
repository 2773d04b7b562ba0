"""Serve the application over real HTTP in a thread, so webhooks travel the way they do in production."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Run ``app`` on a free local port for the duration of the block; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kitas-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@contextmanager
def public_url(app: Flask, url: str) -> Iterator[None]:
    """Let the application announce ``url`` as its public address (callback URLs are built from it)."""
    previous = app.config["KITAS_PUBLIC_URL"]
    app.config["KITAS_PUBLIC_URL"] = url
    try:
        yield
    finally:
        app.config["KITAS_PUBLIC_URL"] = previous
