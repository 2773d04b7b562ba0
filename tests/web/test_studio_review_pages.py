"""The review pages: propose with a comment, the proposals, four eyes, versions, compare, roll back."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask

from kitas.extensions import db
from kitas.models import DeploymentProposal, ProcessDefinition, StudioDraft
from kitas.services.deployments import latest_definition
from kitas.services.studio import drafts, review
from tests.factories import make_user


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture()
def second_analyst(ctx: Flask) -> Any:
    return make_user("analyst", email="bea@imigrasi.example", name="Bea Analyst")


def _draft(user: Any, old: str = 'name="Fill in applicant data"', new: str = 'name="Your personal data"') -> int:
    draft = drafts.open_draft("kitas_worker", user)
    return drafts.save_draft(draft.id, draft.revision, user, bpmn_xml=draft.bpmn_xml.replace(old, new)).id


def test_propose_shows_the_difference_and_keeps_the_comment_on_error(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    draft_id = _draft(users["analyst"])
    client = login_as(users["analyst"])
    page = _text(client.get(f"/studio/drafts/{draft_id}/propose"))
    assert 'data-testid="propose-form"' in page and 'data-element="applicant_data"' in page
    assert "Your personal data" in page and "Fill in applicant data" in page
    response = client.post(f"/studio/drafts/{draft_id}/propose", data={"comment": "x" * 1001})
    page = _text(response)
    assert response.status_code == 422 and "longer than 1000 characters" in page and "x" * 1001 in page
    response = client.post(f"/studio/drafts/{draft_id}/propose", data={"comment": ""})
    assert response.status_code == 422 and "Say in a comment" in _text(response)
    response = client.post(f"/studio/drafts/{draft_id}/propose", data={"comment": "Plainer name"})
    proposal = db.session.scalars(db.select(DeploymentProposal)).one()
    assert response.headers["Location"].endswith(f"/studio/proposals/{proposal.id}")


def test_a_draft_with_problems_is_refused_naming_the_element_and_keeping_the_comment(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    draft_id = _draft(users["analyst"], '"worker-applicant-data.schema.json"', '"missing.schema.json"')
    response = login_as(users["analyst"]).post(
        f"/studio/drafts/{draft_id}/propose", data={"comment": "New form for the applicant"}
    )
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="deploy-problems"' in page
    assert "applicant_data" in page and "New form for the applicant" in page
    assert db.session.get(StudioDraft, draft_id).status == "open"


def test_the_proposer_is_offered_no_approval_and_is_refused_one(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    proposal = review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"])
    client = login_as(users["analyst"])
    page = _text(client.get(f"/studio/proposals/{proposal.id}"))
    assert 'data-testid="approve"' not in page and 'data-testid="own-proposal"' in page
    assert 'data-testid="withdraw"' in page
    response = client.post(f"/studio/proposals/{proposal.id}/approve", data={"review_comment": "fine"})
    assert response.status_code == 403 and "four eyes" in _text(response)
    assert db.session.get(DeploymentProposal, proposal.id).status == "pending"


def test_another_analyst_approves_from_the_list_and_it_deploys(
    worker: int, users: dict[str, Any], login_as: Any, second_analyst: Any
) -> None:
    proposal = review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"])
    client = login_as(second_analyst)
    listing = _text(client.get("/studio/proposals"))
    assert f'data-proposal="{proposal.id}"' in listing and "Plainer name" in listing and "1 proposal waits" in listing
    page = _text(client.get(f"/studio/proposals/{proposal.id}"))
    assert 'data-testid="approve"' in page and 'data-testid="reject"' in page
    assert "data-diff-diagram" in page and 'data-testid="diff-legend"' in page
    response = client.post(f"/studio/proposals/{proposal.id}/approve", data={"review_comment": "Reads better"})
    assert response.status_code == 302
    assert latest_definition("kitas_worker").version == 2  # type: ignore[union-attr]
    page = _text(client.get(f"/studio/proposals/{proposal.id}"))
    assert 'data-status="approved"' in page and 'data-testid="approve"' not in page


def test_reject_without_a_comment_keeps_the_page_with_the_error(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    proposal = review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"])
    client = login_as(users["admin"])
    response = client.post(f"/studio/proposals/{proposal.id}/reject", data={"review_comment": ""})
    assert response.status_code == 422 and "why you reject it" in _text(response)
    response = client.post(f"/studio/proposals/{proposal.id}/reject", data={"review_comment": "Keep the wording"})
    assert response.status_code == 302 and db.session.get(DeploymentProposal, proposal.id).status == "rejected"


def test_versions_compare_and_propose_again(
    worker: int, users: dict[str, Any], login_as: Any, second_analyst: Any
) -> None:
    review.approve(review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"]).id, second_analyst)
    client = login_as(users["analyst"])
    page = _text(client.get("/studio/processes/kitas_worker/versions"))
    assert 'data-version="2"' in page and 'data-version="1"' in page and "Plainer name" in page
    assert "/studio/processes/kitas_worker/diff?" in page and "/versions/1/rollback" in page
    page = _text(client.get("/studio/processes/kitas_worker/diff?from=1&to=2"))
    assert 'data-element="applicant_data"' in page and "Your personal data" in page
    assert client.get("/studio/processes/kitas_worker/versions/2.bpmn").mimetype == "application/xml"
    assert client.get("/studio/processes/kitas_worker/diff?from=1&to=9").status_code == 404
    response = client.post("/studio/processes/kitas_worker/versions/1/rollback", data={"comment": ""})
    assert response.status_code == 422 and 'data-testid="rollback-form"' in _text(response)
    response = client.post("/studio/processes/kitas_worker/versions/1/rollback", data={"comment": "Back to 1"})
    proposal = db.session.scalars(db.select(DeploymentProposal).where(DeploymentProposal.draft_id.is_(None))).one()
    assert response.headers["Location"].endswith(f"/studio/proposals/{proposal.id}")
    page = _text(login_as(second_analyst).get(f"/studio/proposals/{proposal.id}"))
    assert "Brings version 1 back" in page


@pytest.mark.parametrize(
    "url",
    ["/studio/proposals", "/studio/processes/kitas_worker/versions", "/studio/processes/kitas_worker/diff"],
)
def test_the_review_pages_are_for_analysts_and_admins(
    worker: int, users: dict[str, Any], login_as: Any, url: str
) -> None:
    assert login_as(users["verifier"]).get(url).status_code == 403
    assert login_as(users["applicant"]).get(url).status_code in (302, 403)
    assert login_as(users["admin"]).get(url).status_code == 200


def test_a_stale_proposal_offers_no_approval_and_says_to_re_propose(
    worker: int, users: dict[str, Any], login_as: Any, second_analyst: Any
) -> None:
    stale = review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"])
    bpmn = db.session.get(ProcessDefinition, worker).bpmn_xml  # type: ignore[union-attr]
    other = drafts.import_draft(
        bpmn.replace('"Fill in employment data"', '"Your job"').encode(), "w.bpmn", second_analyst
    )
    review.approve(review.propose(other.id, "Shorter", second_analyst).id, users["admin"])
    again = stale
    page = _text(login_as(second_analyst).get(f"/studio/proposals/{again.id}"))
    assert 'data-testid="stale-proposal"' in page and "re-propose on the current version" in page
    assert 'data-testid="approve"' not in page and 'data-testid="reject"' in page


def test_an_approval_deployment_refuses_shows_the_problems_and_keeps_the_proposal_pending(
    worker: int, users: dict[str, Any], login_as: Any
) -> None:
    proposal = review.propose(_draft(users["analyst"]), "Plainer name", users["analyst"])
    # What was proposed no longer deploys (here: its frozen form reference is broken).
    proposal.bpmn_xml = proposal.bpmn_xml.replace('"worker-applicant-data.schema.json"', '"gone.schema.json"')
    db.session.commit()
    response = login_as(users["admin"]).post(
        f"/studio/proposals/{proposal.id}/approve", data={"review_comment": "Looks fine"}
    )
    page = _text(response)
    assert response.status_code == 422 and 'data-testid="deploy-problems"' in page and "applicant_data" in page
    assert "Looks fine" in page
    assert db.session.get(DeploymentProposal, proposal.id).status == "pending"
    assert latest_definition("kitas_worker").id == worker  # type: ignore[union-attr]
