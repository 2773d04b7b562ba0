"""Incidents: failures that need a person. A case step whose engine task failed (a script, a time limit),
a timer that kept failing, a callback or notification that could not be delivered. ``records`` opens
them, inside the transaction that saw the failure, and reads them for the case pages; ``admin`` is the
administrators' use cases (list, retry, resolve with a note), which call cases/, deployments/, leases
and audit/. Only ``records`` is imported here, so that cases/ and leases may use it without a cycle.
"""

from .records import (
    KIND_OF_LEASE,
    OpenIncident,
    kind_of,
    open_for_case,
    open_for_given_up,
    open_incident,
    record_after_rollback,
)

__all__ = [
    "KIND_OF_LEASE",
    "OpenIncident",
    "kind_of",
    "open_for_case",
    "open_for_given_up",
    "open_incident",
    "record_after_rollback",
]
