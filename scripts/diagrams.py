"""The descriptions the shared steps and the worker diagram are written from (see bpmn_layout.py).

``python scripts/diagrams.py`` writes bpmn/shared/*.bpmn and bpmn/kitas_worker.bpmn again
(``python scripts/diagrams.py shared_approval kitas_worker``: only those).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bpmn_layout import Diagram, form, script, status  # noqa: E402

BPMN = Path(__file__).resolve().parents[1] / "bpmn"
PY = {"scriptFormat": "python"}


def task(d: Diagram, id: str, name: str, lane: str, col: float, form_name: str, status_value: str) -> None:
    """A user task filled in with the form ``form_name`` (forms/schemas/), the case in ``status_value``."""
    d.node(id, "userTask", name, lane, col, properties=form(form_name, status_value))


def scripted(d: Diagram, id: str, name: str, lane: str, col: float, code: str, row: float = 0.0) -> None:
    """A Python script task."""
    d.node(id, "scriptTask", name, lane, col, row, attrs=PY, body=script(code))


def outcome(
    d: Diagram, id: str, name: str, lane: str, col: float, row: float, code: str, end: str, end_name: str
) -> None:
    """A shared step's way out: a script task that records its outcome, then its end event one column on."""
    scripted(d, id, name, lane, col, code, row)
    d.node(end, "endEvent", end_name, lane, col + 1, row)


def approve_or_reject(d: Diagram, step: str, subject: str, lane: str, col: float) -> None:
    """The two ways out of a decision: ``{step}_approved`` and ``{step}_rejected`` (below it) set
    ``{step}_outcome`` and end at ``{step}_approved_end`` / ``{step}_rejected_end``."""
    for value, row in (("approved", 0.0), ("rejected", -1.6)):
        end_name = value.capitalize()
        code = f'{step}_outcome = "{value}"'
        outcome(d, f"{step}_{value}", f"{subject} {value}", lane, col, row, code, f"{step}_{value}_end", end_name)


def escalation(d: Diagram, task_id: str, timer: str, what: str, days: int) -> None:
    """A non-interrupting SLA timer on a user task: after ``days`` it sets ``{what}_escalated`` on a path of
    its own (``escalate_{what}``, ending at ``end_{what}_escalated``) and the task stays open."""
    host = d.nodes[task_id]
    label = what.capitalize()
    d.boundary(
        timer, f"{label} SLA ({days} days)", task_id, f"P{days}D", False, properties=status(host.properties["status"])
    )
    scripted(d, f"escalate_{what}", f"Escalate {what}", host.lane, host.col + 0.3, f"{what}_escalated = True", 1.6)
    d.node(f"end_{what}_escalated", "endEvent", f"{label} escalated", host.lane, host.col + 1.0, 1.6)


def shared_payment() -> Diagram:
    d = Diagram(
        "shared_payment",
        "Payment",
        "Shared step: the fee from the fee table (kitas_fee: type, index code, duration_months), then the payment "
        "with its 7-day billing-code deadline. Leaves payment_outcome = 'paid' or 'expired'.",
        [("shared_payment_lane_applicant", "Applicant")],
    )
    d.messages.append("payment_received")
    lane = "shared_payment_lane_applicant"
    d.node("payment_start", "startEvent", "Payment started", lane, 0)
    d.node(
        "compute_fee",
        "businessRuleTask",
        "Compute fee",
        lane,
        1,
        extensions="<spiffworkflow:calledDecisionId>kitas_fee</spiffworkflow:calledDecisionId>",
    )
    d.node(
        "await_payment",
        "receiveTask",
        "Wait for payment",
        lane,
        2,
        attrs={"messageRef": "payment_received"},
        extensions="<spiffworkflow:messageVariable>payment</spiffworkflow:messageVariable>",
        properties=status("awaiting_payment"),
    )
    d.boundary(
        "payment_deadline",
        "Billing code expired (7 days)",
        "await_payment",
        "P7D",
        True,
        properties=status("awaiting_payment"),
    )
    outcome(d, "payment_paid", "Payment received", lane, 3.3, 0, 'payment_outcome = "paid"', "payment_paid_end", "Paid")
    outcome(
        d,
        "payment_expired",
        "Billing code expired",
        lane,
        2.3,
        1.6,
        'payment_outcome = "expired"',
        "payment_expired_end",
        "Expired unpaid",
    )
    d.flow("payment_start", "compute_fee")
    d.flow("compute_fee", "await_payment")
    d.flow("await_payment", "payment_paid", "Paid")
    d.flow("payment_paid", "payment_paid_end")
    d.flow("payment_deadline", "payment_expired")
    d.flow("payment_expired", "payment_expired_end")
    return d


