"""Deploy with four eyes: an analyst proposes a version with a comment, another analyst or an admin
approves it (then, in the same transaction, it is deployed) or rejects it.

A proposal freezes the diagram and files it was made of, and the version it was compared with (its
base: the latest deployed version then). Approving a proposal whose base is no longer the latest is
refused: someone deployed meanwhile, and the reviewer never saw the difference with that version.
Rolling back is the same road: "propose this version again" makes a proposal of an older version's
content; approving it makes that version current again (``deployments.make_current``), so new cases
start on it while running cases keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select

from engine import content_hash
from forms.texts import Message

from ...extensions import app_clock, db
from ...models import DeploymentProposal, ProcessDefinition, StudioDraft, User
from ...transactions import write_transaction
from .. import audit
from ..deployments import check_deployable, deploy_in_transaction, latest_definition, make_current
from ..errors import Conflict, DeploymentRefused, Forbidden, InvalidInput, NotFound
from . import diff as diffs

MAX_COMMENT = 1000
PAGE_SIZE = 20
COMMENT_REQUIRED = Message("Say in a comment what this version changes and why (at most 1000 characters).")
REVIEW_COMMENT_REQUIRED = Message("Say in a comment why you reject it (at most 1000 characters).")
COMMENT_TOO_LONG = Message("The comment is longer than 1000 characters; shorten it.")
OWN_PROPOSAL = Message(
    "You proposed this version yourself; another analyst or an administrator must review it (four eyes)."
)


class ProposalRefused(DeploymentRefused):
    """The draft cannot be proposed as it is: ``problems`` names each element, as deployment would."""


@dataclass(frozen=True)
class ProposalPage:
    """One page of the proposals: the pending ones first (oldest first), then the decided ones."""

    proposals: tuple[DeploymentProposal, ...]
    page: int
    pages: int
    pending: int


@dataclass(frozen=True)
class ProposalView:
    """A proposal with what it changes against its base, and whether ``viewer`` may decide it."""

    proposal: DeploymentProposal
    base: ProcessDefinition | None
    latest: ProcessDefinition | None
    diff: diffs.Diff
    rollback_of: ProcessDefinition | None  # the older version a rollback proposal brings back
    may_review: bool
    may_withdraw: bool

    @property
    def stale(self) -> bool:
        """True when another version was deployed after the proposal was made."""
        return _is_stale(self.proposal, self.latest, self.base)


@dataclass(frozen=True)
class VersionRow:
    """One deployed version of a process in its history."""

    definition_id: int
    version: int
    deployed_by: str
    deployed_at: datetime
    comment: str | None
    retired: bool
    current: bool


def _clean_comment(comment: str | None, field: str, required: Message) -> str:
    text = (comment or "").strip()
    if not text:
        raise InvalidInput({field: [required]})
    if len(text) > MAX_COMMENT:
        raise InvalidInput({field: [COMMENT_TOO_LONG]})
    return text


def _record(action: str, proposal: DeploymentProposal, user: User, **detail: Any) -> None:
    audit.record(
        action,
        {"proposal": proposal.id, "process_id": proposal.process_id, "draft": proposal.draft_id, **detail},
        user=user,
        chain=audit.process_chain(proposal.process_id),
    )


def propose(draft_id: int, comment: str | None, user: User) -> DeploymentProposal:
    """Propose an open draft for deployment with a comment (1-1000 characters).

    Refused with every problem deployment would find (``ProposalRefused``); otherwise the draft's
    diagram and files are frozen in a pending proposal compared with the latest deployed version,
    and the draft is read-only until the proposal is withdrawn or rejected."""
    text = _clean_comment(comment, "comment", COMMENT_REQUIRED)
    with write_transaction():
        draft = db.session.scalars(
            select(StudioDraft).where(StudioDraft.id == draft_id).with_for_update(of=StudioDraft)
        ).first()
        if draft is None or draft.status == "discarded":
            raise NotFound(Message("there is no draft %(id)s", id=draft_id))
        if draft.status != "open":
            raise Conflict(Message("This draft is already proposed or deployed; it cannot be proposed again."))
        files = dict(draft.files)
        problems = check_deployable(draft.bpmn_xml, files, process_id=draft.process_id)
        if problems:
            raise ProposalRefused(problems)
        base = latest_definition(draft.process_id)
        if base is not None and diffs.compare((base.bpmn_xml, dict(base.files)), (draft.bpmn_xml, files)).empty:
            raise InvalidInput(
                {
                    "comment": [
                        Message(
                            "Nothing differs from version %(version)s, the current one; change the draft first.",
                            version=base.version,
                        )
                    ]
                }
            )
        proposal = _new_proposal(draft.process_id, draft.bpmn_xml, files, text, user, draft_id=draft.id)
        draft.status = "proposed"
        draft.updated_by_id = user.id
        draft.updated_at = proposal.proposed_at
        _record("studio_version_proposed", proposal, user, base=proposal.base_definition_id, hash=proposal.content_hash)
        return proposal


def propose_version_again(process_id: str, version: int, comment: str | None, user: User) -> DeploymentProposal:
    """Propose an older deployed version again (a rollback), with a comment; approving it makes that
    version current. Refused for the version that is current already."""
    text = _clean_comment(comment, "comment", COMMENT_REQUIRED)
    with write_transaction():
        audit.lock_chain(audit.process_chain(process_id))
        definition = _version(process_id, version)
        latest = latest_definition(process_id)
        if latest is not None and latest.id == definition.id:
            raise InvalidInput(
                {"comment": [Message("Version %(version)s is the current version already.", version=version)]}
            )
        proposal = _new_proposal(process_id, definition.bpmn_xml, dict(definition.files), text, user, draft_id=None)
        _record("studio_version_proposed", proposal, user, base=proposal.base_definition_id, again=version)
        return proposal


def _new_proposal(
    process_id: str, bpmn: str, files: dict[str, Any], comment: str, user: User, *, draft_id: int | None
) -> DeploymentProposal:
    latest = latest_definition(process_id)
    proposal = DeploymentProposal(
        draft_id=draft_id,
        process_id=process_id,
        bpmn_xml=bpmn,
        files=files,
        content_hash=content_hash(bpmn, files),
        base_definition_id=latest.id if latest is not None else None,
        comment=comment,
        status="pending",
        proposed_by_id=user.id,
        proposed_at=app_clock().now(),
    )
    db.session.add(proposal)
    db.session.flush()
    return proposal


def _version(process_id: str, version: int) -> ProcessDefinition:
    definition = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == process_id,
            ProcessDefinition.version == version,
            ProcessDefinition.trial.is_(False),
        )
    ).first()
    if definition is None:
        raise NotFound(Message("%(process)s has no version %(version)s", process=process_id, version=version))
    return definition


def _pending_for_review(proposal_id: int, user: User) -> DeploymentProposal:
    """The pending proposal, locked; refused for its own proposer (four eyes)."""
    proposal = db.session.scalars(
        select(DeploymentProposal).where(DeploymentProposal.id == proposal_id).with_for_update(of=DeploymentProposal)
    ).first()
    if proposal is None:
        raise NotFound(Message("there is no proposal %(id)s", id=proposal_id))
    if proposal.status != "pending":
        raise Conflict(Message("This proposal was decided already; reload the page to see its decision."))
    if proposal.proposed_by_id == user.id:
        raise Forbidden(OWN_PROPOSAL)
    if not (user.has_role("analyst") or user.has_role("admin")):
        raise Forbidden(Message("Only an analyst or an administrator reviews proposals."))
    return proposal


def _is_stale(proposal: DeploymentProposal, latest: ProcessDefinition | None, base: ProcessDefinition | None) -> bool:
    latest_id = latest.id if latest is not None else None
    if latest_id == proposal.base_definition_id:
        return False
    # The same content under another row (a caller redeployed identically) or the proposal itself.
    return latest is None or latest.content_hash not in {proposal.content_hash, base.content_hash if base else None}


def approve(proposal_id: int, user: User, comment: str | None = None) -> DeploymentProposal:
    """Approve another person's pending proposal: deploy it, in the same transaction.

    Refused for the proposer (four eyes), for a proposal whose base is no longer the latest version
    (re-propose on the current version), and with deployment's problems when it cannot be deployed."""
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput({"review_comment": [COMMENT_TOO_LONG]})
    with write_transaction():
        proposal = _pending_for_review(proposal_id, user)
        audit.lock_chain(audit.process_chain(proposal.process_id))
        base = db.session.get(ProcessDefinition, proposal.base_definition_id) if proposal.base_definition_id else None
        latest = latest_definition(proposal.process_id)
        if _is_stale(proposal, latest, base):
            raise Conflict(
                Message(
                    "Version %(version)s was deployed after this proposal was made; the difference you reviewed "
                    "is not the one it would deploy. Reject it and re-propose on the current version.",
                    version=latest.version if latest is not None else "?",
                )
            )
        definition_id, version = _deploy(proposal, user)
        proposal.status = "approved"
        proposal.reviewed_by_id = user.id
        proposal.reviewed_at = app_clock().now()
        proposal.review_comment = text or None
        proposal.definition_id = definition_id
        if proposal.draft_id is not None:
            draft = db.session.get(StudioDraft, proposal.draft_id)
            if draft is not None:
                draft.status = "deployed"
        _record("studio_version_approved", proposal, user, definition=definition_id, version=version)
        return proposal


