"""Starting a group: its form (built from the type's deployed forms), the checks, one case per person."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select

import forms
from forms.spec import ui_of
from forms.texts import Message
from workflows import KitasType, catalog

from ...extensions import app_clock, db
from ...models import ApplicationGroup, ProcessDefinition, Role, User
from .. import audit
from ..accounts.fields import normalize_email
from ..cases import new_reference
from ..cases.form_rules import type_rule_context
from ..cases.lifecycle import checked_index, start_in_step
from ..cases.sponsor_limits import room_problem
from ..cases.unit_of_work import new_case_batch
from ..deployments import definition_form, latest_definition, process_model
from ..errors import Forbidden, InvalidInput, NotFound
from ..offices.directory import PROVINCE_FIELD, office_for_province, provinces

MEMBERS = "members"  # the list of people: rows ``members-<n>-<field>`` in the posted form
KIND = "sponsor_kind"
INDEX = "index_code"  # a person's index code, given once for the group or per person
GROUP_PREFIX = "G"  # group references: G-2026-7KQ2M9XA


@dataclass(frozen=True)
class GroupForm:
    """The form that starts a group of a type: the sponsor's fields (once) and one row per person."""

    kitas_type: str
    type_name: str
    sponsor: forms.FormSpec
    members: forms.FormSpec
    sponsor_kinds: tuple[str, ...]
    max_members: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    # The forms of the type's steps the group's fields come from, whole: each person's answers with the
    # sponsor's are validated as those forms would (a NIK for a citizen, a permit number for a holder).
    sources: tuple[forms.FormSpec, ...] = ()
    # The provinces the sponsor may say they live in (the domicile rule's): every case goes to its office.
    provinces: tuple[str, ...] = ()

    @property
    def member_field(self) -> forms.FormField:
        """The list of people, as the row macro draws it."""
        found = self.members.field(MEMBERS)
        assert found is not None
        return found


class GroupRejected(InvalidInput):
    """The group was not started; ``form`` holds what was typed and every error by field."""

    def __init__(self, errors: dict[str, list[str]], form: GroupForm):
        super().__init__(errors)
        self.form = form


def startable_group_types(language: str | None = None) -> list[KitasType]:
    """The types a sponsor can start a group of: a sponsor, group rules, and a deployed diagram."""
    return [
        entry
        for entry in catalog(language).types
        if entry.group and entry.sponsor_kinds and entry.process_id and latest_definition(entry.process_id)
    ]


def _entry(kitas_type: str) -> tuple[KitasType, ProcessDefinition]:
    try:
        entry = catalog().by_code(kitas_type)
    except KeyError as exc:
        raise NotFound(Message("there is no KITAS type %(code)r", code=kitas_type)) from exc
    definition = latest_definition(entry.process_id) if entry.process_id else None
    if entry.group is None or not entry.sponsor_kinds or definition is None:
        raise NotFound(
            Message("%(name)s (%(code)s) cannot be applied for as a group", name=entry.name_en, code=entry.index_code)
        )
    return entry, definition


def _step_forms(definition: ProcessDefinition, steps: Sequence[str], language: str | None) -> dict[str, forms.FormSpec]:
    """The version's forms of these steps (element id -> form), steps without a form left out."""
    model = process_model(definition)
    found: dict[str, forms.FormSpec] = {}
    for element_id in steps:
        info = model.user_tasks.get(element_id)
        if info is not None and info.form_schema:
            found[element_id] = definition_form(definition, info.form_schema, info.form_ui_schema, language)
    return found


