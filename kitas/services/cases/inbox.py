"""The officers' inbox: open tasks of their lanes, filtered, searched, sorted, counted and paged.

It reads the projections only: ``human_task`` (which carries its case's type and index code, and its
due time from the SLA timer of the timer projection) and the case row's search columns (register
number, passport number, name), never the workflow state. Filters arrive as the page's GET parameters
(``parse_query``), so every view is a bookmark; an officer can keep views by name (``saved_filters``).

Counts per filter come from ONE grouped count of the officer's lanes (step, type, index code, claim
and due state): each option's count applies the other filters chosen, so a number says how many tasks
choosing that option would show. A search is not part of the counts (it narrows the list only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ColumnElement, and_, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from forms.texts import Message
from workflows import catalog

from ...extensions import app_clock, db
from ...models import Application, HumanTask, SavedFilter, User
from ...transactions import write_transaction
from ..deployments import element_names, latest_definition, process_model
from ..errors import InvalidInput, NotFound
from ..paging import MAX_PAGE_NUMBER, Page
from .access import OFFICER_ROLES
from .names import localized, names_by_definition
from .search_columns import name_form, passport_form

PER_PAGE = 25
TOTAL_CAP = 10_000  # the list counts this far ("more than 10,000"), and pages through this many
OPTION_CAP = 1_000  # a filter option counts this far ("1000+")
SOON = timedelta(hours=24)  # "due soon": within a day, as the due times are coloured
CLAIMS = ("any", "mine", "unclaimed", "others")
DUES = ("any", "late", "soon")
SORTS = ("age", "due")  # oldest first; soonest due first (tasks without a due time last)
SEARCH_KEYS = ("any", "reference", "passport", "name")
SCOPES = ("mine", "team")  # my lanes; every officer lane (supervisors)
MAX_SEARCH = 100
MAX_SAVED = 20
# The filters as the page names them (a refusal names the filter in the reader's words).
FILTER_WORDS = {
    "type": Message("KITAS type"),
    "index": Message("Index code"),
    "step": Message("Step"),
    "claim": Message("Claimed"),
    "due": Message("Due"),
    "sort": Message("Sort"),
    "by": Message("Search in"),
    "scope": Message("Lanes"),
}
_STEP = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")
_CLAIMER = aliased(User, name="inbox_claimer")
_APPLICANT = aliased(User, name="inbox_applicant")


@dataclass(frozen=True)
class InboxQuery:
    """What the officer asked the inbox for (each field one GET parameter; empty means "any")."""

    type: str = ""
    index: str = ""
    step: str = ""
    claim: str = "any"
    due: str = "any"
    q: str = ""
    by: str = "any"
    sort: str = "age"
    scope: str = "mine"
    page: int = 1

    def args(self, **changes: Any) -> dict[str, Any]:
        """The GET parameters of this view (defaults left out), with ``changes``; a changed filter goes
        back to page 1 unless the page is among the changes."""
        view = replace(self, **changes) if changes else self
        if changes and "page" not in changes:
            view = replace(view, page=1)
        return {f.name: getattr(view, f.name) for f in fields(view) if getattr(view, f.name) != f.default}

    def filter_args(self) -> dict[str, Any]:
        """The GET parameters of this view without the page (the pager adds its own)."""
        return {k: v for k, v in self.args().items() if k != "page"}

    def query_string(self) -> str:
        """This view's filters as a query string, without the page (what a saved filter keeps)."""
        return urlencode(self.filter_args())

    @property
    def filtered(self) -> bool:
        """True when anything narrows the list."""
        return bool(self.type or self.index or self.step or self.q) or (self.claim, self.due) != ("any", "any")


@dataclass(frozen=True)
class InboxRow:
    """One open task of the inbox."""

    task: HumanTask
    reference: str
    type_name: str
    index_code: str
    applicant_name: str
    claimed_by: str | None


@dataclass(frozen=True)
class Option:
    """One choice of a filter, with how many tasks choosing it would show."""

    value: str
    label: str
    count: int


@dataclass
class Inbox:
    """The page: the rows, the counts of each filter's options, what was wrong with the parameters."""

    query: InboxQuery
    page: Page[InboxRow]
    facets: dict[str, list[Option]] = field(default_factory=dict)
    problems: list[Message] = field(default_factory=list)
    page_moved: bool = False  # the page asked for was past the last: the last one is shown
    can_supervise: bool = False
    more_than_counted: bool = False  # more tasks match than the list counts (TOTAL_CAP)
    saved: list[SavedFilter] = field(default_factory=list)