def _deploy(proposal: DeploymentProposal, user: User) -> tuple[int, int]:
    """Deploy a proposal's content, or make the older version it repeats current again."""
    again = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == proposal.process_id,
            ProcessDefinition.content_hash == proposal.content_hash,
            ProcessDefinition.trial.is_(False),
        )
    ).first()
    if again is None:
        result = deploy_in_transaction(
            proposal.bpmn_xml,
            dict(proposal.files),
            deployed_by=user,
            comment=proposal.comment,
            process_id=proposal.process_id,
        )
        again = db.session.get(ProcessDefinition, result.definition_id)
    assert again is not None
    latest = latest_definition(proposal.process_id)
    if latest is None or latest.id != again.id:
        make_current(again.id, user, proposal.comment)
    return again.id, again.version


def reject(proposal_id: int, user: User, comment: str | None) -> DeploymentProposal:
    """Reject another person's pending proposal with a comment (required); its draft opens again."""
    text = _clean_comment(comment, "review_comment", REVIEW_COMMENT_REQUIRED)
    with write_transaction():
        proposal = _pending_for_review(proposal_id, user)
        proposal.status = "rejected"
        proposal.reviewed_by_id = user.id
        proposal.reviewed_at = app_clock().now()
        proposal.review_comment = text
        _reopen_draft(proposal, user)
        _record("studio_version_rejected", proposal, user, comment=text)
        return proposal


