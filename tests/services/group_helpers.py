"""Shortcuts for group applications in tests: the posted form, members driven to payment, a catalog
whose worker type is sponsored by persons (the limit's kind), and a provider without combined billing."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import workflows
from kitas.models import Application, User
from tests.services.helpers import complete

SHARED = {"employer_name": "PT Contoh Teknologi", "rptka_number": "RPTKA-2026-00042"}


def people(count: int, domain: str = "team.example.org") -> list[dict[str, str]]:
    """``count`` valid member rows."""
    return [
        {"full_name": f"Person Number {i + 1}", "email": f"p{i + 1}@{domain}", "nationality": "BR"}
        for i in range(count)
    ]


def group_post(rows: list[Mapping[str, str]], **shared: str) -> dict[str, list[str]]:
    """The group form as a browser posts it (rows ``members-<n>-<field>``)."""
    posted: dict[str, list[str]] = {key: [value] for key, value in {**SHARED, **shared}.items()}
    for index, row in enumerate(rows):
        for key, value in row.items():
            posted[f"members-{index}-{key}"] = [value]
    return posted


def until_sponsor(application: Application, sponsor: User, email: str) -> None:
    """The sponsor fills a member's own steps until the case waits for the guarantee."""
    complete(application.id, "applicant_data", sponsor, email=email)
    complete(application.id, "employment_data", sponsor, sponsor_email=sponsor.email)


def person_sponsored(monkeypatch: Any, limit: int | None = None) -> None:
    """The worker type sponsored by persons (and, with ``limit``, that limit in the catalog)."""
    original: Callable[[str | None], workflows.Catalog] = workflows._catalog

    def patched(language: str | None) -> workflows.Catalog:
        catalog = original(language)
        types = tuple(
            dataclasses.replace(t, sponsor_kinds=("person",)) if t.code == "worker" else t for t in catalog.types
        )
        limits = {**catalog.sponsor_limits, **({"person": limit} if limit is not None else {})}
        return dataclasses.replace(catalog, types=types, sponsor_limits=limits)

    monkeypatch.setattr(workflows, "_catalog", patched)


class SeparateBillsOnly:
    """The sandbox provider as a bank that bills each application on its own (no combined billing)."""

    supports_combined_billing = False

    def __init__(self, inner: Any):
        self._inner = inner
        self.name = inner.name

    def create_billing(self, *args: Any) -> Any:
        return self._inner.create_billing(*args)

    def parse_webhook(self, *args: Any) -> Any:
        return self._inner.parse_webhook(*args)
