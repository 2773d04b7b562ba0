"""The tamper-evident audit trail and the refused accesses written to it. Every capability may call it;
it calls nothing but the models.

Rows are hash-chained per case (the head on the case's own row), per user, per process's
deployments and over a few shards for everything else, so no append waits on one global row; a
scheduler job seals the heads that moved into a global chain of digests (``seals.py``), and
``verify.py`` checks both and names the first broken link.
"""

from .chain import (
    ACTOR_SHARDS,
    SYSTEM_ACTOR,
    AuditEntry,
    append_to_case,
    case_chain,
    event_digest,
    lock_chain,
    process_chain,
    record,
    shard_chain,
)
from .quota import record_once_per_window
from .seals import seal_chains, seal_digest, seal_due
from .verify import ChainReport, current_head, verify_chain

__all__ = [
    "ACTOR_SHARDS",
    "ChainReport",
    "SYSTEM_ACTOR",
    "AuditEntry",
    "append_to_case",
    "case_chain",
    "current_head",
    "event_digest",
    "lock_chain",
    "process_chain",
    "record",
    "record_once_per_window",
    "seal_chains",
    "seal_digest",
    "seal_due",
    "shard_chain",
    "verify_chain",
]
