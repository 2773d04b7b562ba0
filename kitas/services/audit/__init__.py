"""The tamper-evident audit trail and the refused accesses written to it. Every capability may call it;
it calls nothing but the models.
"""

from .chain import (
    SYSTEM_ACTOR,
    ChainReport,
    lock_head,
    record,
    verify_chain,
)

__all__ = [
    "ChainReport",
    "SYSTEM_ACTOR",
    "lock_head",
    "record",
    "verify_chain",
]
