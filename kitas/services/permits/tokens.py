"""The signed token of a permit's public verification address: ``<token id>.<signature>``, all lowercase hex.

The token id is random (128 bits) and the signature an HMAC-SHA256 of it under a key derived from the
application's secret key with a salt of its own, so a token cannot be guessed or made without the key.
Hex has no spare bits: unlike base64, whose last character may change without changing the bytes, any
changed character gives a token that is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from flask import current_app

SALT = b"kitas-permit-verification-v1"
_TOKEN = re.compile(r"^([0-9a-f]{32})\.([0-9a-f]{64})$")


def new_token_id() -> str:
    """A fresh random token id (32 hex characters) for a new permit."""
    return secrets.token_hex(16)


def _key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, SALT, hashlib.sha256).digest()


def _signature(token_id: str) -> str:
    return hmac.new(_key(), token_id.encode(), hashlib.sha256).hexdigest()


def sign(token_id: str) -> str:
    """The public token of a permit's token id."""
    return f"{token_id}.{_signature(token_id)}"


def read(token: str) -> str | None:
    """The token id a genuine token carries; None for anything not signed by this service."""
    match = _TOKEN.match(token or "")
    if match is None:
        return None
    token_id, signature = match.groups()
    return token_id if hmac.compare_digest(signature, _signature(token_id)) else None