def withdraw(proposal_id: int, user: User) -> DeploymentProposal:
    """The proposer (or an administrator) withdraws a pending proposal; its draft opens again."""
    with write_transaction():
        proposal = db.session.scalars(
            select(DeploymentProposal)
            .where(DeploymentProposal.id == proposal_id)
            .with_for_update(of=DeploymentProposal)
        ).first()
        if proposal is None:
            raise NotFound(Message("there is no proposal %(id)s", id=proposal_id))
        if proposal.status != "pending":
            raise Conflict(Message("This proposal was decided already; reload the page to see its decision."))
        if proposal.proposed_by_id != user.id and not user.has_role("admin"):
            raise Forbidden(Message("Only the analyst who proposed it (or an administrator) withdraws a proposal."))
        proposal.status = "withdrawn"
        proposal.reviewed_by_id = user.id
        proposal.reviewed_at = app_clock().now()
        _reopen_draft(proposal, user)
        _record("studio_version_withdrawn", proposal, user)
        return proposal


def _reopen_draft(proposal: DeploymentProposal, user: User) -> None:
    if proposal.draft_id is None:
        return
    draft = db.session.get(StudioDraft, proposal.draft_id)
    if draft is not None and draft.status == "proposed":
        draft.status = "open"
        draft.updated_by_id = user.id
        draft.updated_at = app_clock().now()


def proposal_page(page: int = 1) -> ProposalPage:
    """Pending proposals first (oldest first), then the decided ones (newest first), PAGE_SIZE a page."""
    total = int(db.session.scalar(select(func.count(DeploymentProposal.id))) or 0)
    pending = int(
        db.session.scalar(select(func.count(DeploymentProposal.id)).where(DeploymentProposal.status == "pending")) or 0
    )
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    is_pending = case((DeploymentProposal.status == "pending", 0), else_=1)
    order = case((DeploymentProposal.status == "pending", DeploymentProposal.id), else_=-DeploymentProposal.id)
    rows = db.session.scalars(
        select(DeploymentProposal).order_by(is_pending, order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return ProposalPage(tuple(rows), page, pages, pending)


def proposal_view(proposal_id: int, viewer: User) -> ProposalView:
    """A proposal, its difference with its base version, and what ``viewer`` may do with it."""
    proposal = db.session.get(DeploymentProposal, proposal_id)
    if proposal is None:
        raise NotFound(Message("there is no proposal %(id)s", id=proposal_id))
    base = db.session.get(ProcessDefinition, proposal.base_definition_id) if proposal.base_definition_id else None
    again = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == proposal.process_id,
            ProcessDefinition.content_hash == proposal.content_hash,
            ProcessDefinition.trial.is_(False),
        )
    ).first()
    pending = proposal.status == "pending"
    return ProposalView(
        proposal=proposal,
        base=base,
        latest=latest_definition(proposal.process_id),
        diff=diffs.compare(
            (base.bpmn_xml, dict(base.files)) if base else None, (proposal.bpmn_xml, dict(proposal.files))
        ),
        rollback_of=again if proposal.draft_id is None else None,
        may_review=pending and proposal.proposed_by_id != viewer.id,
        may_withdraw=pending and (proposal.proposed_by_id == viewer.id or viewer.has_role("admin")),
    )


