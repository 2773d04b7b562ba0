"""Deploy with four eyes: propose a draft, another person approves (it deploys) or rejects; roll back."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from kitas.extensions import db
from kitas.models import Application, AuditEvent, DeploymentProposal, ProcessDefinition, StudioDraft
from kitas.services import cases
from kitas.services.deployments import latest_definition
from kitas.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from kitas.services.studio import drafts, review
from tests.conftest import ROOT, deploy_fee_table
from tests.factories import make_user
from tests.services.helpers import complete

RENAMED = 'name="Fill in your personal data"'


@pytest.fixture()
def second_analyst(ctx: Flask) -> Any:
    return make_user("analyst", email="bea@imigrasi.example", name="Bea Analyst")


def _renamed_draft(user: Any) -> StudioDraft:
    """A draft of the worker whose first form task has a new name (deployable as it is)."""
    draft = drafts.open_draft("kitas_worker", user)
    bpmn = draft.bpmn_xml.replace('name="Fill in applicant data"', RENAMED)
    return drafts.save_draft(draft.id, draft.revision, user, bpmn_xml=bpmn)


def _actions() -> list[str]:
    """The worker's deployment chain, oldest first."""
    query = select(AuditEvent).where(AuditEvent.chain == "process:kitas_worker").order_by(AuditEvent.seq)
    return [e.action for e in db.session.scalars(query).all()]


def test_a_proposal_needs_a_comment_of_at_most_1000_characters(worker: int, users: dict[str, Any]) -> None:
    draft = _renamed_draft(users["analyst"])
    for comment in ("", "   ", None, "x" * 1001):
        with pytest.raises(InvalidInput) as refused:
            review.propose(draft.id, comment, users["analyst"])
        assert "comment" in refused.value.errors
    assert db.session.get(StudioDraft, draft.id).status == "open"
    assert db.session.scalars(select(DeploymentProposal)).all() == []


def test_a_draft_that_changes_nothing_is_not_proposed(worker: int, users: dict[str, Any]) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    with pytest.raises(InvalidInput) as refused:
        review.propose(draft.id, "No change", users["analyst"])
    assert "Nothing differs from version 1" in str(refused.value.errors["comment"][0])


def test_a_draft_that_cannot_be_deployed_is_refused_with_its_problems(worker: int, users: dict[str, Any]) -> None:
    draft = drafts.open_draft("kitas_worker", users["analyst"])
    bpmn = draft.bpmn_xml.replace('"worker-applicant-data.schema.json"', '"no-such-form.schema.json"')
    draft = drafts.save_draft(draft.id, draft.revision, users["analyst"], bpmn_xml=bpmn)
    with pytest.raises(review.ProposalRefused) as refused:
        review.propose(draft.id, "Use the new form", users["analyst"])
    assert any(element == "applicant_data" for element, _problem in refused.value.problems)
    assert db.session.get(StudioDraft, draft.id).status == "open"


def test_the_proposer_cannot_approve_or_reject_their_own_proposal(worker: int, users: dict[str, Any]) -> None:
    proposal = review.propose(_renamed_draft(users["analyst"]).id, "Plainer task name", users["analyst"])
    with pytest.raises(Forbidden, match="four eyes"):
        review.approve(proposal.id, users["analyst"])
    with pytest.raises(Forbidden, match="four eyes"):
        review.reject(proposal.id, users["analyst"], "no")
    assert db.session.get(DeploymentProposal, proposal.id).status == "pending"
    view = review.proposal_view(proposal.id, users["analyst"])
    assert not view.may_review and view.may_withdraw
    assert review.proposal_view(proposal.id, users["admin"]).may_review


