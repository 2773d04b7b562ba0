"""Money as people in Indonesia read it: whole rupiah, dots between thousands (``Rp1.500.000``)."""

from __future__ import annotations


def rupiah(amount: int | None) -> str:
    """Format a whole-rupiah amount; ``""`` for no amount."""
    if amount is None:
        return ""
    return "Rp" + f"{int(amount):,}".replace(",", ".")
