"""Deploying foreign BPMN files (tests/data/foreign/): `kitas deploy` reads any encoding and refuses with plain
words, never a traceback; a file of several processes deploys the one chosen; form names stay inside the forms
folder; a task without a form is a confirmation task the applicant completes on the task page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import HumanTask, ProcessDefinition
from kitas.services.deployments import collect_files, deploy, deploy_path, process_model
from kitas.services.errors import DeploymentRefused
from tests.conftest import ROOT, deploy_shared_steps
from tests.web.pages import open_task_row, start_worker_case, task_url, verified

FOREIGN = ROOT / "tests" / "data" / "foreign"
FORMS = ROOT / "forms" / "schemas"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _kitas_lanes(source: Path, target: Path) -> Path:
    """A copy of a corpus file whose lane 'verifier' is the KITAS lane 'Verifier' (bytes kept as they are)."""
    target.write_bytes(source.read_bytes().replace(b'name="verifier"', b'name="Verifier"'))
    return target


def _deploy(ctx: Flask, *args: str) -> Any:
    return ctx.test_cli_runner().invoke(args=["deploy", *args])


def test_latin1_bytes_under_a_utf8_declaration_deploy_and_keep_their_letters(ctx: Flask, tmp_path: Path) -> None:
    path = _kitas_lanes(FOREIGN / "adonis_latin1_manual.bpmn", tmp_path / "adonis.bpmn")
    result = _deploy(ctx, str(path))
    assert result.exit_code == 0, result.output
    assert "adonis_antrag: deployed as version 1" in result.output
    definition = db.session.scalars(select(ProcessDefinition)).one()
    assert definition.name == "Antragsprüfung" and 'encoding="UTF-8"' in definition.bpmn_xml
    assert process_model(definition).user_tasks["ADONIS_manual_stempel"].kind == "manualTask"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adonis_latin1_manual.bpmn", "ADONIS_lane_verifier: the lane 'verifier' maps to no known role"),
        ("enterprise_architect_data_store.bpmn", "EAID_store_ref: the data store 'National register' has nothing"),
        ("xsd_error.bpmn", "Flow_x1: line 9: Element 'bpmn:condition': the BPMN 2.0 schema does not allow"),
        ("signavio_collaboration.bpmn", "(document): the diagram defines 2 executable processes"),
        ("empty_time_date.bpmn", "Timer_appointment: the timer's date is empty"),
        ("script_vars_locals.bpmn", "Script_vars: Line 1: 'vars' is not available in scripts"),
        ("camunda8_zeebe_order.bpmn", "Task_pack: the task is in no lane, so no role can do it; put it in a lane"),
    ],
)
def test_kitas_deploy_refuses_foreign_files_in_plain_words(ctx: Flask, name: str, expected: str) -> None:
    result = _deploy(ctx, str(FOREIGN / name))
    assert result.exit_code == 1
    assert "deployment refused:" in result.output and expected in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_a_file_that_is_not_text_is_refused_naming_it(ctx: Flask, tmp_path: Path) -> None:
    path = tmp_path / "utf16.bpmn"
    path.write_bytes((FOREIGN / "call_child.bpmn").read_text(encoding="utf-8").encode("utf-16"))
    result = _deploy(ctx, str(path))
    assert result.exit_code == 1 and "utf16.bpmn: the file is not a text file" in result.output


def test_the_chosen_process_of_a_collaboration_deploys_and_loads_again(ctx: Flask, tmp_path: Path) -> None:
    path = _kitas_lanes(FOREIGN / "signavio_collaboration.bpmn", tmp_path / "signavio.bpmn")
    result = _deploy(ctx, str(path), "--process", "sid-office-process")
    assert result.exit_code == 0, result.output
    definition = db.session.scalars(select(ProcessDefinition)).one()
    assert definition.process_id == "sid-office-process"
    model = process_model(definition)  # the stored file defines two processes: the version's is loaded
    assert model.process_id == "sid-office-process" and set(model.user_tasks) == {"sid-review"}
    unknown = _deploy(ctx, str(path), "--process", "sid-nobody")
    assert unknown.exit_code == 1 and "the diagram defines no process sid-nobody" in unknown.output


def test_a_form_name_with_a_folder_is_refused_and_never_read(ctx: Flask, tmp_path: Path) -> None:
    deploy_shared_steps()
    forms = tmp_path / "forms"
    forms.mkdir()
    (tmp_path / "secret.json").write_text('{"type": "object"}', encoding="utf-8")
    bpmn = (ROOT / "bpmn" / "kitas_worker.bpmn").read_text(encoding="utf-8")
    hostile = bpmn.replace('value="worker-applicant-data.schema.json"', 'value="../secret.json"', 1)
    assert hostile != bpmn
    path = tmp_path / "bpmn" / "kitas_worker.bpmn"
    path.parent.mkdir()
    path.write_text(hostile, encoding="utf-8")
    _bpmn, files = collect_files(path, forms)
    assert "../secret.json" not in files and not any("secret" in name for name in files)
    with pytest.raises(DeploymentRefused) as refused:
        deploy_path(path, forms)
    assert (
        "applicant_data",
        "formJsonSchemaFilename names ../secret.json: a form is a plain file name beside the diagram's forms, "
        "without a folder or '..'",
    ) in refused.value.problems
    _bpmn, worker_files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    with pytest.raises(DeploymentRefused) as smuggled:
        deploy(bpmn, {**worker_files, "../fees.dmn": worker_files["fees.dmn"]})
    assert ("../fees.dmn", "a form or decision table is a plain file name, without a folder or '..'") in (
        smuggled.value.problems
    )


def _with_confirmation_step(bpmn: str) -> str:
    """The worker diagram with a manual task for the applicant right after the start: 'Read the guide'."""
    root = etree.fromstring(bpmn.encode("utf-8"))
    ns = {"bpmn": BPMN_NS}
    [flow] = root.xpath("//bpmn:sequenceFlow[@id='flow_start_to_init_case']", namespaces=ns)
    process = flow.getparent()
    manual = etree.SubElement(process, f"{{{BPMN_NS}}}manualTask", id="read_guide", name="Read the guide")
    etree.SubElement(manual, f"{{{BPMN_NS}}}incoming").text = "flow_start_to_guide"
    etree.SubElement(manual, f"{{{BPMN_NS}}}outgoing").text = "flow_start_to_init_case"
    etree.SubElement(
        process, f"{{{BPMN_NS}}}sequenceFlow", id="flow_start_to_guide", sourceRef="start", targetRef="read_guide"
    )
    flow.set("sourceRef", "read_guide")
    [start_out] = root.xpath("//bpmn:startEvent[@id='start']/bpmn:outgoing", namespaces=ns)
    start_out.text = "flow_start_to_guide"
    [applicant_lane] = root.xpath("//bpmn:lane[@name='Applicant']", namespaces=ns)
    etree.SubElement(applicant_lane, f"{{{BPMN_NS}}}flowNodeRef").text = "read_guide"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def test_an_applicant_confirms_a_manual_task_on_the_task_page(ctx: Flask, users: dict[str, Any], login_as: Any) -> None:
    deploy_shared_steps()
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    deploy(_with_confirmation_step(bpmn), files, actor="analyst")
    verified(users["applicant"])
    client = login_as(users["applicant"])
    application = start_worker_case(client, users["applicant"])
    row = open_task_row(application.id, "read_guide")
    assert (row.form_schema, row.lane) == (None, "Applicant")
    url = task_url(application, "read_guide")
    page = client.get(url).get_data(as_text=True)
    assert "Read the guide" in page and 'name="passport_number"' not in page
    response = client.post(url, data={"action": "submit", "version": application.version, "smuggled": "x"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert open_task_row(application.id, "applicant_data").form_schema == "worker-applicant-data.schema.json"
    assert db.session.scalars(select(HumanTask).where(HumanTask.element_id == "read_guide")).all() == []


def test_the_confirmation_page_shows_a_confirm_button_and_no_draft(
    ctx: Flask, users: dict[str, Any], login_as: Any
) -> None:
    deploy_shared_steps()
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    deploy(_with_confirmation_step(bpmn), files, actor="analyst")
    verified(users["applicant"])
    client = login_as(users["applicant"])
    application = start_worker_case(client, users["applicant"])
    page = client.get(task_url(application, "read_guide")).get_data(as_text=True)
    assert 'data-testid="confirmation-task"' in page and ">Confirm</button>" in page
    assert "Save and continue later" not in page


def _with_hourly_reminder(bpmn: str, cycle: str) -> str:
    """The worker diagram with a repeating, non-interrupting reminder on the applicant's first form."""
    root = etree.fromstring(bpmn.encode("utf-8"))
    ns = {"bpmn": BPMN_NS}
    [task] = root.xpath("//bpmn:userTask[@id='applicant_data']", namespaces=ns)
    process = task.getparent()
    timer = etree.SubElement(
        process,
        f"{{{BPMN_NS}}}boundaryEvent",
        id="remind_applicant",
        attachedToRef="applicant_data",
        cancelActivity="false",
    )
    etree.SubElement(timer, f"{{{BPMN_NS}}}outgoing").text = "flow_reminded"
    definition = etree.SubElement(timer, f"{{{BPMN_NS}}}timerEventDefinition")
    etree.SubElement(definition, f"{{{BPMN_NS}}}timeCycle").text = cycle
    end = etree.SubElement(process, f"{{{BPMN_NS}}}endEvent", id="reminded")
    etree.SubElement(end, f"{{{BPMN_NS}}}incoming").text = "flow_reminded"
    etree.SubElement(
        process, f"{{{BPMN_NS}}}sequenceFlow", id="flow_reminded", sourceRef="remind_applicant", targetRef="reminded"
    )
    [lane] = root.xpath("//bpmn:lane[@name='Applicant']", namespaces=ns)
    for element in ("remind_applicant", "reminded"):
        etree.SubElement(lane, f"{{{BPMN_NS}}}flowNodeRef").text = element
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def test_a_cycle_timer_gets_one_timer_row_per_round_and_the_scheduler_fires_each(
    ctx: Flask, users: dict[str, Any], clock: Any
) -> None:
    from kitas.models import Timer
    from kitas.services import cases
    from kitas.services.cases.timers import fire_due_timers

    deploy_shared_steps()
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", FORMS)
    deploy(_with_hourly_reminder(bpmn, '"R2/PT1H"'), files, actor="analyst")
    application = cases.start_case("worker", users["applicant"])
    started = clock.now()

    def rows() -> list[tuple[str, Any]]:
        db.session.expire_all()
        found = db.session.scalars(select(Timer).where(Timer.application_id == application.id).order_by(Timer.id))
        return [(t.status, t.due_at.replace(tzinfo=None)) for t in found]

    assert rows() == [("pending", (started + timedelta(hours=1)).replace(tzinfo=None))]
    clock.set(started + timedelta(hours=1))
    assert len(fire_due_timers("test").fired) == 1
    assert rows() == [
        ("fired", (started + timedelta(hours=1)).replace(tzinfo=None)),
        ("pending", (started + timedelta(hours=2)).replace(tzinfo=None)),
    ]
    clock.set(started + timedelta(hours=2))
    assert len(fire_due_timers("test").fired) == 1
    assert [status for status, _due in rows()] == ["fired", "fired"]
    assert open_task_row(application.id, "applicant_data").form_schema == "worker-applicant-data.schema.json"