def parse_query(args: Mapping[str, str]) -> tuple[InboxQuery, list[Message]]:
    """The inbox query of GET parameters; an unknown value is left out and named in the problems."""
    problems: list[Message] = []
    chosen: dict[str, Any] = {}
    cat = catalog()
    types = {t.code for t in cat.types}
    indexes = {c.code for t in cat.types for c in t.index_codes} | {t.index_code for t in cat.types}
    allowed: dict[str, tuple[str, ...] | set[str]] = {
        "type": types,
        "index": indexes,
        "claim": CLAIMS,
        "due": DUES,
        "sort": SORTS,
        "by": SEARCH_KEYS,
        "scope": SCOPES,
    }
    for name, values in allowed.items():
        value = (args.get(name) or "").strip()
        if not value:
            continue
        if value in values:
            chosen[name] = value
        else:
            problems.append(_unknown(name, value))
    step = (args.get("step") or "").strip()
    if step:
        if _STEP.match(step):
            chosen["step"] = step
        else:
            problems.append(_unknown("step", step))
    search = " ".join((args.get("q") or "").split())
    if len(search) > MAX_SEARCH:
        problems.append(Message("A search is at most %(limit)s characters; it was shortened.", limit=MAX_SEARCH))
        search = search[:MAX_SEARCH]
    if search:
        chosen["q"] = search
    page = (args.get("page") or "").strip()
    if page:
        if page.isdigit() and int(page) >= 1:
            chosen["page"] = min(int(page), MAX_PAGE_NUMBER)  # past the last page: the last one is shown
        else:
            problems.append(Message("There is no page “%(page)s”; the first page is shown.", page=page[:20]))
    return InboxQuery(**chosen), problems


def inbox_page(user: User, args: Mapping[str, str], language: str | None = None) -> Inbox:
    """The inbox page of these GET parameters: the tasks, counts, problems with the parameters, saved filters."""
    query, problems = parse_query(args)
    inbox = officer_inbox(user, query, language=language)
    inbox.problems = problems
    inbox.saved = saved_filters(user)
    return inbox


def _unknown(name: str, value: str) -> Message:
    return Message(
        "The filter “%(name)s” has no choice “%(value)s”; it is not applied.", name=FILTER_WORDS[name], value=value[:40]
    )


def officer_inbox(user: User, query: InboxQuery, per_page: int = PER_PAGE, language: str | None = None) -> Inbox:
    """The tasks the query asks for, one page of them (a page past the last shows the last), with the
    counts of every filter's options."""
    now = app_clock().now()
    roles = _roles(user, query.scope)
    facets, total = _counts(user, roles, query, now, language)
    capped = total > TOTAL_CAP
    last = TOTAL_CAP // per_page if capped else max(1, -(-total // per_page))
    number = min(query.page, last)
    items = _rows(user, roles, query, now, number, per_page, language) if total else []
    return Inbox(
        replace(query, page=number),
        Page(items, number, per_page, min(total, TOTAL_CAP)),
        facets,
        page_moved=number != query.page,
        can_supervise=user.has_role("supervisor"),
        more_than_counted=capped,
    )


def _roles(user: User, scope: str) -> list[str]:
    """The lanes the inbox lists: the officer's roles, or every officer lane for a supervisor's team view."""
    if scope == "team" and user.has_role("supervisor"):
        return list(OFFICER_ROLES)
    return [r for r in OFFICER_ROLES if user.has_role(r)]


def _conditions(user: User, roles: list[str], query: InboxQuery, now: datetime) -> list[ColumnElement[bool]]:
    """The WHERE of the task filters (not the search)."""
    where: list[ColumnElement[bool]] = [HumanTask.role.in_(roles)]
    if query.type:
        where.append(HumanTask.kitas_type == query.type)
    if query.index:
        where.append(HumanTask.index_code == query.index)
    if query.step:
        where.append(HumanTask.element_id == query.step)
    if query.claim == "mine":
        where.append(HumanTask.claimed_by_id == user.id)
    elif query.claim == "unclaimed":
        where.append(HumanTask.claimed_by_id.is_(None))
    elif query.claim == "others":
        where.append(and_(HumanTask.claimed_by_id.is_not(None), HumanTask.claimed_by_id != user.id))
    if query.due == "late":
        where.append(HumanTask.due_at <= now)
    elif query.due == "soon":
        where.append(and_(HumanTask.due_at > now, HumanTask.due_at <= now + SOON))
    return where


