"""The difference between two versions: elements, form fields, texts and fee rows."""

from __future__ import annotations

import json
import re

from kitas.services.studio.diff import compare
from tests.conftest import ROOT

WORKER = (ROOT / "bpmn" / "kitas_worker.bpmn").read_text(encoding="utf-8")
FEES = (ROOT / "bpmn" / "fees.dmn").read_text(encoding="utf-8")
FORM = "worker-applicant-data.schema.json"
SCHEMA = (ROOT / "forms" / "schemas" / FORM).read_text(encoding="utf-8")

NEW_TASK = """<bpmn:userTask id="check_extra" name="Check the extra paper">
      <bpmn:incoming>flow_a</bpmn:incoming></bpmn:userTask>
    <bpmn:startEvent id="start\""""


def test_the_same_content_has_no_difference() -> None:
    assert compare((WORKER, {FORM: SCHEMA}), (WORKER, {FORM: SCHEMA})).empty


def test_a_renamed_task_is_changed_with_its_old_and_new_name() -> None:
    renamed = WORKER.replace('name="Fill in applicant data"', 'name="Your personal data"')
    diff = compare((WORKER, {}), (renamed, {}))
    assert [e.id for e in diff.changed] == ["applicant_data"] and not diff.added and not diff.removed
    (change,) = diff.changed[0].changes
    assert (change.what, change.before, change.after) == ("name", "Fill in applicant data", "Your personal data")
    assert diff.changed[0].name == "Your personal data" and diff.changed[0].kind == "userTask"
    assert diff.markers() == {"added": [], "removed": [], "changed": ["applicant_data"]}


def test_an_added_task_and_a_removed_flow() -> None:
    changed = WORKER.replace('<bpmn:startEvent id="start"', NEW_TASK, 1)
    changed = re.sub(r'<bpmn:sequenceFlow id="flow_applicant_data_to_employment_data"[^>]*/>', "", changed)
    diff = compare((WORKER, {}), (changed, {}))
    assert [(e.id, e.name, e.kind) for e in diff.added] == [("check_extra", "Check the extra paper", "userTask")]
    assert [e.id for e in diff.removed] == ["flow_applicant_data_to_employment_data"]


def test_a_changed_script_condition_and_form_property_are_named() -> None:
    changed = WORKER.replace("interview_required = False", "interview_required = True").replace(
        '"worker-applicant-data.uischema.json"', '"worker-applicant-data-2.uischema.json"'
    )
    diff = compare((WORKER, {}), (changed, {}))
    whats = {e.id: [c.what for c in e.changes] for e in diff.changed}
    assert whats == {"init_case": ["script"], "applicant_data": ["properties:formUiSchemaFilename"]}


def test_form_fields_added_removed_and_changed() -> None:
    schema = json.loads(SCHEMA)
    schema["properties"]["nationality"]["title"] = "Citizenship"
    schema["required"].remove("phone")
    del schema["properties"]["email"]
    schema["properties"]["nickname"] = {"type": "string", "title": "Nickname"}
    diff = compare((WORKER, {FORM: SCHEMA}), (WORKER, {FORM: json.dumps(schema)}))
    fields = {(f.field, f.status): f for f in diff.fields}
    assert set(fields) == {
        ("nationality", "changed"),
        ("phone", "changed"),
        ("email", "removed"),
        ("nickname", "added"),
    }
    assert [(c.what, c.after) for c in fields["nationality", "changed"].changes] == [("title", "Citizenship")]
    assert [(c.what, c.before, c.after) for c in fields["phone", "changed"].changes] == [("required", "yes", "no")]
    assert all(f.form == FORM for f in diff.fields) and not diff.files_changed


def test_a_changed_translation_is_a_text_change() -> None:
    old = {"kitas_worker.id.json": json.dumps({"/applicant_data": "Isi data pemohon"})}
    new = {"kitas_worker.id.json": json.dumps({"/applicant_data": "Isi data diri"})}
    (text,) = compare((WORKER, old), (WORKER, new)).texts
    assert (text.pointer, text.before, text.after) == ("/applicant_data", "Isi data pemohon", "Isi data diri")


def test_a_changed_fee_row_is_matched_by_its_inputs() -> None:
    changed = re.sub(r'(<outputEntry id="rule_worker_12_output">\s*<text>)1700000', r"\g<1>1900000", FEES)
    diff = compare((WORKER, {"fees.dmn": FEES}), (WORKER, {"fees.dmn": changed}))
    (fee,) = diff.fees
    assert (fee.decision, fee.status, fee.before, fee.after) == ("kitas_fee", "changed", "1700000", "1900000")
    assert '"worker"' in fee.when and "12" in fee.when


def test_a_removed_fee_row_and_a_first_version() -> None:
    without = re.sub(r'<rule id="rule_worker_24">.*?</rule>', "", FEES, flags=re.S)
    (fee,) = compare((WORKER, {"fees.dmn": FEES}), (WORKER, {"fees.dmn": without})).fees
    assert fee.status == "removed" and fee.before == "2200000" and fee.after == ""
    first = compare(None, (WORKER, {FORM: SCHEMA}))
    assert any(e.id == "applicant_data" for e in first.added) and not first.removed
    assert {f.status for f in first.fields} == {"added"}


def test_the_shared_steps_a_version_bundles_compare_only_between_versions() -> None:
    version = {FORM: SCHEMA, "called/shared_payment.bpmn": "<a/>"}
    assert compare((WORKER, version), (WORKER, {FORM: SCHEMA})).empty  # a draft has no bundled copies
    newer = compare((WORKER, version), (WORKER, {**version, "called/shared_payment.bpmn": "<b/>"}))
    assert newer.files_changed == ("called/shared_payment.bpmn",)


def test_a_diagram_without_namespaces_or_that_is_not_xml_still_compares() -> None:
    plain = '<definitions><process id="p"><task id="t" name="Do it"/><!-- a note --></process></definitions>'
    assert [e.id for e in compare(None, (plain, {})).added] == ["t"]
    broken = compare((WORKER, {}), ("<definitions", {}))
    assert broken.problems and len(broken.removed) > 10
