"""Offices as data: the file checked and synced, the domicile rule giving each case its office, the
tasks carrying it, the backfill of older cases, and officers who see only their offices' cases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from kitas.extensions import db
from kitas.models import Application, AuditEvent, HumanTask, Office
from kitas.services import cases
from kitas.services.errors import InvalidInput, NotFound
from kitas.services.offices.backfill import backfill_offices
from kitas.services.offices.data import OFFICES_FILE, OfficesFileRefused, parse_offices, zone_label
from kitas.services.offices.directory import office_for_province, provinces, sync_offices
from kitas.services.offices.scope import visible_office_ids
from kitas.services.offices.staff import place_officer, set_officer_offices
from tests.factories import make_user


def shipped() -> dict[str, Any]:
    """The offices file as the repository ships it."""
    data: dict[str, Any] = json.loads(OFFICES_FILE.read_text(encoding="utf-8"))
    return data


@pytest.fixture()
def offices_file(ctx: Flask, tmp_path: Path) -> Iterator[Path]:
    """A copy of the shipped file the application reads instead (tests change it and sync it)."""
    path = tmp_path / "offices.json"
    path.write_text(json.dumps(shipped()), encoding="utf-8")
    ctx.config["KITAS_OFFICES_FILE"] = str(path)
    try:
        yield path
    finally:
        ctx.config["KITAS_OFFICES_FILE"] = None


def rewrite(path: Path, change: Any) -> None:
    """Change the file as an analyst would (its size or time changes, so it is read again)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def office_id(code: str) -> int:
    found = db.session.scalar(select(Office.id).where(Office.code == code))
    assert found is not None
    return found