def shared_document_review() -> Diagram:
    d = Diagram(
        "shared_document_review",
        "Document review",
        "Shared step: a verifier checks the documents (5-day SLA, escalated without stopping), may ask for "
        "corrections (14 days to send them) any number of times, and approves or rejects. Leaves "
        "review_outcome = 'approved', 'rejected' or 'expired'.",
        [("shared_document_review_lane_verifier", "Verifier"), ("shared_document_review_lane_applicant", "Applicant")],
    )
    v, a = "shared_document_review_lane_verifier", "shared_document_review_lane_applicant"
    d.node("review_start", "startEvent", "Review started", v, 0)
    d.node("gw_verify_merge", "exclusiveGateway", "Ready for verification", v, 1)
    task(d, "verify_documents", "Verify documents", v, 2, "shared-verify-documents", "in_verification")
    escalation(d, "verify_documents", "verify_sla", "verification", 5)
    d.node("gw_verification", "exclusiveGateway", "Verification outcome?", v, 3.5)
    approve_or_reject(d, "review", "Documents", v, 4.5)
    task(d, "submit_corrections", "Submit corrections", a, 3.5, "shared-submit-corrections", "correction_requested")
    d.boundary(
        "correction_deadline",
        "Correction deadline (14 days)",
        "submit_corrections",
        "P14D",
        True,
        properties=status("correction_requested"),
    )
    outcome(
        d,
        "review_expired",
        "Corrections not sent",
        a,
        3.8,
        1.6,
        'review_outcome = "expired"',
        "review_expired_end",
        "Expired uncorrected",
    )
    d.flow("review_start", "gw_verify_merge")
    d.flow("gw_verify_merge", "verify_documents")
    d.flow("verify_sla", "escalate_verification")
    d.flow("escalate_verification", "end_verification_escalated")
    d.flow("verify_documents", "gw_verification")
    d.flow("gw_verification", "review_approved", "Approve", 'verification_decision == "approve"')
    d.flow("gw_verification", "review_rejected", "Reject", 'verification_decision == "reject"')
    d.flow("gw_verification", "submit_corrections", "Corrections", 'verification_decision == "corrections"')
    d.flow("review_approved", "review_approved_end")
    d.flow("review_rejected", "review_rejected_end")
    d.flow("submit_corrections", "gw_verify_merge", "Resubmitted")
    d.flow("correction_deadline", "review_expired")
    d.flow("review_expired", "review_expired_end")
    return d


def shared_approval() -> Diagram:
    d = Diagram(
        "shared_approval",
        "Supervisor approval",
        "Shared step: a supervisor approves, rejects or sends the case back to verification with a reason "
        "(3-day SLA, escalated without stopping). Leaves approval_outcome = 'approved', 'rejected' or "
        "'send_back' (and approval_decision, approval_reason; sent_back_reason for the verifier). Four eyes: "
        "the calling diagram's call activity states who may not approve (notByPerformerOf).",
        [("shared_approval_lane_supervisor", "Supervisor")],
    )
    s = "shared_approval_lane_supervisor"
    d.node("approval_start", "startEvent", "Approval started", s, 0)
    # Each round starts with an empty decision: a case sent back and verified again is decided afresh.
    d.node(
        "supervisor_approval",
        "userTask",
        "Approve application",
        s,
        1,
        properties=form("shared-supervisor-approval", "awaiting_approval"),
        extensions=(
            '<spiffworkflow:preScript>approval_decision = ""\napproval_reason = ""\n'
            'send_back_reason = ""</spiffworkflow:preScript>'
        ),
    )
    escalation(d, "supervisor_approval", "approval_sla", "approval", 3)
    d.node("gw_approval", "exclusiveGateway", "Approved?", s, 2.5)
    approve_or_reject(d, "approval", "Application", s, 3.5)
    outcome(
        d,
        "approval_sent_back",
        "Sent back to verification",
        s,
        3.5,
        1.6,
        'approval_outcome = "send_back"\nsent_back_reason = send_back_reason',
        "approval_sent_back_end",
        "Sent back",
    )
    d.flow("approval_start", "supervisor_approval")
    d.flow("approval_sla", "escalate_approval")
    d.flow("escalate_approval", "end_approval_escalated")
    d.flow("supervisor_approval", "gw_approval")
    d.flow("gw_approval", "approval_approved", "Approve", 'approval_decision == "approve"')
    d.flow("gw_approval", "approval_rejected", "Reject", 'approval_decision == "reject"')
    d.flow("gw_approval", "approval_sent_back", "Send back", 'approval_decision == "send_back"')
    d.flow("approval_approved", "approval_approved_end")
    d.flow("approval_rejected", "approval_rejected_end")
    d.flow("approval_sent_back", "approval_sent_back_end")
    return d


