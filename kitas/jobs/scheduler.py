"""APScheduler as the clock of the timer scheduler; the database stays the store of truth.

Jobs live in memory (never a shared job store), run one at a time, and have no
misfire grace limit, so a pass that was late still runs; overdue timers are
simply found due in the database when the process starts again.
"""

from __future__ import annotations

import importlib
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

log = logging.getLogger(__name__)

JOB_ID = "fire_due_timers"

# Outboxes the scheduler empties: (job id, "module:function"). Each function takes no argument,
# runs inside an application context, sends what is due and returns how many it handled.
OUTBOX_JOBS: tuple[tuple[str, str], ...] = (
    ("deliver_notifications", "kitas.services.notifications:deliver_due"),
    ("seal_audit_chains", "kitas.services.audit:seal_due"),  # seals only when KITAS_AUDIT_SEAL_INTERVAL passed
)
# Housekeeping on its own interval: (job id, "module:function", the setting giving its seconds).
HOUSEKEEPING_JOBS: tuple[tuple[str, str, str], ...] = (
    ("sweep_orphan_files", "kitas.services.documents:run_sweep", "KITAS_SWEEP_INTERVAL"),
)
# With the sandbox provider, the simulated provider also has its notices to send to us.
SANDBOX_JOBS: tuple[tuple[str, str], ...] = (("send_sandbox_notices", "kitas.services.sandbox_bank:send_due_notices"),)


def timer_pass(app: Flask, owner: str) -> Any:
    """One pass: claim and fire every due timer, inside an application context."""
    from kitas.extensions import db
    from kitas.services.cases.timers import fire_due_timers

    with app.app_context():
        try:
            report = fire_due_timers(owner, app.config["KITAS_TIMER_BATCH"], app.config["KITAS_TIMER_LEASE"])
        finally:
            db.session.remove()
    if report.fired or report.failed:
        log.info("timers fired=%d stale=%d failed=%d", len(report.fired), len(report.stale), len(report.failed))
    return report


def outbox_pass(app: Flask, target: str) -> int:
    """One pass of an outbox job, inside an application context; errors are logged, never raised."""
    from kitas.extensions import db

    module_name, _, function_name = target.partition(":")
    with app.app_context():
        try:
            handled = int(getattr(importlib.import_module(module_name), function_name)())
        except Exception:  # the job must survive one bad pass; the next pass retries
            log.exception("outbox job %s failed", target)
            handled = 0
        finally:
            db.session.remove()
    return handled


def configure(scheduler: BaseScheduler, app: Flask, owner: str | None = None) -> BaseScheduler:
    """Add the timer job: first pass at once (catching up on timers due while down), then every interval."""
    from kitas.services.cases.timers import scheduler_id

    _every(scheduler, app.config["KITAS_TIMER_INTERVAL"], JOB_ID, timer_pass, (app, owner or scheduler_id()))
    jobs = OUTBOX_JOBS + (SANDBOX_JOBS if app.config["KITAS_PAYMENT_PROVIDER"] == "sandbox" else ())
    for job_id, target in jobs:
        _every(scheduler, app.config["KITAS_OUTBOX_INTERVAL"], job_id, outbox_pass, (app, target))
    for job_id, target, interval in HOUSEKEEPING_JOBS:
        _every(scheduler, app.config[interval], job_id, outbox_pass, (app, target))
    return scheduler


def _every(scheduler: BaseScheduler, seconds: float, job_id: str, job: Any, args: tuple[Any, ...]) -> None:
    """Run ``job`` every ``seconds``: first at once, one at a time, late runs coalesced and never dropped."""
    scheduler.add_job(
        job,
        "interval",
        seconds=seconds,
        args=args,
        id=job_id,
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        replace_existing=True,
    )


def start_background(app: Flask, owner: str | None = None) -> BackgroundScheduler:
    """Start the scheduler in a thread of this process (the embedded default)."""
    scheduler = BackgroundScheduler(timezone=UTC)
    configure(scheduler, app, owner)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in the foreground until interrupted (``kitas scheduler``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per pass is noise
    scheduler = BlockingScheduler(timezone=UTC)
    configure(scheduler, app)
    log.info("scheduler started; checking for due timers every %ss", app.config["KITAS_TIMER_INTERVAL"])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
