"""Cases and their steps: start, complete tasks, deliver messages, fire timers, claim tasks, and the
views people read (lists, timeline, task pages). Every change to a case goes through the unit of
work in ``unit_of_work.py``. Calls deployments/, documents/, notifications/ and audit/.
"""

from .lifecycle import (
    apply_message,
    check_lane,
    complete_task,
    deliver_message,
    find_case,
    guard_engine,
    load_runtime,
    lock_case,
    new_reference,
    open_task,
    record_refusal,
    save_case,
    start_case,
    start_process,
)

__all__ = [
    "apply_message",
    "check_lane",
    "complete_task",
    "deliver_message",
    "find_case",
    "guard_engine",
    "load_runtime",
    "lock_case",
    "new_reference",
    "open_task",
    "record_refusal",
    "save_case",
    "start_case",
    "start_process",
]
