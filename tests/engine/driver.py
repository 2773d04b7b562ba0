"""Drives one case of a diagram at engine level, storing and restoring its state after every step, as the
service does: the one driver of every per-type path test (worker, family, investor, student), given the
type's parsed diagram (tests.engine.bundles.parse_bundle), its start data and its form data. A type's own
walks (until_sponsor, until_verification ...) stand beside its tests, as functions or a subclass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine import CaseRuntime, ManualClock, ProcessModel
from tests.worker_data import PAYMENT

FormData = Callable[..., dict[str, Any]]


class Case:
    """One case: every step restores the runtime from the stored state and stores it again afterwards."""

    def __init__(
        self,
        model: ProcessModel,
        clock: ManualClock,
        start: dict[str, Any],
        data: FormData,
        payment: dict[str, Any] = PAYMENT,
    ):
        self.model, self.clock, self.form_data, self.payment = model, clock, data, payment
        self.store(CaseRuntime.start(model, start, clock))
        self.restores = 0

    @property
    def runtime(self) -> CaseRuntime:
        self.restores += 1
        return CaseRuntime.restore(self.model, self.state, self.format, "TEST-1", self.clock)

    def store(self, runtime: CaseRuntime) -> None:
        """Keeps the runtime's state as the case's stored state (what the service writes)."""
        self.state, self.format = runtime.dump()

    def ready(self) -> list[str]:
        return sorted(t.element_id for t in self.runtime.ready_user_tasks())

    def complete(self, element_id: str, *, by: str | None = None, **overrides: Any) -> None:
        """Complete the READY task of ``element_id`` with its form data (``overrides`` changed), as the
        performer ``by`` when given (the service always names one: the four-eyes record)."""
        runtime = self.runtime
        found = [t for t in runtime.ready_user_tasks() if t.element_id == element_id]
        assert found, f"{element_id} is not ready; ready: {[t.element_id for t in runtime.ready_user_tasks()]}"
        runtime.complete_user_task(found[0].task_id, self.form_data(element_id, **overrides), performer=by)
        self.store(runtime)

    def not_by(self, element_id: str) -> frozenset[str]:
        """Who may not take the READY task of ``element_id`` (four eyes), read from the stored state."""
        [task] = [t for t in self.runtime.ready_user_tasks() if t.element_id == element_id]
        return task.not_by

    def send_back(self, reason: str = "Check the passport's expiry date again", by: str = "sup-1") -> None:
        """The supervisor sends the case back to verification with ``reason``: the review runs again."""
        self.complete("supervisor_approval", by=by, approval_decision="send_back", send_back_reason=reason)
        runtime = self.runtime
        assert [t.element_id for t in runtime.ready_user_tasks()] == ["verify_documents"]
        assert runtime.status() == "in_verification"
        data = runtime.task_data(runtime.ready_user_tasks()[0].task_id)
        assert (data["approval_outcome"], data["sent_back_reason"]) == ("send_back", reason)

    def pay(self) -> None:
        runtime = self.runtime
        runtime.deliver_message("payment_received", self.payment)
        self.store(runtime)

    def timers(self) -> dict[str, Any]:
        return {t.element_id: t for t in self.runtime.pending_timers()}

    def fire(self, element_id: str) -> bool:
        runtime = self.runtime
        timer = {t.element_id: t for t in runtime.pending_timers()}[element_id]
        self.clock.set(timer.due)
        fired = runtime.fire_timer(timer.task_id)
        self.store(runtime)
        return fired

    def status(self) -> str | None:
        return self.runtime.status()

    def data(self) -> dict[str, Any]:
        return self.runtime.data

    def ended(self, status: str) -> bool:
        """The case is over, in ``status``, with nothing left waiting."""
        runtime = self.runtime
        return (
            runtime.completed
            and runtime.status() == status
            and runtime.ready_user_tasks() == []
            and runtime.pending_timers() == []
            and runtime.waiting_messages() == []
        )