def _fields(
    definition: ProcessDefinition,
    steps: Mapping[str, Sequence[str]],
    language: str | None,
    relabel: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """The named fields of the version's forms: their schemas, UI schemas and which are required."""
    properties: dict[str, Any] = {}
    ui: dict[str, Any] = {}
    required: list[str] = []
    step_forms = _step_forms(definition, list(steps), language)
    for element_id, names in steps.items():
        form = step_forms.get(element_id)
        if form is None:
            continue
        wanted = set(form.schema.get("required", ()))
        for name in names:
            if name in form.schema.get("properties", {}):
                # A field the step shows read-only (the relation, the study) is given here, at the start.
                properties[name] = {k: v for k, v in form.schema["properties"][name].items() if k != "readOnly"}
                ui[name] = {k: v for k, v in ui_of(form.ui_schema, name).items() if k != "ui:readonly"}
                for key, value in (relabel or {}).get(name, {}).items():  # the group's own words for it
                    (ui[name] if key.startswith("ui:") else properties[name])[key] = value
                if name in wanted:
                    required.append(name)
    return properties, ui, required


def group_form(kitas_type: str, language: str | None = None) -> GroupForm:
    """The empty form that starts a group of ``kitas_type``, its texts in ``language``."""
    entry, definition = _entry(kitas_type)
    assert entry.group is not None
    relabel = catalog(language).by_code(entry.code).group
    texts = relabel.fields if relabel is not None else {}
    sponsor_props, sponsor_ui, sponsor_required = _fields(definition, entry.group.sponsor_fields, language, texts)
    member_props, member_ui, member_required = _fields(definition, entry.group.member_fields, language, texts)
    sponsor = forms.FormSpec(
        name="group-sponsor",
        schema={"type": "object", "properties": sponsor_props, "required": sponsor_required},
        ui_schema={**sponsor_ui, "ui:order": list(sponsor_props)},
    )
    row = {"type": "object", "properties": member_props, "required": member_required}
    members = forms.FormSpec(
        name="group-members",
        schema={"type": "object", "properties": {MEMBERS: {"type": "array", "title": MEMBERS, "items": row}}},
        ui_schema={MEMBERS: {"items": {**member_ui, "ui:order": list(member_props)}}},
    )
    steps = [*entry.group.sponsor_fields, *entry.group.member_fields]
    return GroupForm(
        kitas_type=entry.code,
        type_name=catalog(language).by_code(entry.code).name,
        sponsor=sponsor,
        members=members,
        sponsor_kinds=entry.sponsor_kinds,
        max_members=catalog().group_max_members,
        sources=tuple(_step_forms(definition, list(dict.fromkeys(steps)), language).values()),
        provinces=tuple(provinces()),
    )


def _member_problems(rows: list[dict[str, Any]], limit: int) -> dict[str, list[str]]:
    """What is wrong with the list as a whole: empty, too long, one address given twice."""
    if not rows:
        return {MEMBERS: [Message("Add at least one person: a group needs one row per person.")]}
    errors: dict[str, list[str]] = {}
    if limit and len(rows) > limit:
        errors[MEMBERS] = [
            Message(
                "A group holds at most %(limit)s people; you listed %(count)s. Start several groups.",
                limit=limit,
                count=len(rows),
            )
        ]
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        email = row.get("email")
        if not isinstance(email, str) or not email.strip():
            continue
        key = normalize_email(email)
        if key in seen:
            errors[f"{MEMBERS}.{index}.email"] = [
                Message(
                    "This e-mail address is already given in row %(row)s; each person needs their own address.",
                    row=seen[key] + 1,
                )
            ]
        else:
            seen[key] = index
    return errors


def _kind(form: GroupForm, raw: Mapping[str, Any], errors: dict[str, list[str]]) -> str:
    if len(form.sponsor_kinds) == 1:
        return form.sponsor_kinds[0]
    posted = raw.get(KIND)
    chosen = posted[-1] if isinstance(posted, list) and posted else posted
    if chosen not in form.sponsor_kinds:
        errors[KIND] = [Message("Choose who sponsors these people.")]
        return ""
    return str(chosen)


def start_group(
    kitas_type: str, sponsor: User, raw: Mapping[str, Any], language: str | None = None
) -> ApplicationGroup:
    """Start one case per listed person with the shared sponsor data, all in one transaction; GroupRejected
    (everything typed kept) when anything is wrong, the individual sponsor's limit included."""
    form = group_form(kitas_type, language)
    if not sponsor.has_role("sponsor") or sponsor.email_verified_at is None:
        raise Forbidden(Message("confirm your e-mail address before you start applications as a sponsor"))
    shared, errors = forms.coerce(form.sponsor, raw)
    listed, member_errors = forms.coerce(form.members, raw)
    errors.update(member_errors)
    for key, messages in forms.validate(form.sponsor, shared).items():
        errors.setdefault(key, messages)
    for key, messages in forms.validate(form.members, listed).items():
        errors.setdefault(key, messages)
    rows = [row for row in listed.get(MEMBERS, []) if isinstance(row, dict)]
    for key, messages in _member_problems(rows, form.max_members).items():
        errors.setdefault(key, messages)
    kind = _kind(form, raw, errors)
    for key, messages in _as_the_forms_would(form, shared, kind, rows).items():
        errors.setdefault(key, messages)
    for key, messages in _index_problems(form, shared, rows).items():
        errors.setdefault(key, messages)
    province = _province(raw, errors)
    values = {**shared, KIND: kind, MEMBERS: rows, PROVINCE_FIELD: province or ""}
    if errors:
        raise GroupRejected(errors, _with(form, values, errors))
    try:
        return _start(form, sponsor, shared, kind, rows, province)
    except InvalidInput as exc:  # the limit, checked under the transaction's lock
        raise GroupRejected(exc.errors, _with(form, values, exc.errors)) from exc


def _province(raw: Mapping[str, Any], errors: dict[str, list[str]]) -> str | None:
    """The sponsor's province, asked once for every case of the group (its office comes from it); not
    posted at all: the default office (a caller without the form), posted empty: an error."""
    posted = raw.get(PROVINCE_FIELD)
    province = posted[-1] if isinstance(posted, list) and posted else posted
    if province is None:
        return None
    if not str(province).strip():
        errors[PROVINCE_FIELD] = [Message("Choose the province where the sponsor is based.")]
        return ""
    try:
        office_for_province(str(province))
    except InvalidInput as exc:
        errors.update(exc.errors)
    return str(province)


def _as_the_forms_would(
    form: GroupForm, shared: dict[str, Any], kind: str, rows: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """The errors the type's own forms find in the sponsor's answers and in each person's answers with
    the sponsor's (conditions such as "a citizen gives a NIK", the index a person's relation allows, the
    forms' rules), on the group's fields only: the rest is asked in the members' own steps later.

    An error on a sponsor's field that only one person's answers bring about (a spouse of a permit holder,
    E31B, in the group of a citizen) stands on that person's row, on the row's field the form reads."""
    sponsor_names = list(form.sponsor.schema.get("properties", {}))
    member_names = list(form.member_field.schema.get("items", {}).get("properties", {}))
    now = app_clock().now()
    errors: dict[str, list[str]] = {}
    alone = {**shared, KIND: kind} if kind else dict(shared)
    shared_errors = _source_errors(form, alone, now)
    for key in sponsor_names:
        if key in shared_errors:
            errors[key] = shared_errors[key]
    for index, row in enumerate(rows):
        answers = {**alone, **{k: v for k, v in row.items() if v not in (None, "")}}
        for source in form.sources:
            found = _errors_of(source, form.kitas_type, answers, now)
            declared = source.schema.get("properties", {})
            read_by_form = [name for name in member_names if name in declared] or member_names
            for key, messages in found.items():
                if key in member_names:
                    errors.setdefault(f"{MEMBERS}.{index}.{key}", messages)
                elif key in sponsor_names and key not in shared_errors and read_by_form:
                    field_spec = form.sponsor.field(key)
                    title = field_spec.title if field_spec is not None else key
                    errors.setdefault(
                        f"{MEMBERS}.{index}.{read_by_form[0]}",
                        [
                            Message(
                                "This does not fit the sponsor's answer to \u201c%(field)s\u201d above: change "
                                "this person's answer, or start a group of their own.",
                                field=title,
                            )
                        ],
                    )
    return errors


def _index_problems(form: GroupForm, shared: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """An index code (the group's, or a person's) that is not one of the type's."""
    entry = catalog().by_code(form.kitas_type)
    keys = [(INDEX, shared.get(INDEX))] + [(f"{MEMBERS}.{i}.{INDEX}", row.get(INDEX)) for i, row in enumerate(rows)]
    errors: dict[str, list[str]] = {}
    for key, code in keys:
        if isinstance(code, str) and code:
            try:
                checked_index(entry, code)
            except InvalidInput as refused:
                errors[key] = refused.errors[INDEX]
    return errors


def _source_errors(form: GroupForm, answers: dict[str, Any], now: Any) -> dict[str, list[str]]:
    """Every source form's errors on these answers (the first form's error on a field wins)."""
    errors: dict[str, list[str]] = {}
    for source in form.sources:
        for key, messages in _errors_of(source, form.kitas_type, answers, now).items():
            errors.setdefault(key, messages)
    return errors


def _errors_of(source: forms.FormSpec, kitas_type: str, answers: dict[str, Any], now: Any) -> dict[str, list[str]]:
    """One step's form on the answers a group gives: its read-only fields read from them, its rules checked
    on the type's numbers and today (the caller keeps the errors on the group's own fields)."""
    return forms.validate(source, answers, type_rule_context(kitas_type, now, answers))


def _with(form: GroupForm, values: dict[str, Any], errors: dict[str, list[str]]) -> GroupForm:
    return replace(form, values=values, errors=errors)


def _start(
    form: GroupForm,
    sponsor: User,
    shared: dict[str, Any],
    kind: str,
    rows: list[dict[str, Any]],
    province: str | None,
) -> ApplicationGroup:
    entry, _ = _entry(form.kitas_type)
    assert entry.process_id is not None
    with new_case_batch() as one:
        problem = room_problem(sponsor.email, kind, len(rows))
        if problem is not None:
            raise InvalidInput({MEMBERS: [problem]})
        group = ApplicationGroup(
            reference=new_reference(GROUP_PREFIX, app_clock().now().year),
            kitas_type=entry.code,
            sponsor_id=sponsor.id,
            sponsor_kind=kind,
            sponsor_data=dict(shared),
            created_at=app_clock().now(),
        )
        db.session.add(group)
        db.session.flush()
        _let_fill_members_steps(sponsor)
        names: dict[str, str] = {}
        for row in rows:
            data = {
                "kitas_type": entry.code,
                **shared,
                "sponsor_email": sponsor.email,
                KIND: kind,
                **{key: value for key, value in row.items() if value not in (None, "")},
                "group_reference": group.reference,
            }
            # Each person's index (their relation, the study), shared or their own: their register number's.
            data[INDEX] = checked_index(entry, data.get(INDEX) or None)
            with one() as step:
                start_in_step(
                    step,
                    entry.process_id,
                    sponsor,
                    kitas_type=entry.code,
                    index_code=data[INDEX],
                    domicile_province=province,
                    sponsor_email=sponsor.email,
                    data=data,
                    group_id=group.id,
                )
                step.audit("group_member_started", {"group": group.reference}, user=sponsor)
            names[str(step.application.id)] = str(row.get("full_name") or step.application.reference)
        group.members = names
        audit.record(
            "group_started",
            {"group": group.reference, "type": entry.code, "members": len(rows), "sponsor_kind": kind},
            user=sponsor,
        )
    return group


def _let_fill_members_steps(sponsor: User) -> None:
    """The sponsor fills the members' steps on the applicant's pages: their account gets that role
    (anyone may register as an applicant, so it grants nothing an officer has)."""
    if sponsor.has_role("applicant"):
        return
    role = db.session.scalars(select(Role).where(Role.name == "applicant")).one()
    sponsor.roles.append(role)
    audit.record("role_granted", {"role": "applicant", "why": "group application"}, user=sponsor)