def test_approval_deploys_new_cases_start_on_it_and_an_old_case_keeps_its_version(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    old_case = cases.start_case("worker", users["applicant"])
    draft = _renamed_draft(users["analyst"])
    proposal = review.propose(draft.id, "Plainer task name", users["analyst"])
    assert db.session.get(StudioDraft, draft.id).status == "proposed"
    with pytest.raises(NotFound):  # read-only while proposed: there is no open draft to save
        drafts.save_draft(draft.id, draft.revision, users["analyst"], bpmn_xml=draft.bpmn_xml)
    assert proposal.base_definition_id == worker and proposal.content_hash

    approved = review.approve(proposal.id, second_analyst, "Reads better")
    new = latest_definition("kitas_worker")
    assert new is not None and new.id != worker and new.version == 2
    assert approved.status == "approved" and approved.definition_id == new.id
    assert approved.reviewed_by_id == second_analyst.id and approved.review_comment == "Reads better"
    assert new.comment == "Plainer task name" and new.deployed_by_id == second_analyst.id
    assert RENAMED in new.bpmn_xml
    assert db.session.get(StudioDraft, draft.id).status == "deployed"

    new_case = cases.start_case("worker", users["applicant"])
    assert new_case.definition_id == new.id
    assert db.session.get(Application, old_case.id).definition_id == worker
    complete(old_case.id, "applicant_data", users["applicant"])  # the old case runs on its own version
    assert db.session.get(Application, old_case.id).definition_id == worker
    assert _actions()[-2:] == ["definition_deployed", "studio_version_approved"]


def test_reject_needs_a_comment_and_reopens_the_draft(worker: int, users: dict[str, Any]) -> None:
    draft = _renamed_draft(users["analyst"])
    proposal = review.propose(draft.id, "Plainer task name", users["analyst"])
    with pytest.raises(InvalidInput) as refused:
        review.reject(proposal.id, users["admin"], "  ")
    assert "review_comment" in refused.value.errors
    rejected = review.reject(proposal.id, users["admin"], "Keep the official wording")
    assert rejected.status == "rejected" and rejected.review_comment == "Keep the official wording"
    assert db.session.get(StudioDraft, draft.id).status == "open"
    assert latest_definition("kitas_worker").id == worker  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        review.approve(proposal.id, users["admin"])
    assert _actions()[-1] == "studio_version_rejected"


def test_withdraw_is_the_proposer_s_and_reopens_the_draft(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    draft = _renamed_draft(users["analyst"])
    proposal = review.propose(draft.id, "Plainer task name", users["analyst"])
    with pytest.raises(Forbidden):
        review.withdraw(proposal.id, second_analyst)
    assert review.withdraw(proposal.id, users["analyst"]).status == "withdrawn"
    assert db.session.get(StudioDraft, draft.id).status == "open"
    # Reopened, it can be edited and proposed again.
    again = drafts.get_draft(draft.id)
    drafts.save_draft(again.id, again.revision, users["analyst"], bpmn_xml=again.bpmn_xml)
    assert review.propose(draft.id, "Second try", users["analyst"]).status == "pending"
    assert _actions().count("studio_version_withdrawn") == 1
    assert _actions().count("studio_version_proposed") == 2


def test_a_proposal_on_a_version_no_longer_the_latest_is_refused(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    first = review.propose(_renamed_draft(users["analyst"]).id, "Plainer task name", users["analyst"])
    # Meanwhile another draft is proposed and approved.
    other = drafts.import_draft(
        db.session.get(ProcessDefinition, worker)
        .bpmn_xml.replace(  # type: ignore[union-attr]
            'name="Fill in employment data"', 'name="Your job"'
        )
        .encode(),
        "worker.bpmn",
        second_analyst,
    )
    second = review.propose(other.id, "Shorter", second_analyst)
    review.approve(second.id, users["analyst"])
    with pytest.raises(Conflict, match="re-propose on the current version"):
        review.approve(first.id, second_analyst)
    assert db.session.get(DeploymentProposal, first.id).status == "pending"
    assert review.proposal_view(first.id, second_analyst).stale


def test_rolling_back_makes_the_old_version_current_for_new_cases(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    review.approve(review.propose(_renamed_draft(users["analyst"]).id, "Rename", users["analyst"]).id, second_analyst)
    version_2 = latest_definition("kitas_worker")
    assert version_2 is not None and version_2.version == 2
    on_2 = cases.start_case("worker", users["applicant"])
    with pytest.raises(InvalidInput):  # the current one cannot be proposed again
        review.propose_version_again("kitas_worker", 2, "again", second_analyst)
    with pytest.raises(InvalidInput):
        review.propose_version_again("kitas_worker", 1, "", second_analyst)
    proposal = review.propose_version_again("kitas_worker", 1, "The new name confused applicants", second_analyst)
    assert proposal.draft_id is None and proposal.base_definition_id == version_2.id
    assert review.proposal_view(proposal.id, users["analyst"]).rollback_of.version == 1  # type: ignore[union-attr]
    with pytest.raises(Forbidden):
        review.approve(proposal.id, second_analyst)
    review.approve(proposal.id, users["analyst"], "Agreed")

    current = latest_definition("kitas_worker")
    assert current is not None and current.id == worker and current.version == 1
    assert db.session.get(ProcessDefinition, version_2.id).retired  # type: ignore[union-attr]
    # The old row itself is current again: no copy of it was deployed.
    assert (
        len(db.session.scalars(select(ProcessDefinition).where(ProcessDefinition.process_id == "kitas_worker")).all())
        == 2
    )
    assert cases.start_case("worker", users["applicant"]).definition_id == worker
    assert db.session.get(Application, on_2.id).definition_id == version_2.id
    rows = {r.version: r for r in review.versions("kitas_worker")}
    assert rows[1].current and rows[2].retired and not rows[2].current
    assert "definition_rolled_back" in _actions() and _actions()[-1] == "studio_version_approved"


def test_audit_rows_name_the_proposal_and_land_on_the_process_chain(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    proposal = review.propose(_renamed_draft(users["analyst"]).id, "Rename", users["analyst"])
    review.approve(proposal.id, second_analyst)
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("studio_version_%"))).all()
    assert [r.action for r in rows] == ["studio_version_proposed", "studio_version_approved"]
    assert all(r.chain == "process:kitas_worker" and r.detail["proposal"] == proposal.id for r in rows)
    assert rows[1].detail["version"] == 2 and rows[1].actor_id == second_analyst.id


def test_the_proposals_list_puts_pending_first(worker: int, users: dict[str, Any], second_analyst: Any) -> None:
    first = review.propose(_renamed_draft(users["analyst"]).id, "Rename", users["analyst"])
    review.withdraw(first.id, users["analyst"])
    second = review.propose(first.draft_id, "Rename again", users["analyst"])  # type: ignore[arg-type]
    page = review.proposal_page(1)
    assert [p.id for p in page.proposals] == [second.id, first.id] and page.pending == 1 and page.pages == 1


def test_rolling_back_a_shared_step_brings_its_callers_back_with_it(
    worker: int, users: dict[str, Any], second_analyst: Any
) -> None:
    fees = (ROOT / "bpmn" / "fees.dmn").read_text(encoding="utf-8")
    deploy_fee_table(fees.replace("<text>1700000</text>", "<text>1900000</text>"))
    assert latest_definition("kitas_worker").version == 2  # type: ignore[union-attr]
    proposal = review.propose_version_again("shared_payment", 1, "The new fee is not in force yet", users["analyst"])
    review.approve(proposal.id, second_analyst)
    assert latest_definition("shared_payment").version == 1  # type: ignore[union-attr]
    # The worker's version 1 bundles payment version 1: it is current again, not a copy of it.
    assert latest_definition("kitas_worker").id == worker  # type: ignore[union-attr]
    assert "1700000" in latest_definition("kitas_worker").files["fees.dmn"]  # type: ignore[union-attr]


def test_the_proposals_are_paged(worker: int, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    first = review.propose(_renamed_draft(users["analyst"]).id, "Rename", users["analyst"])
    review.withdraw(first.id, users["analyst"])
    second = review.propose(first.draft_id, "Rename again", users["analyst"])  # type: ignore[arg-type]
    monkeypatch.setattr(review, "PAGE_SIZE", 1)
    assert [p.id for p in review.proposal_page(1).proposals] == [second.id]
    page = review.proposal_page(2)
    assert [p.id for p in page.proposals] == [first.id] and page.pages == 2
    assert review.proposal_page(99).page == 2  # past the end: the last page
