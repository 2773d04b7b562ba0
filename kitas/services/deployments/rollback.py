"""A rollback: an older deployed version made the one new cases start on again, by retiring the versions
after it (``process_definition.retired``); running cases keep theirs."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from forms.texts import Message

from ...extensions import db
from ...models import ProcessDefinition, User
from ...transactions import in_write_transaction
from .. import audit
from ..errors import ServiceError
from .versions import DeployResult, _deploy_callers, latest_definition


def make_current(definition_id: int, by: User, comment: str | None = None) -> DeployResult:
    """Inside the caller's writing transaction: make a deployed version the one new cases start on again
    (a rollback), by retiring every version after it; running cases keep theirs. Audited on the
    process's chain. A shared step's callers follow it: each gets its content again with this version
    bundled (an older version of the caller when that is what it was, made current the same way)."""
    if not in_write_transaction():
        raise RuntimeError("make_current needs an open writing transaction")
    definition = db.session.get(ProcessDefinition, definition_id)
    if definition is None or definition.trial:
        raise ServiceError(Message("There is no deployed version %(id)s.", id=definition_id))
    result = _retire_after(definition, by, comment)
    callers = _deploy_callers(result, by, by.label)
    for caller in callers:
        current = latest_definition(caller.process_id)
        if not caller.created and (current is None or current.id != caller.definition_id):
            older = db.session.get(ProcessDefinition, caller.definition_id)
            assert older is not None
            _retire_after(older, by, comment)
    return replace(result, callers=callers)


def _retire_after(definition: ProcessDefinition, by: User, comment: str | None) -> DeployResult:
    chain = audit.process_chain(definition.process_id)
    audit.lock_chain(chain)
    later = db.session.scalars(
        select(ProcessDefinition).where(
            ProcessDefinition.process_id == definition.process_id,
            ProcessDefinition.trial.is_(False),
            ProcessDefinition.version > definition.version,
            ProcessDefinition.retired.is_(False),
        )
    ).all()
    for newer in later:
        newer.retired = True
    definition.retired = False
    db.session.flush()
    audit.record(
        "definition_rolled_back",
        {
            "process_id": definition.process_id,
            "version": definition.version,
            "retired": sorted(d.version for d in later),
            "comment": comment,
        },
        user=by,
        chain=chain,
    )
    return DeployResult(definition.id, definition.process_id, definition.version, created=False)
