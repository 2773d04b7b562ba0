"""Service messages turned into sentences people read."""

from __future__ import annotations


def sentence(text: str) -> str:
    """``"this task is claimed"`` -> ``"This task is claimed."`` (a capital first, one full stop at the end)."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
