"""Versioned deployments: new versions, identical content, pinned cases, refused diagrams."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, ProcessDefinition
from kitas.services import cases
from kitas.services.deployments import collect_files, definition_form, deploy, deploy_path, element_name
from kitas.services.errors import DeploymentRefused
from tests.conftest import ROOT, deploy_shared_steps
from tests.services.helpers import complete, open_task
from tests.worker_data import form_data

WORKER = ROOT / "bpmn" / "kitas_worker.bpmn"
SHARED = ROOT / "bpmn" / "shared"
FORMS = ROOT / "forms" / "schemas"


@pytest.fixture(autouse=True)
def shared_steps(ctx: Any) -> None:
    """The worker diagram calls the shared steps: they are deployed first, as ``kitas init`` does."""
    deploy_shared_steps()


def _worker_files() -> tuple[str, dict[str, str]]:
    return collect_files(WORKER, FORMS)


def test_identical_content_is_not_a_new_version(ctx: Any) -> None:
    first = deploy_path(WORKER, FORMS)
    again = deploy_path(WORKER, FORMS)
    assert (first.version, first.created) == (1, True)
    assert (again.version, again.created, again.definition_id) == (1, False, first.definition_id)
    definition = db.session.get(ProcessDefinition, first.definition_id)
    # The forms, their translations and the diagram's translations are part of the version; so are the
    # shared steps it calls, with their forms and translations (the case pins them).
    shared = {p.stem for p in SHARED.glob("*.bpmn")}
    assert set(definition.files) == (
        {"fees.dmn", "kitas_worker.id.json"}
        | {p.name for p in FORMS.glob("worker-*.json")}
        | {p.name for p in FORMS.glob("shared-*.json")}
        | {f"called/{name}.bpmn" for name in shared}
        | {f"called/{name}.id.json" for name in shared}
    )
    assert len(definition.content_hash) == 64 and definition.deployed_by == "cli"
    deployed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "definition_deployed")).all()
    assert [row.detail["process_id"] for row in deployed].count("kitas_worker") == 1


def test_cases_stay_on_their_version(ctx: Any, users: dict[str, Any]) -> None:
    deploy_path(WORKER, FORMS)
    old_case = cases.start_case("worker", users["applicant"])
    bpmn, files = _worker_files()
    changed = bpmn.replace('name="Fill in applicant data"', 'name="Tell us about yourself"')
    assert changed != bpmn
    v2 = deploy(changed, files, actor="analyst")
    assert (v2.version, v2.created) == (2, True)
    new_case = cases.start_case("worker", users["applicant"])
    assert new_case.definition.version == 2 and old_case.definition.version == 1
    assert open_task(new_case.id, "applicant_data").name == "Tell us about yourself"
    assert open_task(old_case.id, "applicant_data").name == "Fill in applicant data"
    complete(old_case.id, "applicant_data", users["applicant"])
    assert db.session.get(Application, old_case.id).definition.version == 1


def test_changing_a_form_makes_a_new_version(ctx: Any) -> None:
    deploy_path(WORKER, FORMS)
    bpmn, files = _worker_files()
    name = "worker-applicant-data.schema.json"
    files[name] = files[name].replace('"Full name', '"Full name as in the passport', 1)
    assert deploy(bpmn, files).version == 2


def test_unparsable_diagram_is_refused(ctx: Any) -> None:
    with pytest.raises(DeploymentRefused, match="does not parse"):
        deploy("<bpmn:definitions", {})


def test_missing_form_file_names_the_task(ctx: Any) -> None:
    bpmn, files = _worker_files()
    del files["worker-conduct-interview.schema.json"]
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn, files)
    assert (
        "conduct_interview",
        "the form file worker-conduct-interview.schema.json does not exist",
    ) in caught.value.problems
    # A shared step's own form: refused when the shared step is deployed.
    bpmn, files = collect_files(SHARED / "shared_document_review.bpmn", FORMS)
    del files["shared-verify-documents.schema.json"]
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn.replace('name="Verify documents"', 'name="Check the documents"'), files)
    assert (
        "verify_documents",
        "the form file shared-verify-documents.schema.json does not exist",
    ) in caught.value.problems


def test_unknown_lane_names_the_lane(ctx: Any) -> None:
    bpmn, files = _worker_files()
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn.replace('name="Supervisor"', 'name="Head of office"'), files)
    problems = dict(caught.value.problems)
    assert "lane_supervisor" in problems and "maps to no known role" in problems["lane_supervisor"]


def test_broken_form_schema_is_refused(ctx: Any) -> None:
    bpmn, files = collect_files(SHARED / "shared_biometrics.bpmn", FORMS)
    files["shared-book-biometrics.schema.json"] = '{"type": "object", "properties": {"office": {"type": "banana"}}}'
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn, files)
    assert any(element == "book_biometrics" for element, _ in caught.value.problems)


def test_a_shared_form_that_differs_from_the_deployed_shared_step_is_refused(ctx: Any) -> None:
    """The worker takes the shared steps' forms from their deployed versions: a changed copy beside it
    would be silently ignored, so it is refused, naming the file and the shared step to deploy first."""
    bpmn, files = _worker_files()
    name = "shared-book-biometrics.schema.json"
    files[name] = files[name].replace('"title"', '"description": "Changed.", "title"', 1)
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn, files)
    problems = dict(caught.value.problems)
    assert "shared_biometrics version 1" in problems[name]


def test_flow_to_nowhere_names_its_source(ctx: Any) -> None:
    bpmn, files = _worker_files()
    broken = bpmn.replace(
        'sourceRef="init_case" targetRef="applicant_data"', 'sourceRef="init_case" targetRef="nowhere"'
    )
    with pytest.raises(DeploymentRefused) as caught:
        deploy(broken, files)
    assert [element for element, _ in caught.value.problems] == ["init_case"]


def test_broken_script_and_condition_are_refused_at_deployment(ctx: Any) -> None:
    bpmn, files = _worker_files()
    broken = bpmn.replace("<bpmn:script>sla_escalations = []", "<bpmn:script>sla_escalations = [", 1)
    broken = broken.replace('sponsor_decision == "decline"', "__import__('os')", 1)
    with pytest.raises(DeploymentRefused) as caught:
        deploy(broken, files)
    problems = dict(caught.value.problems)
    assert "SyntaxError" in problems["init_case"]
    assert "names starting with '_' are not allowed" in problems["gw_sponsor"]


def test_missing_decision_table_is_refused(ctx: Any) -> None:
    bpmn, files = collect_files(SHARED / "shared_payment.bpmn", FORMS)
    del files["fees.dmn"]
    with pytest.raises(DeploymentRefused, match="kitas_fee"):
        deploy(bpmn, files)


def test_completion_uses_the_forms_of_the_pinned_version(ctx: Any, users: dict[str, Any]) -> None:
    deploy_path(WORKER, FORMS)
    application = cases.start_case("worker", users["applicant"])
    bpmn, files = _worker_files()
    name = "worker-applicant-data.schema.json"
    files[name] = files[name].replace('"required": [', '"required": ["nickname", ', 1)
    files[name] = files[name].replace(
        '"properties": {', '"properties": {"nickname": {"type": "string", "title": "Nickname"}, ', 1
    )
    ui = "worker-applicant-data.uischema.json"
    files[ui] = files[ui].replace('"ui:order": [', '"ui:order": ["nickname", ', 1)
    assert deploy(bpmn, files).version == 2
    complete(application.id, "applicant_data", users["applicant"])  # v1 form: no nickname needed
    assert db.session.get(Application, application.id).status == "draft"


def test_deploy_command(ctx: Any, tmp_path: Path) -> None:
    runner = ctx.test_cli_runner()
    result = runner.invoke(args=["deploy", str(SHARED / "shared_payment.bpmn")])
    assert result.exit_code == 0 and "shared_payment: identical to version 1" in result.output
    result = runner.invoke(args=["deploy", str(WORKER)])
    assert result.exit_code == 0 and "deployed as version 1" in result.output
    result = runner.invoke(args=["deploy", str(WORKER)])
    assert "identical to version 1" in result.output
    broken = tmp_path / "kitas_worker.bpmn"
    broken.write_text(WORKER.read_text().replace('name="Sponsor"', 'name="Guarantor"'))
    (tmp_path / "fees.dmn").write_text((WORKER.parent / "fees.dmn").read_text())
    result = runner.invoke(args=["deploy", str(broken)])
    assert result.exit_code == 1 and "lane_sponsor" in result.output and "Guarantor" in result.output


def test_form_data_of_every_task_is_valid_for_its_form(ctx: Any) -> None:
    import forms

    definition = db.session.get(ProcessDefinition, deploy_path(WORKER, FORMS).definition_id)
    assert definition is not None
    schemas = [*FORMS.glob("worker-*.schema.json"), *FORMS.glob("shared-*.schema.json")]
    assert len(schemas) == 10
    for schema in schemas:
        form = definition_form(definition, schema.name, schema.name.replace(".schema.json", ".uischema.json"))
        element = schema.name.split("-", 1)[1].removesuffix(".schema.json").replace("-", "_")
        assert forms.validate(form, form_data(element)) == {}, schema.name


def test_a_translations_file_that_is_not_valid_is_refused_by_name(ctx: Any) -> None:
    bpmn, files = _worker_files()
    files["worker-applicant-data.schema.id.json"] = '{"/title": ""}'
    with pytest.raises(DeploymentRefused) as refused:
        deploy(bpmn, files)
    assert "worker-applicant-data.schema.id.json" in str(refused.value)
    files["worker-applicant-data.schema.id.json"] = "not json"
    with pytest.raises(DeploymentRefused, match="worker-applicant-data.schema.id.json: not valid JSON"):
        deploy(bpmn, files)


def test_a_translations_file_naming_a_text_the_form_lacks_is_refused(ctx: Any) -> None:
    bpmn, files = _worker_files()
    name = "worker-employment-data.uischema.id.json"
    files[name] = files[name].replace('"/ui:submitButtonOptions/submitText"', '"/position/ui:help"')
    with pytest.raises(DeploymentRefused) as refused:
        deploy(bpmn, files)
    problem = str(refused.value)
    assert name in problem and "/position/ui:help" in problem


def test_a_diagram_translation_of_an_unknown_element_is_refused(ctx: Any) -> None:
    bpmn, files = _worker_files()
    files["kitas_worker.id.json"] = '{"/no_such_task": "Tidak ada"}'
    with pytest.raises(DeploymentRefused) as refused:
        deploy(bpmn, files)
    assert "kitas_worker.id.json" in str(refused.value) and "/no_such_task" in str(refused.value)


def test_a_changed_translation_makes_a_new_version(ctx: Any) -> None:
    deploy_path(WORKER, FORMS)
    bpmn, files = _worker_files()
    name = "worker-applicant-data.schema.id.json"
    files[name] = files[name].replace('"Nama lengkap"', '"Nama lengkap sesuai paspor"')
    assert deploy(bpmn, files).version == 2


def test_definition_form_in_a_language(ctx: Any) -> None:
    definition = db.session.get(ProcessDefinition, deploy_path(WORKER, FORMS).definition_id)
    assert definition is not None
    schema, ui = "worker-employment-data.schema.json", "worker-employment-data.uischema.json"
    english = definition_form(definition, schema, ui)
    indonesian = definition_form(definition, schema, ui, language="id")
    assert english.title == "Employment details" and definition_form(definition, schema, ui, "en") is english
    assert indonesian.title == "Data pekerjaan"
    assert indonesian.field("position").title == "Jabatan"  # type: ignore[union-attr]
    assert indonesian.ui_schema["sponsor_email"]["ui:help"].startswith("Tanyakan kepada pemberi kerja")
    assert indonesian.ui_schema["contract_months"]["ui:enumNames"][1] == "1 tahun (12 bulan)"
    assert definition_form(definition, schema, ui, language="id") is indonesian  # cached per language
    # The same schema: it validates the same data in every language.
    assert (
        indonesian.schema["properties"]["contract_months"]["enum"]
        == english.schema["properties"]["contract_months"]["enum"]
    )
    assert indonesian.field("position").title != english.field("position").title  # type: ignore[union-attr]


def test_element_names_in_a_language(ctx: Any) -> None:
    definition = db.session.get(ProcessDefinition, deploy_path(WORKER, FORMS).definition_id)
    assert definition is not None
    assert element_name(definition, "verify_documents") == "Verify documents"
    assert element_name(definition, "verify_documents", "id") == "Verifikasi dokumen"
    assert element_name(definition, "payment_deadline", "id") == "Kode billing kedaluwarsa (7 hari)"
    assert element_name(definition, "no_such_element", "id") == "no_such_element"


def test_check_deployable_names_what_deploy_would_refuse_and_writes_nothing(ctx: Any) -> None:
    from kitas.services.deployments import check_deployable

    deploy_shared_steps()
    before = db.session.scalar(select(func.count(ProcessDefinition.id)))
    bpmn, files = collect_files(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")
    assert check_deployable(bpmn, files) == []
    broken = {name: text for name, text in files.items() if name != "worker-applicant-data.schema.json"}
    problems = check_deployable(bpmn, broken)
    assert problems and any("worker-applicant-data.schema.json" in why for _element, why in problems)
    assert db.session.scalar(select(func.count(ProcessDefinition.id))) == before
