"""Cases and their steps: start, complete tasks, deliver messages, fire timers, claim tasks, and the
views people read (lists, timeline, task pages). Every change to a case goes through the unit of
work in ``unit_of_work.py``; nothing else locks, restores or saves a case. Calls deployments/,
documents/, notifications/, permits/ (the issuing step creates the permit) and audit/.
"""

from .lifecycle import complete_task, deliver_message, find_case, new_reference, start_case, start_process
from .unit_of_work import CaseStep, anonymise_closed_case, case_step, read_runtime

__all__ = [
    "CaseStep",
    "anonymise_closed_case",
    "case_step",
    "complete_task",
    "deliver_message",
    "find_case",
    "new_reference",
    "read_runtime",
    "start_case",
    "start_process",
]
