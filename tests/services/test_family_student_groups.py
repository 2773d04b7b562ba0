"""Group applications of the family and student types: a citizen's family of three (a spouse E31A and two
children E31C), a school's students; each person's register number carries their own index, the sponsor's
data given once and validated as the type's forms would, the relation step filled in, the limit of an
individual sponsor; bad input refused by field with nothing lost or written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, ApplicationGroup
from kitas.services import cases, groups
from kitas.services.deployments import deploy_path
from tests.conftest import ROOT, deploy_shared_steps
from tests.factories import make_user
from tests.family_data import form_data
from tests.web.pages import open_task_row

CITIZEN = {
    "sponsor_name": "Budi Santoso",
    "sponsor_status": "citizen",
    "sponsor_nik": "3171011407880001",
    "address_in_indonesia": "Jl. Kemang Raya 12, Jakarta Selatan 12730",
}
FAMILY = [
    {"index_code": "E31A", "full_name": "Maria Santos", "email": "maria@example.org", "nationality": "PH"},
    {"index_code": "E31C", "full_name": "Luis Santos", "email": "luis@example.org", "nationality": "PH"},
    {"index_code": "E31C", "full_name": "Ana Santos", "email": "ana.santos@example.org", "nationality": "PH"},
]
SCHOOL = {"sponsor_kind": "institution", "sponsor_name": "SMA Contoh Bandung", "index_code": "E30A"}
STUDENTS = [
    {"full_name": f"Student Number {i + 1}", "email": f"s{i + 1}@school.example.org", "nationality": "JP"}
    for i in range(3)
]


def posted(shared: dict[str, str], rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """The group form as a browser posts it."""
    data = {key: [value] for key, value in shared.items()}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"members-{index}-{key}"] = [value]
    return data


@pytest.fixture()
def family_and_student(ctx: Any) -> None:
    deploy_shared_steps()
    for name in ("kitas_family.bpmn", "kitas_student.bpmn"):
        deploy_path(ROOT / "bpmn" / name, ROOT / "forms" / "schemas")


@pytest.fixture()
def citizen(ctx: Any) -> Any:
    return make_user("sponsor", email="budi@example.id", name="Budi Santoso", confirmed=True)


def _members(group: ApplicationGroup) -> list[Application]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(Application).where(Application.group_id == group.id).order_by(Application.id))
    )


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.usefixtures("family_and_student")
def test_a_citizens_family_of_three_starts_each_with_its_own_index(citizen: Any) -> None:
    group = groups.start_group("family", citizen, posted(CITIZEN, FAMILY))
    members = _members(group)
    assert [a.reference.split("-")[0] for a in members] == ["E31A", "E31C", "E31C"]
    for application, row in zip(members, FAMILY, strict=True):
        data = cases.read_runtime(application).data
        assert data["index_code"] == row["index_code"] and data["full_name"] == row["full_name"]
        assert data["sponsor_nik"] == CITIZEN["sponsor_nik"] and data["sponsor_email"] == citizen.email
        assert application.sponsor_kind == "person" and application.applicant_id == citizen.id
    assert group.sponsor_data == CITIZEN
    # The relation step starts with the person's relation: the sponsor does not choose it again.
    child = members[1]
    relation = open_task_row(child.id, "family_relation")
    prefilled = cases.read_runtime(child).task_data(relation.task_id)
    assert prefilled["index_code"] == "E31C"
    cases.complete_task(child.id, relation.task_id, citizen, {"index_code": prefilled["index_code"]})
    cases.complete_task(
        child.id,
        open_task_row(child.id, "family_applicant_data").task_id,
        citizen,
        form_data(
            "family_applicant_data", full_name="Luis Santos", email="luis@example.org", date_of_birth="2015-03-01"
        ),
    )
    member_step = open_task_row(child.id, "family_member_data")
    answers = cases.read_runtime(child).task_data(member_step.task_id)
    assert (answers["sponsor_name"], answers["sponsor_status"], answers["sponsor_email"]) == (
        "Budi Santoso",
        "citizen",
        citizen.email,
    )
    cases.complete_task(
        child.id, member_step.task_id, citizen, form_data("family_member_data", sponsor_email=citizen.email)
    )
    db.session.expire_all()
    assert db.session.get(Application, child.id).status == "awaiting_sponsor"


@pytest.mark.parametrize(
    ("shared", "rows", "key", "words"),
    [
        ({**CITIZEN, "sponsor_nik": ""}, FAMILY, "sponsor_nik", "required"),
        ({**CITIZEN, "sponsor_nik": "12345"}, FAMILY, "sponsor_nik", "16"),
        (
            {**CITIZEN, "sponsor_status": "permit_holder", "sponsor_nik": "", "sponsor_permit_number": ""},
            FAMILY[1:],
            "sponsor_permit_number",
            "required",
        ),
        (CITIZEN, [{**FAMILY[0], "index_code": "E31B"}, *FAMILY[1:]], "members.0.index_code", "does not fit"),
        (CITIZEN, [{**FAMILY[0], "index_code": "E29Z"}], "members.0.index_code", "Choose"),
        (CITIZEN, [{**FAMILY[0], "index_code": ""}], "members.0.index_code", "required"),
    ],
    ids=["citizen-without-nik", "bad-nik", "holder-without-permit", "e31b-with-a-citizen", "unknown-index", "no-index"],
)
@pytest.mark.usefixtures("family_and_student")
def test_a_bad_family_group_is_refused_by_field_and_nothing_is_lost(
    citizen: Any, shared: dict[str, str], rows: list[dict[str, str]], key: str, words: str
) -> None:
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group("family", citizen, posted(shared, rows))
    assert words.lower() in " ".join(str(m) for m in refused.value.errors[key]).lower(), refused.value.errors
    kept = refused.value.form.values
    assert kept["sponsor_name"] == "Budi Santoso" and [r["full_name"] for r in kept["members"]] == [
        r["full_name"] for r in rows
    ]
    assert _count(Application) == 0 and _count(ApplicationGroup) == 0


@pytest.mark.usefixtures("family_and_student")
def test_a_permit_holder_sponsors_a_spouse_e31b_with_the_permit_number(citizen: Any) -> None:
    holder = {
        **CITIZEN,
        "sponsor_status": "permit_holder",
        "sponsor_nik": "",
        "sponsor_permit_number": "2C21JD1234-AB",
    }
    group = groups.start_group("family", citizen, posted(holder, [{**FAMILY[0], "index_code": "E31B"}]))
    [spouse] = _members(group)
    assert spouse.reference.startswith("E31B-")
    assert cases.read_runtime(spouse).data["sponsor_permit_number"] == "2C21JD1234-AB"


@pytest.mark.usefixtures("family_and_student")
def test_a_schools_students_start_with_the_schools_data_and_index(ctx: Any) -> None:
    school = make_user("sponsor", email="admissions@sma-contoh.sch.id", name="SMA Contoh", confirmed=True)
    group = groups.start_group(
        "student", school, posted({**SCHOOL, "institution_name": "SMA Contoh Bandung"}, STUDENTS)
    )
    members = _members(group)
    assert len(members) == 3 and all(a.reference.startswith("E30A-") for a in members)
    for application, row in zip(members, STUDENTS, strict=True):
        data = cases.read_runtime(application).data
        assert (data["full_name"], data["sponsor_kind"], data["institution_name"]) == (
            row["full_name"],
            "institution",
            "SMA Contoh Bandung",
        )
        assert application.sponsor_kind == "institution" and application.sponsor_email == school.email
    # The study step starts with the school's answers and the index.
    first = members[0]
    cases.complete_task(
        first.id,
        open_task_row(first.id, "student_applicant_data").task_id,
        school,
        {
            "full_name": "Student Number 1",
            "nationality": "JP",
            "date_of_birth": "2008-04-01",
            "passport_number": "TK1234567",
            "passport_expiry": "2031-05-31",
            "email": "s1@school.example.org",
            "phone": "+81 90 1234 5678",
        },
    )
    study = open_task_row(first.id, "study_data")
    answers = cases.read_runtime(first).task_data(study.task_id)
    assert (answers["index_code"], answers["sponsor_name"], answers["sponsor_email"]) == (
        "E30A",
        "SMA Contoh Bandung",
        school.email,
    )


@pytest.mark.usefixtures("family_and_student")
def test_a_school_has_no_limit_but_a_person_sponsoring_students_has(ctx: Any) -> None:
    many = [
        {"full_name": f"Student Number {i + 1}", "email": f"s{i + 1}@many.example.org", "nationality": "KR"}
        for i in range(11)
    ]
    school = make_user("sponsor", email="admissions@sma-contoh.sch.id", confirmed=True)
    shared = {**SCHOOL, "institution_name": "SMA Contoh Bandung"}
    assert len(_members(groups.start_group("student", school, posted(shared, many)))) == 11
    person = make_user("sponsor", email="rina@example.id", confirmed=True)
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group("student", person, posted({**shared, "sponsor_kind": "person"}, many))
    assert "at most 10" in refused.value.errors["members"][0]
    assert refused.value.form.values["sponsor_kind"] == "person"
    assert _count(ApplicationGroup) == 1


@pytest.mark.usefixtures("family_and_student")
def test_the_family_members_limit_counts_every_relation(citizen: Any) -> None:
    big = [
        {
            "index_code": "E31C",
            "full_name": f"Child Number {i + 1}",
            "email": f"c{i + 1}@fam.example.org",
            "nationality": "PH",
        }
        for i in range(9)
    ]
    groups.start_group("family", citizen, posted(CITIZEN, [FAMILY[0], *big]))  # ten: the limit
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group("family", citizen, posted(CITIZEN, [FAMILY[1]]))
    assert "already sponsors 10 foreigners" in refused.value.errors["members"][0]


@pytest.mark.usefixtures("family_and_student")
def test_a_bad_student_group_is_refused_by_field(ctx: Any) -> None:
    school = make_user("sponsor", email="admissions@sma-contoh.sch.id", confirmed=True)
    with pytest.raises(groups.GroupRejected) as refused:
        groups.start_group(
            "student",
            school,
            posted({"sponsor_kind": "institution", "sponsor_name": "S", "index_code": "E99"}, STUDENTS[:1]),
        )
    errors = refused.value.errors
    assert {"sponsor_name", "index_code", "institution_name"} <= set(errors), errors
    assert refused.value.form.values["members"][0]["full_name"] == "Student Number 1"
    assert _count(Application) == 0