@dataclass(frozen=True)
class ProposeView:
    """What proposing a draft would deploy: the draft, the version it is compared with, the difference."""

    draft: StudioDraft
    base: ProcessDefinition | None
    diff: diffs.Diff
    pending: DeploymentProposal | None


def propose_view(draft_id: int) -> ProposeView:
    """A draft and its difference with the latest deployed version (what a proposal would show)."""
    draft = db.session.get(StudioDraft, draft_id)
    if draft is None or draft.status == "discarded":
        raise NotFound(Message("there is no draft %(id)s", id=draft_id))
    base = latest_definition(draft.process_id)
    pending = db.session.scalars(
        select(DeploymentProposal)
        .where(DeploymentProposal.draft_id == draft.id, DeploymentProposal.status == "pending")
        .limit(1)
    ).first()
    return ProposeView(
        draft=draft,
        base=base,
        diff=diffs.compare((base.bpmn_xml, dict(base.files)) if base else None, (draft.bpmn_xml, dict(draft.files))),
        pending=pending,
    )


@dataclass(frozen=True)
class AgainView:
    """What proposing an older version again would bring back, compared with the current version."""

    definition: ProcessDefinition
    latest: ProcessDefinition | None
    diff: diffs.Diff


def again_view(process_id: str, version: int) -> AgainView:
    """An older version and its difference with the current version (for "propose this version again")."""
    definition = _version(process_id, version)
    latest = latest_definition(process_id)
    return AgainView(
        definition=definition,
        latest=latest,
        diff=diffs.compare(
            (latest.bpmn_xml, dict(latest.files)) if latest else None, (definition.bpmn_xml, dict(definition.files))
        ),
    )


def versions(process_id: str) -> list[VersionRow]:
    """Every deployed version of a process, newest first, with the one new cases start on marked."""
    rows = db.session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.process_id == process_id, ProcessDefinition.trial.is_(False))
        .order_by(ProcessDefinition.version.desc())
    ).all()
    if not rows:
        raise NotFound(Message("there is no process %(process)s", process=process_id))
    latest = latest_definition(process_id)
    return [
        VersionRow(
            d.id,
            d.version,
            d.deployed_by,
            d.deployed_at,
            d.comment,
            d.retired,
            latest is not None and d.id == latest.id,
        )
        for d in rows
    ]


def version_xml(process_id: str, version: int) -> str:
    """The diagram of a deployed version (for the diff's viewer)."""
    return _version(process_id, version).bpmn_xml


def proposal_xml(proposal_id: int) -> str:
    """The diagram a proposal froze."""
    proposal = db.session.get(DeploymentProposal, proposal_id)
    if proposal is None:
        raise NotFound(Message("there is no proposal %(id)s", id=proposal_id))
    return proposal.bpmn_xml


def draft_xml(draft_id: int) -> str:
    """A draft's diagram as saved."""
    draft = db.session.get(StudioDraft, draft_id)
    if draft is None or draft.status == "discarded":
        raise NotFound(Message("there is no draft %(id)s", id=draft_id))
    return draft.bpmn_xml


def compare_versions(process_id: str, old: int, new: int) -> tuple[ProcessDefinition, ProcessDefinition, diffs.Diff]:
    """Two deployed versions of a process and the difference from ``old`` to ``new``."""
    before, after = _version(process_id, old), _version(process_id, new)
    return before, after, diffs.compare((before.bpmn_xml, dict(before.files)), (after.bpmn_xml, dict(after.files)))
