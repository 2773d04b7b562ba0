"""The public page of each KITAS type, generated from the catalog, the deployed diagram and the fee table.

Nothing on it is written by hand: who the type is for, its index codes and its sponsor rule come from
the catalog (``workflows/kitas_types.json``), the documents and their format rules from the deployed
upload form, the steps from the deployed diagram's user tasks in order (shared steps included,
``engine.outline``), the fees from the deployed fee table (``services.fees``). A type whose diagram
is not deployed still gets its page, from the catalog, saying it is not yet online.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.outline import OutlineStep, outline
from forms.texts import Message
from workflows import IndexCode, KitasType, catalog

from ...extensions import db
from ...models import ProcessDefinition
from ..catalog import kitas_type as find_type
from ..deployments import element_names, latest_definition, process_model
from ..fees import FeeTable, fee_table
from .checklist import ChecklistItem, catalog_checklist, checklist

# How each kind of sponsor (the catalog's ``sponsor_kinds``) and each role's lane is told on the pages.
SPONSOR_KINDS = {
    "company": Message("a company registered in Indonesia that employs you"),
    "institution": Message("the school, university or course provider that accepted you"),
    "person": Message("a person: an Indonesian citizen or a holder of an Indonesian stay permit"),
}
WHO_DOES_IT = {
    "applicant": Message("You"),
    "sponsor": Message("Your sponsor"),
    "verifier": Message("An immigration officer"),
    "supervisor": Message("A supervising officer"),
}


@dataclass(frozen=True)
class Sponsor:
    """Who may sponsor the type, in words, and the limits that apply; no kinds: no sponsor needed."""

    kinds: tuple[str, ...]
    words: tuple[str, ...]
    limits: tuple[Message, ...]

    @property
    def needed(self) -> bool:
        """True when the type needs a sponsor at all."""
        return bool(self.kinds)


@dataclass(frozen=True)
class Step:
    """One step of the journey as the page lists it: its name, who does it, whether every case has it."""

    element_id: str
    name: str
    who: Message | None
    optional: bool
    kind: str  # user | wait


@dataclass(frozen=True)
class TypePage:
    """Everything the page of one type shows, in one language."""

    kitas_type: KitasType
    index_codes: tuple[IndexCode, ...]
    sponsor: Sponsor
    checklist: tuple[ChecklistItem, ...]
    checklist_from_form: bool  # False: the catalog's names only (no diagram deployed)
    fees: FeeTable
    steps: tuple[Step, ...]
    online: bool  # a diagram is deployed: the application can be started
    version: int | None


def type_page(code: str, language: str | None = None) -> TypePage:
    """The page of a type (``worker``) in ``language``; NotFound for an unknown code."""
    entry = find_type(code, language)
    definition = latest_definition(entry.process_id) if entry.process_id else None
    steps: tuple[Step, ...] = ()
    items = catalog_checklist(entry)
    if definition is not None:
        walked = outline(process_model(definition))
        names = element_names(definition, language)
        steps = tuple(_step(s, names.get(s.element_id, s.name)) for s in walked)
        items = checklist(definition, walked, language)
    return TypePage(
        kitas_type=entry,
        index_codes=entry.index_codes or (IndexCode(entry.index_code, entry.name),),
        sponsor=sponsor_rule(entry),
        checklist=items,
        checklist_from_form=definition is not None,
        fees=fee_table(code),
        steps=steps,
        online=definition is not None,
        version=definition.version if definition is not None else None,
    )


def type_overview(language: str | None = None) -> list[tuple[KitasType, FeeTable, bool]]:
    """Every type with its fees and whether it can be applied for online now (a diagram is deployed)."""
    deployed = _deployed_processes()
    return [(entry, fee_table(entry.code), entry.process_id in deployed) for entry in catalog(language).types]


def is_online(entry: KitasType) -> bool:
    """True when a version of the type's diagram is deployed, so an application can be started."""
    return entry.process_id in _deployed_processes()


def _deployed_processes() -> set[str]:
    """The processes with at least one deployed version (one light query)."""
    return set(db.session.scalars(select(ProcessDefinition.process_id).distinct()))


def startable_types(language: str | None = None) -> list[tuple[KitasType, FeeTable]]:
    """The types an applicant can start now (their diagram is deployed), each with the fees it will cost."""
    return [(entry, fees) for entry, fees, online in type_overview(language) if online]


def sponsor_rule(entry: KitasType) -> Sponsor:
    """Who may sponsor a type and the limits on sponsors of each kind (``sponsor_limits``), in words."""
    limits = catalog().sponsor_limits
    return Sponsor(
        kinds=entry.sponsor_kinds,
        words=tuple(SPONSOR_KINDS.get(kind, kind) for kind in entry.sponsor_kinds),
        limits=tuple(_limit_words(kind, limits[kind]) for kind in entry.sponsor_kinds if kind in limits),
    )


def _limit_words(kind: str, limit: int) -> Message:
    if kind == "person":
        return Message(
            "A person may sponsor at most %(limit)s foreigners with an active permit at a time.", limit=limit
        )
    return Message("One sponsor may sponsor at most %(limit)s foreigners with an active permit at a time.", limit=limit)


def _step(step: OutlineStep, name: str) -> Step:
    role = catalog().role_for_lane(step.lane)
    return Step(step.element_id, name, WHO_DOES_IT.get(role or ""), step.optional, step.kind)