def problems_of(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(OfficesFileRefused) as refused:
        parse_offices(raw)
    return [str(problem) for problem in refused.value.problems]


# -- the file -------------------------------------------------------------------------------


def test_the_shipped_file_is_valid_and_its_zones_have_their_labels() -> None:
    data = parse_offices(shipped())
    assert data.default_office == "JKS"
    assert len(data.offices) == 6 and "Bali" in data.provinces and data.provinces == sorted(data.provinces)
    zones = {office.code: zone_label(office.time_zone) for office in data.offices}
    assert zones == {"JKS": "WIB", "SBY": "WIB", "MDN": "WIB", "DPS": "WITA", "MKS": "WITA", "DJJ": "WIT"}


def test_an_unknown_office_in_the_rule_is_refused_naming_the_province() -> None:
    raw = shipped()
    raw["domicile_rule"]["Bali"] = "BALI"
    assert problems_of(raw) == ["domicile rule: Bali goes to 'BALI', which is not an office of the file"]


def test_a_time_zone_outside_indonesia_or_misspelt_is_refused_naming_the_office() -> None:
    raw = shipped()
    raw["offices"][3]["time_zone"] = "Asia/Bali"
    raw["offices"][4]["time_zone"] = "Europe/Berlin"
    found = problems_of(raw)
    assert len(found) == 2
    assert found[0].startswith("office 4 (DPS): time zone 'Asia/Bali' is not one of Indonesia's (Asia/Jakarta WIB")
    assert found[1].startswith("office 5 (MKS): time zone 'Europe/Berlin'")


def test_an_office_that_opens_when_it_closes_or_later_is_refused() -> None:
    raw = shipped()
    raw["offices"][0]["opens"] = "16:00"
    raw["offices"][1]["opens"], raw["offices"][1]["closes"] = "17:00", "08:00"
    raw["offices"][2]["closes"] = "25:00"
    assert problems_of(raw) == [
        "office 1 (JKS): it opens at 16:00, not before it closes at 16:00",
        "office 2 (SBY): it opens at 17:00, not before it closes at 08:00",
        "office 3 (MDN): 'closes' must be a time like 08:00",
    ]


def test_other_mistakes_are_each_named() -> None:
    raw = shipped()
    raw["offices"].append(dict(raw["offices"][0]))
    raw["offices"][5]["working_days"] = [1, 8]
    raw["offices"][4].pop("address")
    raw["default_office"] = "XXX"
    assert problems_of(raw) == [
        "office 5 (MKS): 'address' is missing",
        "office 6 (DJJ): 'working_days' must list ISO weekdays 1 (Monday) to 7, each once",
        "office JKS is listed twice",
        "'default_office' names XXX, which is not an office of the file",
    ]


# -- sync -------------------------------------------------------------------------------------


def test_sync_upserts_by_code_and_closes_the_offices_the_file_no_longer_lists(offices_file: Path) -> None:
    before = office_id("DPS")

    def change(data: dict[str, Any]) -> None:
        data["offices"][3]["name"] = "Kantor Imigrasi Denpasar (baru)"
        data["offices"] = [office for office in data["offices"] if office["code"] != "DJJ"]
        data["offices"].append({**data["offices"][0], "code": "BTM", "city": "Batam"})
        for province, code in data["domicile_rule"].items():
            if code == "DJJ":
                data["domicile_rule"][province] = "MKS"

    rewrite(offices_file, change)
    report = sync_offices()
    assert (report.created, report.updated, report.deactivated) == (("BTM",), ("DPS",), ("DJJ",))
    renamed = db.session.get(Office, before)
    assert renamed is not None and renamed.name == "Kantor Imigrasi Denpasar (baru)"  # the same row, renamed
    closed = db.session.scalars(select(Office).where(Office.code == "DJJ")).one()
    assert closed.active is False
    assert sync_offices().unchanged == 6  # nothing left to change


def test_sync_refuses_a_bad_file_with_its_reasons_and_changes_nothing(offices_file: Path) -> None:
    rewrite(offices_file, lambda data: data["offices"][0].update(name="Renamed", time_zone="Asia/Tokyo"))
    with pytest.raises(OfficesFileRefused) as refused:
        sync_offices()
    assert "office 1 (JKS): time zone 'Asia/Tokyo' is not one of Indonesia's" in str(refused.value)
    assert db.session.scalars(select(Office.name).where(Office.code == "JKS")).one().startswith("Kantor Imigrasi")


def test_the_sync_command_prints_the_reasons_of_a_refusal(offices_file: Path, ctx: Flask) -> None:
    rewrite(offices_file, lambda data: data["domicile_rule"].update({"Bali": "NOPE"}))
    result = ctx.test_cli_runner().invoke(args=["offices", "sync"])
    assert result.exit_code == 1
    assert "domicile rule: Bali goes to 'NOPE', which is not an office of the file" in result.output


def test_a_file_that_is_not_json_is_refused(offices_file: Path) -> None:
    offices_file.write_text("{ not json", encoding="utf-8")
    with pytest.raises(OfficesFileRefused, match="offices.json is not valid JSON"):
        sync_offices()


# -- the rule ---------------------------------------------------------------------------------


def test_the_province_is_checked(ctx: Flask) -> None:
    assert office_for_province("Bali").code == "DPS"
    assert office_for_province(None).code == "JKS"  # the domicile is not known: the default office
    with pytest.raises(InvalidInput) as empty:
        office_for_province(" ")
    assert empty.value.errors["domicile_province"] == ["Choose the province where you will live in Indonesia."]
    with pytest.raises(InvalidInput) as unknown:
        office_for_province("Atlantis")
    assert unknown.value.errors["domicile_province"] == [
        "Atlantis is not a province of Indonesia; choose one from the list."
    ]
    assert "Papua Pegunungan" in provinces()


def test_a_case_lands_in_the_office_of_its_province_and_its_tasks_too(worker: int, users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"], domicile_province="Sulawesi Selatan")
    assert application.domicile_province == "Sulawesi Selatan" and application.office_id == office_id("MKS")
    rows = db.session.scalars(select(HumanTask.office_id).where(HumanTask.application_id == application.id)).all()
    assert rows and set(rows) == {office_id("MKS")}


def test_a_new_rule_moves_new_cases_to_another_office_and_leaves_the_old_ones(
    worker: int, users: dict[str, Any], offices_file: Path
) -> None:
    before = cases.start_case("worker", users["applicant"], domicile_province="Kalimantan Barat")
    assert before.office_id == office_id("JKS")
    rewrite(offices_file, lambda data: data["domicile_rule"].update({"Kalimantan Barat": "MKS"}))
    after = cases.start_case("worker", users["applicant"], domicile_province="Kalimantan Barat")
    assert after.office_id == office_id("MKS")
    db.session.expire_all()
    assert db.session.get(Application, before.id).office_id == office_id("JKS")  # type: ignore[union-attr]


def test_an_unknown_province_starts_nothing(worker: int, users: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        cases.start_case("worker", users["applicant"], domicile_province="Atlantis")
    assert list(refused.value.errors) == ["domicile_province"]
    assert db.session.scalar(select(db.func.count()).select_from(Application)) == 0


def test_a_wrong_index_and_a_missing_province_are_named_together(family: int, users: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as refused:
        cases.start_case("family", users["applicant"], index_code="", domicile_province="")
    assert sorted(refused.value.errors) == ["domicile_province", "index_code"]


# -- backfill ---------------------------------------------------------------------------------


def test_backfill_gives_older_cases_the_default_office_or_their_provinces_and_their_tasks_too(
    worker: int, users: dict[str, Any]
) -> None:
    old = cases.start_case("worker", users["applicant"])
    with_province = cases.start_case("worker", users["applicant"], domicile_province="Bali")
    placed = cases.start_case("worker", users["applicant"], domicile_province="Papua")
    # As before 0015_offices (or started while the table was empty): no office on the case or its tasks.
    db.session.execute(update(Application).where(Application.id.in_([old.id, with_province.id])).values(office_id=None))
    db.session.execute(update(HumanTask).where(HumanTask.application_id != placed.id).values(office_id=None))
    db.session.execute(update(Application).where(Application.id == old.id).values(domicile_province=None))
    db.session.commit()

    without = db.session.scalar(select(db.func.count()).where(HumanTask.office_id.is_(None)))
    assert without >= 2
    report = backfill_offices("test")
    assert (report.cases, report.tasks) == (2, without)
    db.session.expire_all()
    offices = {a.id: a.office_id for a in db.session.scalars(select(Application))}
    assert offices == {old.id: office_id("JKS"), with_province.id: office_id("DPS"), placed.id: office_id("DJJ")}
    tasks = dict(db.session.execute(select(HumanTask.application_id, HumanTask.office_id)).all())
    assert tasks == offices
    assert backfill_offices("test") == type(report)(0, 0)  # once done, nothing left


def test_init_syncs_the_offices_and_backfills_after_the_migrations(ctx: Flask) -> None:
    db.session.execute(update(Office).values(name="stale"))
    db.session.commit()
    result = ctx.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert "offices: updated JKS, SBY, MDN, DPS, MKS, DJJ" in result.output
    assert "offices: 0 cases and 0 tasks given an office" in result.output
    assert db.session.scalars(select(Office.name).where(Office.code == "DPS")).one() != "stale"


# -- who sees what ----------------------------------------------------------------------------


def test_an_officer_of_another_office_cannot_find_the_case_and_the_refusal_is_audited(
    worker: int, users: dict[str, Any]
) -> None:
    application = cases.start_case("worker", users["applicant"], domicile_province="Bali")
    bali = make_user("verifier", email="dewi@imigrasi.example", name="Dewi Denpasar", offices=("DPS",))
    assert cases.find_case(application.reference, bali).id == application.id
    with pytest.raises(NotFound):
        cases.find_case(application.reference, users["verifier"])  # Jakarta's
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access_refused")).one()
    assert refusal.actor_id == users["verifier"].id
    assert refusal.detail["reason"] == f"case {application.reference} belongs to another office"
    assert refusal.detail["office_id"] == office_id("DPS")


def test_an_officer_without_an_office_sees_no_case_and_an_admin_every_office(
    worker: int, users: dict[str, Any]
) -> None:
    application = cases.start_case("worker", users["applicant"], domicile_province="Bali")
    nowhere = make_user("supervisor", email="nina@imigrasi.example", offices=())
    assert visible_office_ids(nowhere) == frozenset()
    with pytest.raises(NotFound):
        cases.find_case(application.reference, nowhere)
    chief = make_user("admin", "supervisor", email="chief@imigrasi.example", offices=())
    assert visible_office_ids(chief) is None
    assert cases.find_case(application.reference, chief).id == application.id


def test_an_admin_sets_officers_offices_audited_and_only_open_ones(ctx: Flask, users: dict[str, Any]) -> None:
    verifier = users["verifier"]
    codes = set_officer_offices(users["admin"], verifier.id, [office_id("DPS"), office_id("MKS")])
    assert codes == ["DPS", "MKS"]
    assert visible_office_ids(verifier) == {office_id("DPS"), office_id("MKS")}
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "officer_offices_set")).one()
    assert row.actor_id == users["admin"].id and row.detail["before"] == ["JKS"] and row.detail["after"] == codes
    db.session.execute(update(Office).where(Office.code == "DJJ").values(active=False))
    db.session.commit()
    with pytest.raises(InvalidInput):
        set_officer_offices(users["admin"], verifier.id, [office_id("DJJ")])
    with pytest.raises(NotFound):
        set_officer_offices(users["admin"], users["applicant"].id, [office_id("DPS")])
    assert visible_office_ids(verifier) == {office_id("DPS"), office_id("MKS")}  # the refusals changed nothing


def test_a_supervisor_gives_a_task_only_to_an_officer_of_its_office(worker: int, users: dict[str, Any]) -> None:
    from kitas.services.cases.claims import assign_task, assignable_officers
    from tests.services.helpers import open_task, start_until_verification

    application = start_until_verification(users)  # no province: the default office (Jakarta)
    task = open_task(application.id, "verify_documents")
    place_officer(users["verifier2"], ["DPS"], actor="test")
    assert [o.id for o in assignable_officers(task.task_id, users["supervisor"])] == [users["verifier"].id]
    with pytest.raises(NotFound, match="does not work in this case's office"):
        assign_task(application.reference, task.task_id, users["supervisor"], users["verifier2"].id)


def test_the_demo_officers_work_in_the_default_office_and_denpasar_and_keep_what_an_admin_set(
    ctx: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitas.models import User
    from kitas.services.accounts.demo import ensure_demo_accounts
    from kitas.services.offices.staff import offices_of

    monkeypatch.setattr(ctx, "instance_path", str(tmp_path))
    ensure_demo_accounts()
    by_email = {u.email: u for u in db.session.scalars(select(User))}
    assert offices_of(by_email["verifier@example.com"]) == ["DPS", "JKS"]
    assert offices_of(by_email["supervisor@example.com"]) == ["DPS", "JKS"]
    assert offices_of(by_email["applicant@example.com"]) == []
    place_officer(by_email["verifier@example.com"], ["MKS"], actor="test")
    ensure_demo_accounts()
    assert offices_of(by_email["verifier@example.com"]) == ["MKS"]  # an administrator's choice is kept
