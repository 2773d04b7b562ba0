"""Money as written in Indonesia, in both languages (as on the bank's slip): ``Rp 1.500.000``."""

from __future__ import annotations


def rupiah(amount: int | None) -> str:
    """Format a whole-rupiah amount; ``""`` for no amount."""
    if amount is None:
        return ""
    return "Rp " + f"{int(amount):,}".replace(",", ".")
