"""The officers' inbox: open tasks of their lanes and offices, filtered, searched, sorted, counted and paged.

It reads the projections only: ``human_task`` (which carries its case's type, index code and office, and
its due time from the SLA timer of the timer projection) and the case row's search columns (register
number, passport number, name), never the workflow state. Filters arrive as the page's GET parameters
(``parse_query``), so every view is a bookmark; an officer can keep views by name (``saved_filters``).

An officer sees the tasks of her offices only (``offices.scope.visible_office_ids``); an admin sees
every office's, and the tasks of no office. Counts per filter are ONE statement of capped counts
(office, step, type, index code, claim and due state): each option's count applies the other filters
chosen, so a number says how many tasks choosing that option would show. A search is not part of the
option counts (it narrows the list only).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import ColumnElement, any_, func, literal, or_, select, union, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from forms.texts import Message
from workflows import catalog

from ...extensions import app_clock, db
from ...models import Application, HumanTask, Office, SavedFilter, User
from ...transactions import write_transaction
from ..deployments import element_names, latest_definition, process_model
from ..errors import InvalidInput, NotFound
from ..offices.scope import trial_task_ids, visible_office_ids
from ..paging import MAX_PAGE_NUMBER, Page
from .access import OFFICER_ROLES
from .names import localized, names_by_definition
from .search_columns import name_form, passport_form

PER_PAGE = 25
TOTAL_CAP = 10_000  # the list counts this far ("more than 10,000"), and pages through this many
OPTION_CAP = 1_000  # a filter option counts this far ("1000+")
SOON = timedelta(hours=24)  # "due soon": within a day, as the due times are coloured
CLAIMS = ("any", "mine", "unclaimed", "others")
DUES = ("any", "late", "soon", "escalated")  # escalated: the SLA timer fired (``escalated_at``)
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
    "office": Message("Office"),
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
    office: str = ""  # an office's code
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
        return bool(self.type or self.index or self.step or self.office or self.q) or (self.claim, self.due) != (
            "any",
            "any",
        )


@dataclass(frozen=True)
class InboxRow:
    """One open task of the inbox."""

    task: HumanTask
    reference: str
    type_name: str
    index_code: str
    applicant_name: str
    claimed_by: str | None
    office: str = ""  # the office's code and city ("JKS, Jakarta Selatan"); empty: the case has no office yet

    @property
    def late_since(self) -> datetime | None:
        """An escalated task: the due time it is late since (the escalation's time if it had none)."""
        if self.task.escalated_at is None:
            return None
        return self.task.due_at or self.task.escalated_at


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
    every_office: bool = False  # an admin: every office's tasks, and those of no office
    more_than_counted: bool = False  # more tasks match than the list counts (TOTAL_CAP)
    saved: list[SavedFilter] = field(default_factory=list)


def parse_query(args: Mapping[str, str], offices: Collection[str] | None = None) -> tuple[InboxQuery, list[Message]]:
    """The inbox query of GET parameters; an unknown value is left out and named in the problems.

    ``offices``: the codes of the offices the reader may choose (default: every office)."""
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
        "office": set(offices) if offices is not None else set(db.session.scalars(select(Office.code))),
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
    query, problems = parse_query(args, [office.code for office in _offices_of(user)[0]])
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
    offices, everywhere = _offices_of(user)
    steered = db.session.get_bind().dialect.name == "sqlite"
    hidden = trial_task_ids() if everywhere else ()  # an officer's offices never hold a trial case
    where = _Where(user, _roles(user, query.scope), offices, everywhere, query, now, steered, hidden)
    facets, total = _counts(where, language)
    capped = total > TOTAL_CAP
    last = TOTAL_CAP // per_page if capped else max(1, -(-total // per_page))
    number = min(query.page, last)
    items = _rows(where, number, per_page, language) if total else []
    return Inbox(
        replace(query, page=number),
        Page(items, number, per_page, min(total, TOTAL_CAP)),
        facets,
        page_moved=number != query.page,
        can_supervise=user.has_role("supervisor"),
        every_office=everywhere,
        more_than_counted=capped,
    )


def _roles(user: User, scope: str) -> list[str]:
    """The lanes the inbox lists: the officer's roles, or every officer lane for a supervisor's team view."""
    if scope == "team" and user.has_role("supervisor"):
        return list(OFFICER_ROLES)
    return [r for r in OFFICER_ROLES if user.has_role(r)]


def _offices_of(user: User) -> tuple[list[Office], bool]:
    """The offices whose tasks ``user`` sees, by code, and whether she sees every task (an admin: every
    office, and the tasks of no office)."""
    visible = visible_office_ids(user)
    statement = select(Office).order_by(Office.code)
    if visible is not None:
        statement = statement.where(Office.id.in_(sorted(visible)))
    return list(db.session.scalars(statement)), visible is None


# On SQLite, which index a statement reads is steered: the planner, knowing only average counts per key,
# often reads a long range of a poor index. Every term but those of the chosen index is written
# ``+column`` (no index can serve it), so the statement reads the one range that fits it. The choice,
# from the filter that usually narrows most: my claims, escalated, due soon, index code, step, type,
# others' claims (two ranges), then the office. PostgreSQL's planner, with its histograms, chooses alone.
_DRIVERS = (
    ("claim", "mine", "claimed_by_id"),
    ("due", "escalated", "escalated_at"),
    ("due", "soon", "due_at"),
    ("index", None, "index_code"),
    ("step", None, "element_id"),
    ("type", None, "kitas_type"),
    ("claim", "others", "claimed_by_id"),
)


@dataclass(frozen=True)
class _Where:
    """Who asks, for which lanes and offices, and what: the WHERE of every statement of the page."""

    user: User
    roles: list[str]
    offices: list[Office]  # the offices the reader sees (an admin: every office)
    everywhere: bool  # an admin: every office's tasks, and those of no office
    query: InboxQuery
    now: datetime
    steered: bool = False  # SQLite: terms outside the chosen index are written ``+column``
    hidden: tuple[int, ...] = ()  # an admin's view: the task rows of the studio's trial cases, left out

    def office_ids(self, query: InboxQuery) -> list[int] | None:
        """The offices ``query`` lists (None: every office and none, an admin's whole view)."""
        if query.office:
            return [o.id for o in self.offices if o.code == query.office]
        if self.everywhere:
            return None
        return [o.id for o in self.offices]

    def ranges(self, query: InboxQuery | None = None, searched: bool = False) -> list[list[ColumnElement[bool]]]:
        """The WHERE of ``query`` (default: the page's) with its lanes and offices, not the search: one
        list of terms per index range (two for "claimed by others": below my id and above it, where
        "!= me AND NOT NULL" would read every claimed task). ``searched``: the search's cases are the
        range (their tasks by the case index), the rest are terms."""
        query = query or self.query
        if searched:
            column = self._columns("application_id")
            return [
                [column("role").in_(self.roles), *self._scope_offices(query, column), *terms]
                for terms in self._filters(query, column, split=False)
            ]
        column = self._columns(self._driver(query, listing=False))
        scope = [column("role").in_(self.roles), *self._scope_offices(query, column)]
        return [scope + terms for terms in self._filters(query, column)]

    def _scope_offices(self, query: InboxQuery, column: Any) -> list[ColumnElement[bool]]:
        offices = self.office_ids(query)
        if offices is None:
            return [column("id").not_in(self.hidden)] if self.hidden else []
        return [column("office_id").in_(offices)]

    def branches(self) -> list[list[ColumnElement[bool]]]:
        """The list's WHERE as one index range per lane and office, whose first pages are merged: one
        ORDER BY over ``role IN (...)`` or ``office_id IN (...)`` would sort every matching task."""
        query = self.query
        column = self._columns("application_id" if query.q else self._driver(query, listing=True))
        offices = self.office_ids(query)
        found: list[list[ColumnElement[bool]]] = []
        for role in self.roles:
            for office in offices if offices is not None else [None]:
                scope = [column("role") == role]
                if office is not None:
                    scope.append(column("office_id") == office)
                elif self.hidden:
                    scope.append(column("id").not_in(self.hidden))
                found.extend(scope + terms for terms in self._filters(query, column, split=False))
        return found

    def _filters(self, query: InboxQuery, column: Any, split: bool = True) -> list[list[ColumnElement[bool]]]:
        """The terms of the filters (lanes, offices and search aside); "claimed by others" as two
        alternatives when ``split``."""
        terms: list[ColumnElement[bool]] = []
        for name, attribute in (("type", "kitas_type"), ("index", "index_code"), ("step", "element_id")):
            if getattr(query, name):
                terms.append(column(attribute) == getattr(query, name))
        claimant = column("claimed_by_id")
        if query.claim == "mine":
            terms.append(claimant == self.user.id)
        elif query.claim == "unclaimed":
            terms.append(claimant.is_(None))
        due = column("due_at")
        if query.due == "late":
            terms.append(due <= self.now)
        elif query.due == "soon":
            terms.extend([due > self.now, due <= self.now + SOON])
        elif query.due == "escalated":
            terms.append(column("escalated_at").is_not(None))
        if query.claim != "others":
            return [terms]
        if split:
            return [[*terms, claimant < self.user.id], [*terms, claimant > self.user.id]]
        return [[*terms, or_(claimant < self.user.id, claimant > self.user.id)]]

    def _driver(self, query: InboxQuery, listing: bool) -> str:
        """SQLite: the column whose index the statement reads (after the role)."""
        if query.sort == "due" and listing and query.claim != "mine":
            return "due_at"  # its index is in the list's order
        for name, value, column in _DRIVERS:
            chosen = getattr(query, name)
            if chosen and (value is None or chosen == value) and not (listing and value == "others"):
                return column
        return "office_id" if self.office_ids(query) is not None else "role"

    def _columns(self, driver: str) -> Any:
        """A column by name, as a term of the chosen index may use it (``driver``, the role and, for the
        office's index, the office) or, steered, as ``+column`` that no index serves."""
        usable = {driver, "role"} | ({"office_id"} if driver in ("office_id", "escalated_at") else set())
        if driver == "application_id":
            usable = {driver}

        def column(name: str) -> Any:
            found = getattr(HumanTask, name)
            if not self.steered or name in usable:
                return found
            return UnaryExpression(found, operator=operators.custom_op("+"), type_=found.type)

        return column

    def search(self, counting: bool = False) -> ColumnElement[bool] | None:
        """The search as the tasks of the cases it finds: one IN over the UNION of each key's own lookup
        (register number, passport number: exact, any case or spacing; name: contains, any case or
        accents), each through its own index, where one OR over the three would read every case."""
        query = self.query
        if not query.q:
            return None
        found: list[Any] = []
        if query.by in ("any", "reference"):
            found.append(select(Application.id).where(Application.reference == query.q.upper().replace(" ", "")))
        if query.by in ("any", "passport"):
            found.append(select(Application.id).where(Application.passport_number == passport_form(query.q)))
        if query.by in ("any", "name"):
            words = name_form(query.q).replace("\\", "").replace("%", "").replace("_", " ").strip()
            if words:
                found.append(select(Application.id).where(Application.name_search.like(f"%{words}%")))
        if not found:
            return literal(False)
        cases: Any = union(*found) if len(found) > 1 else found[0]
        if self.steered or not counting:
            return HumanTask.application_id.in_(cases)
        # PostgreSQL's count: the cases found, as one array computed first, probe the tasks' case index;
        # as an IN the planner, guessing thousands of cases, would hash-join every open task instead.
        # (The list keeps the IN: its first page is found in the office's range, in order.)
        return HumanTask.application_id == any_(func.array(cases.scalar_subquery()))


def _order(query: InboxQuery, columns: Any) -> tuple[Any, ...]:
    """The sort of the list over ``columns`` (the task table or a subquery of it): oldest first, or due
    soonest first with tasks without a due time last (PostgreSQL's ascending order, so its index serves it)."""
    if query.sort == "due":
        return (columns.due_at.asc().nulls_last(), columns.id)
    return (columns.created_at, columns.id)


def _page_ids(where: _Where, number: int, per_page: int) -> Any:
    """The ids of the page's tasks, in order: each lane and office one index range (UNION ALL of their
    first pages), then merged."""
    offset = (number - 1) * per_page
    search = where.search()
    query = where.query

    def branch(conditions: list[ColumnElement[bool]], limit: int, skip: int = 0) -> Any:
        statement = select(HumanTask.id, HumanTask.created_at, HumanTask.due_at).where(*conditions)
        if search is not None:
            statement = statement.where(search)
        return statement.order_by(*_order(query, HumanTask)).limit(limit).offset(skip)

    branches = where.branches()
    if len(branches) == 1:
        return branch(branches[0], per_page, offset).subquery()
    parts = [
        select(part.c.id, part.c.created_at, part.c.due_at).select_from(part)
        for part in (branch(conditions, offset + per_page).subquery() for conditions in branches)
    ]
    merged = union_all(*parts).subquery()
    return (
        select(merged.c.id, merged.c.created_at, merged.c.due_at)
        .order_by(*_order(query, merged.c))
        .limit(per_page)
        .offset(offset)
        .subquery()
    )


def _rows(where: _Where, number: int, per_page: int, language: str | None) -> list[InboxRow]:
    ids = _page_ids(where, number, per_page)
    statement = (
        select(
            HumanTask,
            Application.reference,
            Application.kitas_type,
            Application.index_code,
            func.coalesce(Application.applicant_name, _APPLICANT.full_name),
            _CLAIMER.full_name,
            Office.code,
            Office.city,
            Application.definition_id,
        )
        .join(ids, ids.c.id == HumanTask.id)
        .join(Application, Application.id == HumanTask.application_id)
        .join(_APPLICANT, _APPLICANT.id == Application.applicant_id)
        .outerjoin(_CLAIMER, _CLAIMER.id == HumanTask.claimed_by_id)
        .outerjoin(Office, Office.id == HumanTask.office_id)
        .order_by(*_order(where.query, HumanTask))
    )
    rows = db.session.execute(statement).all()
    names = names_by_definition({row[-1] for row in rows}, language)
    return [
        InboxRow(
            localized(task, names.get(definition)),
            ref,
            _type_name(kind, language),
            index or "",
            name,
            claimed,
            f"{code}, {city}" if code else "",
        )
        for task, ref, kind, index, name, claimed, code, city, definition in rows
    ]


def _counts(where: _Where, language: str | None) -> tuple[dict[str, list[Option]], int]:
    """Each filter's options with their counts (the other filters applied), and the count of the query.

    ONE statement of capped counts: each reads at most its cap of index entries (``TOTAL_CAP`` for the
    list, ``OPTION_CAP`` for an option: shown as "1000+"), so the page costs the same with 300,000 open
    tasks as with 300. The search narrows the list's count, not the options'. An option no task can have
    (a type other than the chosen index code's) is 0 without a count."""
    query = where.query
    cat = catalog(language)
    steps = _steps(where.roles, language)
    if query.step and query.step not in steps:
        steps[query.step] = query.step
    type_codes = [t.code for t in cat.types]
    index_codes = sorted(
        {code for t in cat.types if not query.type or t.code == query.type for code in _index_codes(t)}
    )
    offices = {o.code: f"{o.code}, {o.city}" for o in where.offices}
    wanted: dict[str, list[str]] = {
        "claim": list(CLAIMS),
        "due": list(DUES),
        "office": list(offices),
        "type": type_codes,
        "index": index_codes,
        "step": list(steps),
    }
    types_of_index: dict[str, set[str]] = {}
    for kitas_type in cat.types:
        for code in _index_codes(kitas_type):
            types_of_index.setdefault(code, set()).add(kitas_type.code)

    def possible(asked: InboxQuery) -> bool:
        kinds = {asked.type} if asked.type else set(type_codes)
        if asked.index:
            kinds &= types_of_index.get(asked.index, set())
        return bool(kinds)

    search = where.search(counting=True)
    columns = [_capped(where.ranges(searched=search is not None), TOTAL_CAP, search).label("total")]
    # How each option's count is known: counted here, the list's own count (the option chosen), or
    # none possible.
    how: list[str] = []
    for facet, values in wanted.items():
        for value in values:
            asked = replace(query, **{facet: value})  # type: ignore[arg-type]  # a str field, by name
            if asked == query and not query.q:
                how.append("list")
            elif possible(asked):
                columns.append(_capped(where.ranges(asked), OPTION_CAP).label(f"count_{len(columns)}"))
                how.append("counted")
            else:
                how.append("none")
    found = iter(db.session.execute(select(*columns)).one())
    total = int(next(found))
    facets: dict[str, list[Option]] = {}
    labels = {"step": steps, "office": offices}
    known = iter(how)
    for facet, values in wanted.items():
        facets[facet] = []
        for value in values:
            way = next(known)
            count = int(next(found)) if way == "counted" else min(total, OPTION_CAP + 1) if way == "list" else 0
            facets[facet].append(Option(value, _label(facet, value, cat, labels), count))
    facets["step"].sort(key=lambda option: option.label)
    return facets, total


def _capped(ranges: list[list[ColumnElement[bool]]], cap: int, search: ColumnElement[bool] | None = None) -> Any:
    """``count(*)`` of the tasks in ``ranges`` (and the search), reading at most ``cap + 1`` rows of each."""
    parts = []
    for where in ranges:
        part = select(literal(1).label("one")).select_from(HumanTask).where(*where)
        if search is not None:
            part = part.where(search)
        parts.append(part.limit(cap + 1))
    inner = parts[0] if len(parts) == 1 else union_all(*(p.subquery().select() for p in parts)).limit(cap + 1)
    return select(func.count()).select_from(inner.subquery()).scalar_subquery()


def _index_codes(kitas_type: Any) -> list[str]:
    return [c.code for c in kitas_type.index_codes] or [kitas_type.index_code]


def _label(facet: str, value: str, cat: Any, labels: dict[str, dict[str, str]]) -> str:
    if facet == "type":
        return str(cat.by_code(value).name)
    if facet in labels:
        return labels[facet].get(value, value)
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
    query, problems = parse_query(dict(parse_qsl(query_string)), [office.code for office in _offices_of(user)[0]])
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