def _search(query: InboxQuery) -> ColumnElement[bool] | None:
    """The WHERE of the search on the case row: register number, passport number (exact, any case or
    spacing), name (contains, any case or accents)."""
    if not query.q:
        return None
    found: list[ColumnElement[bool]] = []
    if query.by in ("any", "reference"):
        found.append(Application.reference == query.q.upper().replace(" ", ""))
    if query.by in ("any", "passport"):
        found.append(Application.passport_number == passport_form(query.q))
    if query.by in ("any", "name"):
        words = name_form(query.q).replace("\\", "").replace("%", "").replace("_", " ").strip()
        if words:
            found.append(Application.name_search.like(f"%{words}%"))
    return or_(*found) if found else literal(False)


def _order(query: InboxQuery, columns: Any) -> tuple[Any, ...]:
    """The sort of the list over ``columns`` (the task table or a subquery of it): oldest first, or due
    soonest first with tasks without a due time last (PostgreSQL's ascending order, so its index serves it)."""
    if query.sort == "due":
        return (columns.due_at.asc().nulls_last(), columns.id)
    return (columns.created_at, columns.id)


def _page_ids(user: User, roles: list[str], query: InboxQuery, now: datetime, number: int, per_page: int) -> Any:
    """The ids of the page's tasks, in order. Several lanes are read one index range each (UNION ALL of
    per-lane first pages), because one ORDER BY over ``role IN (...)`` would sort every open task."""
    offset = (number - 1) * per_page
    search = _search(query)

    def lane(roles_of: list[str], limit: int, skip: int = 0) -> Any:
        statement = select(HumanTask.id, HumanTask.created_at, HumanTask.due_at).where(
            *_conditions(user, roles_of, query, now)
        )
        if search is not None:
            statement = statement.join(Application, Application.id == HumanTask.application_id).where(search)
        return statement.order_by(*_order(query, HumanTask)).limit(limit).offset(skip)

    if len(roles) == 1:
        return lane(roles, per_page, offset).subquery()
    branches = [
        select(branch.c.id, branch.c.created_at, branch.c.due_at).select_from(branch)
        for branch in (lane([role], offset + per_page).subquery() for role in roles)
    ]
    both = union_all(*branches).subquery()
    return (
        select(both.c.id, both.c.created_at, both.c.due_at)
        .order_by(*_order(query, both.c))
        .limit(per_page)
        .offset(offset)
        .subquery()
    )


def _rows(
    user: User, roles: list[str], query: InboxQuery, now: datetime, number: int, per_page: int, language: str | None
) -> list[InboxRow]:
    ids = _page_ids(user, roles, query, now, number, per_page)
    statement = (
        select(
            HumanTask,
            Application.reference,
            Application.kitas_type,
            Application.index_code,
            func.coalesce(Application.applicant_name, _APPLICANT.full_name),
            _CLAIMER.full_name,
            Application.definition_id,
        )
        .join(ids, ids.c.id == HumanTask.id)
        .join(Application, Application.id == HumanTask.application_id)
        .join(_APPLICANT, _APPLICANT.id == Application.applicant_id)
        .outerjoin(_CLAIMER, _CLAIMER.id == HumanTask.claimed_by_id)
        .order_by(*_order(query, HumanTask))
    )
    rows = db.session.execute(statement).all()
    names = names_by_definition({row[-1] for row in rows}, language)
    return [
        InboxRow(localized(task, names.get(definition)), ref, _type_name(kind, language), index or "", name, claimed)
        for task, ref, kind, index, name, claimed, definition in rows
    ]


def _counts(
    user: User, roles: list[str], query: InboxQuery, now: datetime, language: str | None
) -> tuple[dict[str, list[Option]], int]:
    """Each filter's options with their counts (the other filters applied), and the count of the query.

    ONE statement of capped counts: each reads at most its cap of index entries (``TOTAL_CAP`` for the
    list, ``OPTION_CAP`` for an option: shown as "1000+"), so the page costs the same with 300,000 open
    tasks as with 300. The search narrows the list's count, not the options'."""
    cat = catalog(language)
    steps = _steps(roles, language)
    if query.step and query.step not in steps:
        steps[query.step] = query.step
    type_codes = [t.code for t in cat.types]
    index_codes = sorted(
        {code for t in cat.types if not query.type or t.code == query.type for code in _index_codes(t)}
    )
    wanted: dict[str, list[str]] = {
        "claim": ["any", "mine", "unclaimed", "others"],
        "due": ["any", "late", "soon"],
        "type": type_codes,
        "index": index_codes,
        "step": list(steps),
    }
    columns = [_capped(_conditions(user, roles, query, now), TOTAL_CAP, _search(query)).label("total")]
    for facet, values in wanted.items():
        for position, value in enumerate(values):
            asked = replace(query, **{facet: value})  # type: ignore[arg-type]  # a str field, by name
            columns.append(_capped(_conditions(user, roles, asked, now), OPTION_CAP).label(f"{facet}_{position}"))
    found = db.session.execute(select(*columns)).one()
    counted = iter(found[1:])
    facets: dict[str, list[Option]] = {}
    for facet, values in wanted.items():
        facets[facet] = [Option(v, _label(facet, v, cat, steps), int(next(counted))) for v in values]
    facets["step"].sort(key=lambda option: option.label)
    return facets, int(found[0])


