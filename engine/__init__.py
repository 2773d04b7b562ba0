"""The BPMN engine of KITAS Online: the only package that imports SpiffWorkflow.

It parses and validates diagrams, runs cases (start, restore, complete user
tasks, fire timers, deliver messages) in a sandbox, and serializes their
state. It knows nothing of Flask, SQLAlchemy or HTTP, and never commits.
Whatever it needs from SpiffWorkflow beyond the public API lives in
``spiff_internals``, with a test that fails loudly when an upgrade moves it.
"""

from .clock import Clock, ManualClock, SystemClock
from .errors import DiagramError, EngineError, NotWaiting, ScriptError, StateError, TaskNotReady
from .runtime import CaseRuntime, Completion, FailedStep, PendingTimer, ReadyTask
from .serialization import STATE_FORMAT
from .spec import ProcessModel, UserTaskInfo, canonical_json, content_hash, parse_process, read_process_id

__all__ = [
    "STATE_FORMAT",
    "CaseRuntime",
    "Clock",
    "Completion",
    "DiagramError",
    "FailedStep",
    "EngineError",
    "ManualClock",
    "NotWaiting",
    "PendingTimer",
    "ProcessModel",
    "ReadyTask",
    "ScriptError",
    "StateError",
    "SystemClock",
    "TaskNotReady",
    "UserTaskInfo",
    "canonical_json",
    "content_hash",
    "parse_process",
    "read_process_id",
]
