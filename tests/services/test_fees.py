"""One fee table for everything: the type pages, the fee shown before applying and the billing code all
read the fee table of the type's newest deployed version, so a deployed change changes all three."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from kitas.services import cases, fees, payments
from kitas.services.deployments import latest_definition
from tests.conftest import ROOT, deploy_fee_table
from tests.services.helpers import complete


def _deploy_worker_with_fee(months: int, amount: int) -> int:
    """Deploy a new version of the worker diagram whose fee table charges ``amount`` for ``months``."""
    table = (ROOT / "bpmn" / "fees.dmn").read_text(encoding="utf-8")
    pattern = re.compile(
        rf'(<rule id="rule_worker_{months}">.*?<outputEntry id="rule_worker_{months}_output">\s*<text>)(\d+)(</text>)',
        re.S,
    )
    changed, count = pattern.subn(rf"\g<1>{amount}\g<3>", table)
    assert count == 1
    deploy_fee_table(changed)  # the worker follows its payment step to a new version
    worker = latest_definition("kitas_worker")
    assert worker is not None
    return worker.version


def test_without_a_deployed_version_the_repository_table_is_read_and_said(ctx: Flask) -> None:
    table = fees.fee_table("worker")
    assert table.source == fees.REPOSITORY and table.version is None
    assert [(row.duration_months, row.amount) for row in table.rows] == [
        (6, 1_200_000),
        (12, 1_700_000),
        (24, 2_200_000),
    ]


def test_the_deployed_table_is_read_once_deployed(worker: int) -> None:
    table = fees.fee_table("worker")
    assert table.source == fees.DEPLOYED and table.version == 1
    assert (table.lowest, table.highest) == (1_200_000, 2_200_000)
    assert fees.fee_for("worker", "E23", 24) == 2_200_000
    assert fees.fee_for("worker", "E23", 9) is None  # a length the table does not offer


def test_a_type_of_one_fee_for_every_index_code_has_one_row_per_duration(ctx: Flask) -> None:
    family = fees.fee_table("family")
    assert not family.by_index_code
    assert [(row.duration_months, row.amount) for row in family.rows] == [(12, 1_700_000), (24, 2_200_000)]
    student = fees.fee_table("student")
    assert [row.amount for row in student.rows] == [6_000_000, 8_500_000, 12_000_000]


def test_the_raw_rows_are_those_of_the_file(worker: int) -> None:
    table = fees.decision_rows("worker")
    assert table.decision_id == "kitas_fee" and len(table.rows) == 10
    assert table.rows[1].inputs == ('"worker"', "", "12") and table.rows[1].outputs == ("1700000",)


def test_a_deployed_change_changes_the_type_page_the_fee_before_applying_and_the_billing_code(
    worker: int, users: dict[str, Any], client: FlaskClient, login_as: Callable[[Any], FlaskClient]
) -> None:
    before = client.get("/types/worker").get_data(as_text=True)
    assert "Rp 1.700.000" in before and "Rp 1.750.000" not in before

    assert _deploy_worker_with_fee(12, 1_750_000) == 2

    page = client.get("/types/worker").get_data(as_text=True)
    assert "Rp 1.750.000" in page and "Rp 1.700.000" not in page
    dashboard = login_as(users["applicant"]).get("/applications/").get_data(as_text=True)
    offered = re.search(r'data-testid="start-fee-worker">(.*?)</p>', dashboard, re.S)
    assert offered is not None and "Rp 1.750.000" in offered.group(1) and "Rp 1.700.000" not in offered.group(1)

    application = cases.start_case("worker", users["applicant"])  # the new version: new cases use it
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"], contract_months=12)
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    complete(application.id, "document_checklist", users["applicant"])
    view = payments.billing_for(application.reference, users["applicant"])
    assert view.amount == 1_750_000 == fees.fee_for("worker", "E23", 12)


def test_a_case_started_before_the_change_pays_its_own_version_s_fee(worker: int, users: dict[str, Any]) -> None:
    """The page shows the newest table; a running case keeps the table of the version it started on."""
    application = cases.start_case("worker", users["applicant"])
    _deploy_worker_with_fee(12, 1_750_000)
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"], contract_months=12)
    complete(application.id, "sponsor_confirmation", users["sponsor"])
    complete(application.id, "document_checklist", users["applicant"])
    assert payments.billing_for(application.reference, users["applicant"]).amount == 1_700_000
    assert fees.fee_for("worker", "E23", 12) == 1_750_000
