"""Forms that catch impossible answers (rules as data), refusals of bad rules, the status after the sponsor."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Notification
from kitas.services import cases
from kitas.services.deployments import collect_files, deploy
from kitas.services.errors import DeploymentRefused, InvalidInput
from tests.conftest import ROOT
from tests.services.helpers import complete

WORKER = ROOT / "bpmn" / "kitas_worker.bpmn"
FORMS = ROOT / "forms" / "schemas"


@pytest.mark.usefixtures("worker")
def test_after_the_sponsor_confirms_the_status_is_documents_then_payment(users: dict[str, Any]) -> None:
    """Regression: the document checklist said "draft", so the case fell back to "Draft" once confirmed."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    assert complete(application.id, "employment_data", users["applicant"]).status == "awaiting_sponsor"
    confirmed = complete(application.id, "sponsor_confirmation", users["sponsor"])
    assert confirmed.status == "awaiting_documents"
    subjects = [
        n.subject for n in db.session.scalars(select(Notification).where(Notification.user_id == users["applicant"].id))
    ]
    assert f"{application.reference}: Documents needed" in subjects
    assert not any(s.endswith(": Draft") for s in subjects)
    assert complete(application.id, "document_checklist", users["applicant"]).status == "awaiting_payment"


@pytest.mark.usefixtures("worker")
def test_the_services_check_the_rules_with_todays_date_and_the_catalog(users: dict[str, Any]) -> None:
    application = cases.start_case("worker", users["applicant"])
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "applicant_data", users["applicant"], date_of_birth="2099-01-01")
    assert refused.value.errors == {"date_of_birth": ["Enter a date in the past."]}
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "applicant_data", users["applicant"], passport_expiry="2020-01-01")
    assert refused.value.errors == {"passport_expiry": ["Enter a date after today."]}
    # The passport must outlast a 24-month contract by the catalog's 6 months: 30 months from today.
    complete(application.id, "applicant_data", users["applicant"], passport_expiry="2027-12-31")
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "employment_data", users["applicant"], contract_months=24)
    assert list(refused.value.errors) == ["contract_months"]
    assert "6 months after the stay ends" in refused.value.errors["contract_months"][0]
    with pytest.raises(InvalidInput) as refused:
        complete(
            application.id,
            "employment_data",
            users["applicant"],
            contract_months=6,
            previous_employers=[{"name": "Acme Ltda", "country": "BR", "from_year": 2020, "to_year": 2018}],
        )
    assert refused.value.errors == {"previous_employers.0.to_year": ["The end comes before the start; check both."]}
    assert complete(application.id, "employment_data", users["applicant"], contract_months=6).status == (
        "awaiting_sponsor"
    )


@pytest.mark.usefixtures("worker")
def test_a_contract_length_the_type_does_not_offer_names_the_ones_it_does(
    users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "employment_data", users["applicant"], contract_months=36)
    assert refused.value.errors == {
        "contract_months": ["A work KITAS is not issued for 36 months; choose 6, 12, 24 months."]
    }
    # The catalog decides, not the form: without 6 months in the type's durations, the form's option is refused.
    from kitas.services.cases import form_rules

    shipped = form_rules.rule_values
    monkeypatch.setattr(form_rules, "rule_values", lambda code: {**shipped(code), "durations_months": [12, 24]})
    with pytest.raises(InvalidInput) as refused:
        complete(application.id, "employment_data", users["applicant"], contract_months=6)
    assert refused.value.errors == {
        "contract_months": ["A work KITAS is not issued for 6 months; choose 12, 24 months."]
    }


def _with_rule(files: dict[str, str], rule: dict[str, Any]) -> dict[str, str]:
    name = "worker-applicant-data.schema.json"
    schema = json.loads(files[name])
    schema["properties"]["date_of_birth"]["x-kitas-rules"] = [rule]
    return {**files, name: json.dumps(schema)}


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ({"rule": "born_on_a_sunday"}, "unknown rule 'born_on_a_sunday'"),
        ({"rule": "valid_months_after", "field": "visa_end", "months_from": 6}, "names the field 'visa_end'"),
        ({"rule": "valid_months_after", "field": "contract_months", "months_from": "catalog:nope"}, "catalog:nope"),
        ({"rule": "one_of", "values": "catalog:passport_months_beyond_stay"}, "does not have as a list"),
        ({"rule": "at_least", "value": "catalog:min_investment_idr"}, "catalog:min_investment_idr"),
    ],
)
def test_a_bad_rule_is_refused_at_deployment_naming_the_form_and_field(
    worker: int, rule: dict[str, Any], said: str
) -> None:
    bpmn, files = collect_files(WORKER, FORMS)
    with pytest.raises(DeploymentRefused) as caught:
        deploy(bpmn, _with_rule(files, rule))
    (problem,) = [text for element, text in caught.value.problems if element == "applicant_data"]
    assert problem.startswith("worker-applicant-data.schema.json: date_of_birth: ") and said in problem