def _capped(where: list[ColumnElement[bool]], cap: int, search: ColumnElement[bool] | None = None) -> Any:
    """``count(*)`` of the tasks matching ``where`` (and the search), reading at most ``cap + 1`` rows."""
    inner = select(literal(1).label("one")).select_from(HumanTask).where(*where)
    if search is not None:
        inner = inner.join(Application, Application.id == HumanTask.application_id).where(search)
    return select(func.count()).select_from(inner.limit(cap + 1).subquery()).scalar_subquery()


def _index_codes(kitas_type: Any) -> list[str]:
    return [c.code for c in kitas_type.index_codes] or [kitas_type.index_code]


def _label(facet: str, value: str, cat: Any, steps: dict[str, str]) -> str:
    if facet == "type":
        return str(cat.by_code(value).name)
    if facet == "step":
        return steps.get(value, value)
    return value


def _steps(roles: list[str], language: str | None) -> dict[str, str]:
    """The steps of the lanes listed (element id -> name in ``language``), from the newest version of every
    type's process."""
    found: dict[str, str] = {}
    lanes = catalog()
    names = _step_names(language)
    for kitas_type in catalog().types:
        definition = latest_definition(kitas_type.process_id) if kitas_type.process_id else None
        if definition is None:
            continue
        for element, info in process_model(definition).user_tasks.items():
            if info.lane and lanes.role_for_lane(info.lane) in roles:
                found.setdefault(element, names.get(element, element))
    return found


def _step_names(language: str | None) -> dict[str, str]:
    """Element id -> the step's name in ``language``, from the newest version of every type's process."""
    names: dict[str, str] = {}
    for kitas_type in catalog().types:
        if kitas_type.process_id is None:
            continue
        definition = latest_definition(kitas_type.process_id)
        if definition is not None:
            for element, name in element_names(definition, language or "en").items():
                names.setdefault(element, name)
    return names


def _type_name(code: str, language: str | None = None) -> str:
    try:
        entry = catalog(language).by_code(code)
    except KeyError:
        return code
    return entry.name


# -- saved filters ----------------------------------------------------------------------------------


def saved_filters(user: User) -> list[SavedFilter]:
    """The officer's saved filters, by name."""
    return list(
        db.session.scalars(select(SavedFilter).where(SavedFilter.user_id == user.id).order_by(SavedFilter.name))
    )


def save_filter(user: User, name: str, query_string: str) -> SavedFilter:
    """Keep the view ``query_string`` under ``name`` (the same name replaces it); InvalidInput names a
    missing or long name, a view with unknown filters, or too many saved filters."""
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidInput({"name": [Message("Give the filter a name of 1 to 80 characters.")]})
    query, problems = parse_query(dict(parse_qsl(query_string)))
    if problems:
        refused: list[str] = list(problems)
        raise InvalidInput({"name": refused})
    with write_transaction():
        existing = db.session.scalars(
            select(SavedFilter).where(SavedFilter.user_id == user.id, SavedFilter.name == name)
        ).first()
        if existing is None:
            count = db.session.scalar(
                select(func.count()).select_from(SavedFilter).where(SavedFilter.user_id == user.id)
            )
            if (count or 0) >= MAX_SAVED:
                raise InvalidInput(
                    {"name": [Message("You can keep at most %(limit)s filters; delete one first.", limit=MAX_SAVED)]}
                )
            existing = SavedFilter(user_id=user.id, name=name, created_at=app_clock().now(), query="")
            db.session.add(existing)
        existing.query = query.query_string()
    return existing


def delete_filter(user: User, filter_id: int) -> None:
    """Delete one of the officer's saved filters; another officer's is NotFound."""
    with write_transaction():
        row = db.session.get(SavedFilter, filter_id)
        if row is None or row.user_id != user.id:
            raise NotFound(Message("there is no such saved filter"))
        db.session.delete(row)
