"""Service messages turned into sentences people read, in the reader's language."""

from __future__ import annotations

from typing import Any

from ..i18n import translate


def sentence(text: str) -> str:
    """``"this task is claimed"`` -> ``"This task is claimed."`` (a capital first, one full stop at the end)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def message_of(exc: BaseException) -> str:
    """What a refusal says, in the reader's language: its Message translated (a plain text unchanged)."""
    message: Any = getattr(exc, "message", None)
    if message is None or message == "":
        message = exc.args[0] if exc.args else ""
    return str(translate(message))


def said(exc: BaseException) -> str:
    """A refusal's message as a sentence in the reader's language (capital first, full stop at the end)."""
    return sentence(message_of(exc))