def shared_biometrics() -> Diagram:
    d = Diagram(
        "shared_biometrics",
        "Biometrics",
        "Shared step: the applicant books a free slot of her office (appointment slots), a verifier captures "
        "the biometrics there or records the appointment missed: a first missed appointment is booked again, "
        "a second one ends the step. Leaves biometrics_outcome = 'captured' or 'missed'.",
        [("shared_biometrics_lane_applicant", "Applicant"), ("shared_biometrics_lane_verifier", "Verifier")],
    )
    a, v = "shared_biometrics_lane_applicant", "shared_biometrics_lane_verifier"
    d.node("biometrics_start", "startEvent", "Biometrics started", a, 0)
    scripted(
        d,
        "biometrics_prepare",
        "No appointment missed yet",
        a,
        1,
        'biometrics_missed = 0\nappointment_outcome = "booked"\nbiometrics_outcome = "captured"',
    )
    d.node("gw_book_biometrics", "exclusiveGateway", "Ready to book", a, 2)
    task(d, "book_biometrics", "Book biometrics appointment", a, 3, "shared-book-biometrics", "biometrics_appointment")
    task(d, "capture_biometrics", "Capture biometrics", v, 4, "shared-capture-biometrics", "biometrics_appointment")
    d.node("gw_biometrics_attended", "exclusiveGateway", "Came to the appointment?", v, 5)
    d.node("biometrics_end", "endEvent", "Biometrics captured", v, 6)
    scripted(
        d,
        "biometrics_count_missed",
        "First appointment missed",
        a,
        5,
        'biometrics_missed = biometrics_missed + 1\nappointment_outcome = "booked"',
    )
    outcome(
        d,
        "biometrics_missed_twice",
        "Appointment missed again",
        v,
        6,
        1.3,
        'biometrics_outcome = "missed"',
        "biometrics_end_missed",
        "Appointment missed twice",
    )
    d.flow("biometrics_start", "biometrics_prepare")
    d.flow("biometrics_prepare", "gw_book_biometrics")
    d.flow("gw_book_biometrics", "book_biometrics")
    d.flow("book_biometrics", "capture_biometrics")
    d.flow("capture_biometrics", "gw_biometrics_attended")
    d.flow("gw_biometrics_attended", "biometrics_end", "Came", default=True)
    d.flow(
        "gw_biometrics_attended",
        "biometrics_count_missed",
        "Missed, book again",
        'appointment_outcome == "missed" and biometrics_missed < 1',
    )
    d.flow(
        "gw_biometrics_attended",
        "biometrics_missed_twice",
        "Missed again",
        'appointment_outcome == "missed" and biometrics_missed >= 1',
    )
    d.flow("biometrics_count_missed", "gw_book_biometrics", "Book again")
    d.flow("biometrics_missed_twice", "biometrics_end_missed")
    return d


