"""The bundle of a type's diagram and the shared steps it calls, parsed as deployment parses it."""

from __future__ import annotations

from pathlib import Path

from engine import ProcessModel, parse_process
from tests.worker_data import BPMN, shared_diagrams

# The shared steps every type's diagram calls: call activity -> called process (bpmn/shared/).
SHARED_CALLS = {
    "call_payment": "shared_payment",
    "call_document_review": "shared_document_review",
    "call_approval": "shared_approval",
    "call_biometrics": "shared_biometrics",
    "call_issuance": "shared_issuance",
}


def parse_bundle(diagram: Path) -> ProcessModel:
    """The diagram with the fee table and the shared steps (bpmn/shared/) it calls."""
    fees = {"fees.dmn": (BPMN / "fees.dmn").read_text(encoding="utf-8")}
    return parse_process(diagram.read_text(encoding="utf-8"), fees, called=shared_diagrams())
