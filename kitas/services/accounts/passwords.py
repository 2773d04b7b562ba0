"""Password policy and hashing: argon2id, a common-password list, no composition rules.

The policy follows OWASP ASVS level 2 / NIST SP 800-63B: at least 8 characters
(15 recommended), at most 128, any characters at all, refused when common or
built from the person's own name or e-mail address. Nothing forces rotation.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from forms.texts import Message

MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 128
# Parts of a name or address shorter than this are too short to be a meaningful "contains" match.
_MIN_PERSONAL_PART = 4

# argon2-cffi's defaults (RFC 9106, low-memory profile). When these change, stored hashes are
# upgraded at the next successful sign-in (see needs_rehash).
_hasher = PasswordHasher()
# Hashed once so that a sign-in for an unknown e-mail costs as much time as one for a real account.
_DUMMY_HASH = _hasher.hash("kitas-timing-equalizer")


def normalize(password: str) -> str:
    """The form a password is hashed in: Unicode NFKC, so the same text typed on any keyboard matches."""
    return unicodedata.normalize("NFKC", password)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The lower-cased common-password list shipped in kitas/data/common_passwords.txt."""
    text = resources.files("kitas").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _strip_decoration(lowered: str) -> str:
    """The word inside the usual decorations: "Password2024!" -> "password", "123monkey" -> "monkey"."""
    return re.sub(r"^[\d\W_]+", "", re.sub(r"[\d\W_]+$", "", lowered))


def _personal_parts(email: str, full_name: str) -> set[str]:
    local = email.split("@", 1)[0].lower()
    parts = {local, email.lower(), re.sub(r"\s+", "", full_name.lower())}
    parts.update(word for word in re.split(r"[^\w]+", local) if word)
    parts.update(word for word in re.split(r"[^\w]+", full_name.lower()) if word)
    return {part for part in parts if part}


def _is_personal(lowered: str, email: str, full_name: str) -> bool:
    parts = _personal_parts(email, full_name)
    if _strip_decoration(lowered) in parts:  # "ana2024!" for Ana
        return True
    return any(part in lowered for part in parts if len(part) >= _MIN_PERSONAL_PART)


def _is_common(lowered: str) -> bool:
    common = common_passwords()
    stem = _strip_decoration(lowered)
    return lowered in common or (len(stem) >= _MIN_PERSONAL_PART and stem in common)


def problems(password: str, *, email: str = "", full_name: str = "") -> list[Message]:
    """Everything wrong with ``password`` as a new password (an empty list when it is acceptable)."""
    password = normalize(password)
    length = len(password)
    if length == 0:
        return [Message("Choose a password.")]
    if length < MIN_LENGTH:
        return [
            Message(
                "Use at least %(minimum)s characters (this one has %(count)s); "
                "%(recommended)s or more is recommended, for example a few unrelated words.",
                minimum=MIN_LENGTH,
                count=length,
                recommended=RECOMMENDED_LENGTH,
            )
        ]
    if length > MAX_LENGTH:
        return [Message("Use at most %(limit)s characters (this one has %(count)s).", limit=MAX_LENGTH, count=length)]
    lowered = password.lower()
    found: list[Message] = []
    if _is_common(lowered) or len(set(lowered)) == 1:
        found.append(
            Message(
                "This password is one of the most commonly used and is guessed first. "
                "Choose something less predictable, for example a few unrelated words."
            )
        )
    if _is_personal(lowered, email, full_name):
        found.append(Message("Do not use your name or e-mail address in your password."))
    return found


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; the parameters are stored in the hash)."""
    return _hasher.hash(normalize(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; a missing or damaged hash never matches."""
    if not stored_hash:
        # Spend the same time as a real check, so the answer does not reveal that no password is set.
        try:
            _hasher.verify(_DUMMY_HASH, normalize(password) + "\x00")
        except VerificationError:
            pass
        return False
    try:
        return _hasher.verify(stored_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when ``stored_hash`` was made with other parameters than today's (upgrade it at sign-in)."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True
