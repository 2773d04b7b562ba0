"""One page of a long list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PER_PAGE = 100
MAX_PAGE_NUMBER = 1_000_000  # far past any real list; keeps OFFSET arithmetic inside the database's integers


@dataclass(frozen=True)
class Page(Generic[T]):
    """The items of one page, and enough to draw the pager."""

    items: list[T]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        """True unless this is the first page."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """True unless this is the last page."""
        return self.number < self.pages


def page_bounds(number: int, per_page: int) -> tuple[int, int]:
    """A safe (page number, per page) pair: numbers below 1 become 1, numbers and sizes are capped."""
    return max(1, min(number, MAX_PAGE_NUMBER)), max(1, min(per_page, MAX_PER_PAGE))
