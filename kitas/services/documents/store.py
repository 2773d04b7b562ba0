"""The document store of the running application, built once per configuration and reused."""

from __future__ import annotations

import threading

from flask import current_app

from ...adapters.storage import DocumentStore, store_from_config

# The settings a store is built from; a change (tests point KITAS_UPLOAD_DIR elsewhere) builds a new one.
_SETTINGS = (
    "KITAS_DOCUMENT_STORE",
    "KITAS_UPLOAD_DIR",
    "KITAS_S3_ENDPOINT_URL",
    "KITAS_S3_REGION",
    "KITAS_S3_ACCESS_KEY_ID",
    "KITAS_S3_SECRET_ACCESS_KEY",
    "KITAS_S3_SESSION_TOKEN",
    "KITAS_S3_ADDRESSING_STYLE",
)
_EXTENSION_KEY = "kitas_document_store"
_lock = threading.Lock()


def document_store() -> DocumentStore:
    """The document store of the running application (an S3 client is costly to build, so it is kept)."""
    settings = tuple(current_app.config.get(name) for name in _SETTINGS)
    with _lock:
        cached = current_app.extensions.get(_EXTENSION_KEY)
        if cached is not None and cached[0] == settings:
            return cached[1]
        store = store_from_config(current_app.config, current_app.static_folder)
        current_app.extensions[_EXTENSION_KEY] = (settings, store)
        return store
