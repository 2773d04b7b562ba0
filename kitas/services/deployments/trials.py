"""Trial versions: what an analyst tries from the studio, stored for sandbox cases only (never the version new
cases start on), numbered -1, -2, ... per process."""

from __future__ import annotations

from sqlalchemy import func, select

from ...extensions import app_clock, db
from ...models import ProcessDefinition, User
from ...transactions import write_transaction
from .. import audit
from .versions import _process_id, prepare


def deploy_trial(bpmn: str, files: dict[str, str], user: User, *, process_id: str | None = None) -> ProcessDefinition:
    """Store a diagram and its files as a TRIAL version for the studio's sandbox cases (never what new
    cases start on): validated as a deployment is, refused the same way (``DeploymentRefused`` naming
    each element). Content identical to a version of the process already stored reuses that row;
    otherwise the trial takes the next negative number (-1, -2, ...). A user task outside every lane may
    be tried (the analyst does it); deployment refuses it."""
    with write_transaction():
        process_id = _process_id(bpmn, process_id)
        chain = audit.process_chain(process_id)
        audit.lock_chain(chain)
        prepared = prepare(bpmn, files, process_id, require_lanes=False)
        model, stored, digest = prepared.model, prepared.stored, prepared.digest
        existing = db.session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.process_id == model.process_id, ProcessDefinition.content_hash == digest
            )
        ).first()
        if existing is not None:
            return existing
        lowest = db.session.scalar(
            select(func.min(ProcessDefinition.version)).where(
                ProcessDefinition.process_id == model.process_id, ProcessDefinition.trial.is_(True)
            )
        )
        definition = ProcessDefinition(
            process_id=model.process_id,
            version=min(lowest or 0, 0) - 1,
            name=model.name,
            content_hash=digest,
            bpmn_xml=bpmn,
            files=stored,
            deployed_by_id=user.id,
            deployed_by=user.label,
            deployed_at=app_clock().now(),
            trial=True,
        )
        db.session.add(definition)
        db.session.flush()
        audit.record(
            "trial_version_stored",
            {"process_id": model.process_id, "version": definition.version, "hash": digest},
            user=user,
            chain=chain,
        )
        return definition