def shared_issuance() -> Diagram:
    d = Diagram(
        "shared_issuance",
        "Permit issuance",
        "Shared step: the permit is issued (permit_issued, permit_months from duration_months); the permit "
        "service creates the e-permit when the case reaches the status permit_issued.",
        [("shared_issuance_lane_verifier", "Verifier")],
    )
    v = "shared_issuance_lane_verifier"
    d.node("issuance_start", "startEvent", "Issuance started", v, 0)
    scripted(d, "issue_permit", "Issue permit", v, 1, "permit_issued = True\npermit_months = duration_months")
    d.node("issuance_end", "endEvent", "Permit ready", v, 2)
    d.flow("issuance_start", "issue_permit")
    d.flow("issue_permit", "issuance_end")
    return d


# On a type's call_approval: the supervisor who approves is not an officer who verified the case.
FOUR_EYES = {"notByPerformerOf": "verify_documents"}


def call(d: Diagram, id: str, name: str, lane: str, col: float, called: str, **kw: object) -> None:
    d.node(id, "callActivity", name, lane, col, attrs={"calledElement": called}, **kw)  # type: ignore[arg-type]


def kitas_worker() -> Diagram:
    d = Diagram(
        "kitas_worker",
        "Worker KITAS (E23)",
        "Worker KITAS (index E23, formerly C312): application, sponsor confirmation, documents, then the shared "
        "steps (fee and payment, document review with corrections, supervisor approval), an optional interview, "
        "and the shared biometrics and permit issue.",
        [
            ("lane_applicant", "Applicant"),
            ("lane_sponsor", "Sponsor"),
            ("lane_verifier", "Verifier"),
            ("lane_supervisor", "Supervisor"),
        ],
    )
    a, sp, v, su = "lane_applicant", "lane_sponsor", "lane_verifier", "lane_supervisor"
    d.node("start", "startEvent", "Application started", a, 0)
    scripted(d, "init_case", "Initialise case", a, 1, "sla_escalations = []\ninterview_required = False")
    task(d, "applicant_data", "Fill in applicant data", a, 2, "worker-applicant-data", "draft")
    task(d, "employment_data", "Fill in employment data", a, 3, "worker-employment-data", "draft")
    task(d, "sponsor_confirmation", "Confirm sponsorship", sp, 4, "worker-sponsor-confirmation", "awaiting_sponsor")
    d.boundary(
        "sponsor_deadline",
        "Sponsor did not answer (14 days)",
        "sponsor_confirmation",
        "P14D",
        True,
        properties=status("awaiting_sponsor"),
    )
    d.node("end_sponsor_expired", "endEvent", "Expired without the sponsor", sp, 4.2, 1.6, properties=status("expired"))
    d.node("gw_sponsor", "exclusiveGateway", "Sponsor confirms?", sp, 5)
    d.node("end_sponsor_declined", "endEvent", "Sponsor declined", sp, 6, properties=status("sponsor_declined"))
    task(d, "document_checklist", "Upload documents", a, 6, "worker-document-checklist", "awaiting_documents")
    call(
        d,
        "call_payment",
        "Fee and payment",
        a,
        7,
        "shared_payment",
        extensions="<spiffworkflow:preScript>duration_months = contract_months</spiffworkflow:preScript>",
    )
    d.node("gw_payment", "exclusiveGateway", "Paid?", a, 8)
    d.node("end_expired_unpaid", "endEvent", "Expired unpaid", a, 8, -1.3, properties=status("expired"))
    call(d, "call_document_review", "Document review", v, 9, "shared_document_review")
    d.node("gw_review", "exclusiveGateway", "Documents approved?", v, 10)
    d.node("end_rejected", "endEvent", "Rejected", v, 10.6, 1.3, properties=status("rejected"))
    d.node("end_expired_uncorrected", "endEvent", "Expired uncorrected", v, 11, -1.3, properties=status("expired"))
    # Four eyes: nobody who verified the documents approves them (the rule covers the approval step's tasks).
    call(d, "call_approval", "Supervisor approval", su, 11, "shared_approval", properties=FOUR_EYES)
    d.node("gw_approved", "exclusiveGateway", "Approved?", su, 12)
    d.node(
        "end_rejected_by_supervisor", "endEvent", "Rejected by supervisor", su, 12, 1.3, properties=status("rejected")
    )
    d.node("gw_interview", "exclusiveGateway", "Interview required?", su, 13)
    task(d, "conduct_interview", "Conduct interview", v, 14, "worker-conduct-interview", "interview_scheduled")
    d.node("gw_interview_outcome", "exclusiveGateway", "Interview passed?", v, 15)
    d.node(
        "end_rejected_after_interview",
        "endEvent",
        "Rejected after interview",
        v,
        15,
        1.3,
        properties=status("rejected"),
    )
    d.node("gw_biometrics_merge", "exclusiveGateway", "Ready for biometrics", a, 16)
    call(d, "call_biometrics", "Biometrics", a, 17, "shared_biometrics")
    d.node("gw_biometrics_taken", "exclusiveGateway", "Biometrics taken?", a, 17.6)
    d.node(
        "end_missed_appointment",
        "endEvent",
        "Closed: appointment missed twice",
        a,
        17.6,
        1.3,
        properties=status("closed_missed_appointment"),
    )
    call(d, "call_issuance", "Permit issue", v, 18.4, "shared_issuance")
    d.node("end_permit_issued", "endEvent", "Permit issued", v, 19.4, properties=status("permit_issued"))
    d.flow("start", "init_case")
    d.flow("init_case", "applicant_data")
    d.flow("applicant_data", "employment_data")
    d.flow("employment_data", "sponsor_confirmation")
    d.flow("sponsor_confirmation", "gw_sponsor")
    d.flow("gw_sponsor", "end_sponsor_declined", "Declined", 'sponsor_decision == "decline"')
    d.flow("gw_sponsor", "document_checklist", "Confirmed", 'sponsor_decision == "confirm"')
    d.flow("sponsor_deadline", "end_sponsor_expired")
    d.flow("document_checklist", "call_payment")
    d.flow("call_payment", "gw_payment")
    d.flow("gw_payment", "end_expired_unpaid", "Expired", 'payment_outcome == "expired"')
    d.flow("gw_payment", "call_document_review", "Paid", 'payment_outcome == "paid"')
    d.flow("call_document_review", "gw_review")
    d.flow("gw_review", "end_rejected", "Rejected", 'review_outcome == "rejected"')
    d.flow("gw_review", "end_expired_uncorrected", "Expired", 'review_outcome == "expired"')
    d.flow("gw_review", "call_approval", "Approved", 'review_outcome == "approved"')
    d.flow("call_approval", "gw_approved")
    d.flow("gw_approved", "end_rejected_by_supervisor", "Rejected", 'approval_outcome == "rejected"')
    d.flow("gw_approved", "gw_interview", "Approved", 'approval_outcome == "approved"')
    d.flow("gw_approved", "call_document_review", "Sent back", 'approval_outcome == "send_back"')
    d.flow("gw_interview", "conduct_interview", "Interview", "interview_required == True")
    d.flow("gw_interview", "gw_biometrics_merge", "No interview", default=True)
    d.flow("conduct_interview", "gw_interview_outcome")
    d.flow("gw_interview_outcome", "end_rejected_after_interview", "Fail", 'interview_outcome == "fail"')
    d.flow("gw_interview_outcome", "gw_biometrics_merge", "Pass", 'interview_outcome == "pass"')
    d.flow("gw_biometrics_merge", "call_biometrics")
    d.flow("call_biometrics", "gw_biometrics_taken")
    d.flow("gw_biometrics_taken", "call_issuance", "Taken", default=True)
    d.flow("gw_biometrics_taken", "end_missed_appointment", "Missed twice", 'biometrics_outcome == "missed"')
    d.flow("call_issuance", "end_permit_issued")
    return d


SHARED = (shared_payment, shared_document_review, shared_approval, shared_biometrics, shared_issuance)


def main(only: list[str]) -> None:
    """Write every diagram this file describes, or only those named (``shared_approval kitas_worker``)."""
    (BPMN / "shared").mkdir(exist_ok=True)
    for make in SHARED:
        if only and make.__name__ not in only:
            continue
        diagram = make()
        (BPMN / "shared" / f"{diagram.process_id}.bpmn").write_text(diagram.xml(), encoding="utf-8")
    if not only or "kitas_worker" in only:
        (BPMN / "kitas_worker.bpmn").write_text(kitas_worker().xml(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
