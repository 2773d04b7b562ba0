"""Filling the start of an application in the browser: the province the case's office comes from."""

from __future__ import annotations

from typing import Any

from tests.e2e.words import Words

# The province the browser journeys live in: its office (the domicile rule's) is the one the live
# server's officers work in, the default office.
E2E_PROVINCE = "DKI Jakarta"


def choose_province(page: Any, words: Words, label: str = "Province where you will live in Indonesia") -> None:
    """Choose the journeys' province on a start page (the applicant's, or the sponsor's group form)."""
    page.get_by_label(words(label)).select_option(E2E_PROVINCE)
