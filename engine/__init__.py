"""The BPMN engine of KITAS Online: the only package that imports SpiffWorkflow.

It parses and validates diagrams, runs cases (start, restore, complete user
tasks, fire timers, deliver messages) in a sandbox whose code runs in worker
processes with CPU-time and memory limits (``configure_scripts``), and
serializes their state. It knows nothing of Flask, SQLAlchemy or HTTP, and never commits.
Whatever it needs from SpiffWorkflow beyond the public API lives in
``spiff_internals``, with a test that fails loudly when an upgrade moves it.
"""

from .clock import Clock, ManualClock, SystemClock
from .errors import DiagramError, EngineError, NotWaiting, PerformerBarred, ScriptError, StateError, TaskNotReady
from .runtime import CaseRuntime, Completion, FailedStep, PendingTimer, ReadyTask
from .script_pool import ScriptLimits, WorkerUnavailable
from .script_pool import configure as configure_scripts
from .serialization import STATE_FORMAT, state_without_data
from .spec import (
    ProcessInfo,
    ProcessModel,
    UserTaskInfo,
    called_elements,
    canonical_json,
    content_hash,
    decode_bpmn,
    list_processes,
    named_forms,
    parse_process,
    plain_file_name,
    read_process_id,
)
from .trace import CaseTrace, TraceStep, WaitingTimer, case_trace

__all__ = [
    "STATE_FORMAT",
    "CaseRuntime",
    "CaseTrace",
    "Clock",
    "Completion",
    "DiagramError",
    "FailedStep",
    "EngineError",
    "ManualClock",
    "NotWaiting",
    "PendingTimer",
    "PerformerBarred",
    "ProcessInfo",
    "ProcessModel",
    "ReadyTask",
    "ScriptError",
    "ScriptLimits",
    "StateError",
    "SystemClock",
    "TaskNotReady",
    "TraceStep",
    "UserTaskInfo",
    "WaitingTimer",
    "WorkerUnavailable",
    "case_trace",
    "called_elements",
    "canonical_json",
    "configure_scripts",
    "content_hash",
    "decode_bpmn",
    "list_processes",
    "named_forms",
    "parse_process",
    "plain_file_name",
    "read_process_id",
    "state_without_data",
]
