"""APScheduler as the clock of the timer scheduler; the database stays the store of truth.

Jobs live in memory (never a shared job store), run one at a time, and have no
misfire grace limit, so a pass that was late still runs; overdue timers are
simply found due in the database when the process starts again.

Jobs that work through a leased queue (timers, the outbox, the provider's notices) do not
scan on an interval: after each pass a job reads when its queue's next row falls due and
sleeps until then (at most ``KITAS_SCHEDULER_MAX_SLEEP``). It is woken earlier when this
process commits a row due sooner (``services.wakeups``) and when the ``watch_due_rows``
job, reading the next due times every ``KITAS_SCHEDULER_POLL`` seconds, finds one that
another process wrote. Every ``KITAS_SCHEDULER_HEARTBEAT`` seconds the scheduler records
that it is alive (``services.heartbeats``, read by ``/health``).
"""

from __future__ import annotations

import importlib
import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from kitas.services.errors import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)

JOB_ID = "fire_due_timers"
WATCH_JOB_ID = "watch_due_rows"
HEARTBEAT_JOB_ID = "scheduler_heartbeat"

# Outboxes the scheduler empties: (job id, "module:function"). Each function takes no argument,
# runs inside an application context, sends what is due and returns how many it handled.
OUTBOX_JOBS: tuple[tuple[str, str], ...] = (
    ("deliver_notifications", "kitas.services.notifications:deliver_due"),
    ("seal_audit_chains", "kitas.services.audit:seal_due"),  # seals only when KITAS_AUDIT_SEAL_INTERVAL passed
    # The catalog's reminders: plans rows for new deadlines, tasks and dates, queues the due ones in the outbox.
    ("send_reminders", "kitas.services.reminders:send_due_reminders"),
)
# Housekeeping on its own interval: (job id, "module:function", the setting giving its seconds).
HOUSEKEEPING_JOBS: tuple[tuple[str, str, str], ...] = (
    ("sweep_orphan_files", "kitas.services.documents:run_sweep", "KITAS_SWEEP_INTERVAL"),
)
# With the sandbox provider, the simulated provider also has its notices to send to us.
SANDBOX_JOBS: tuple[tuple[str, str], ...] = (("send_sandbox_notices", "kitas.services.sandbox_bank:send_due_notices"),)
# Jobs that run when their leased queue's next row falls due ("module:QUEUE"); every other job runs on
# KITAS_OUTBOX_INTERVAL.
DUE_QUEUES: dict[str, str] = {
    JOB_ID: "kitas.services.cases.timers:DUE_TIMERS",
    "deliver_notifications": "kitas.services.notifications:OUTBOX",
    "send_sandbox_notices": "kitas.services.sandbox_bank.notices:NOTICES",
}


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

    with app.app_context():
        try:
            handled = int(_named(target)())
        except DATABASE_UNAVAILABLE as exc:  # a restart, say: one line, the next pass retries
            log.warning("outbox job %s: database unavailable (%s)", target, exc.__class__.__name__)
            handled = 0
        except Exception:  # the job must survive one bad pass; the next pass retries
            log.exception("outbox job %s failed", target)
            handled = 0
        finally:
            db.session.remove()
    return handled


def _named(target: str) -> Any:
    module_name, _, name = target.partition(":")
    return getattr(importlib.import_module(module_name), name)


class Planner:
    """Moves jobs' next run times from a thread of its own.

    Neither a job thread nor a committing request may wait for the scheduler's job store lock:
    ``shutdown(wait=True)`` holds it while it waits for the job threads to finish (a deadlock), and a
    request should not wait on the scheduler at all. Requests are applied in the order they were made.
    """

    def __init__(self, scheduler: BaseScheduler):
        self._scheduler = scheduler
        self._requests: queue.Queue[tuple[str, datetime] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._apply, name="kitas-scheduler-planner", daemon=True)
        self._thread.start()

    def move(self, job_id: str, at: datetime) -> None:
        """Ask for the job's next run at ``at`` (wall clock)."""
        self._requests.put((job_id, at))

    def settle(self) -> None:
        """Wait until every move asked for so far is applied (for tests)."""
        self._requests.join()

    def stop(self) -> None:
        """Let the thread end once the moves asked for so far are applied."""
        self._requests.put(None)

    def _apply(self) -> None:
        while True:
            request = self._requests.get()
            try:
                if request is None:
                    return
                self._scheduler.modify_job(request[0], next_run_time=request[1])
            except JobLookupError:  # the job is gone: the scheduler stopped
                pass
            except Exception:  # the planner must survive; the job's interval is the fallback
                log.exception("could not move the next run of %s", request)
            finally:
                self._requests.task_done()


class DueJob:
    """A job run when its queue's next row falls due, or when told of an earlier one; at least every
    ``max_sleep`` seconds. Times it is told are on the application's clock; it plans on the wall clock."""

    def __init__(
        self, scheduler: BaseScheduler, app: Flask, job_id: str, work: Callable[[], Any], queue: Any, planner: Planner
    ):
        self.job_id, self.queue, self.planner = job_id, queue, planner
        self._scheduler, self._app, self._work = scheduler, app, work
        self._max_sleep = timedelta(seconds=float(app.config["KITAS_SCHEDULER_MAX_SLEEP"]))
        self._lock = threading.Lock()
        self._running = False
        self._woken: datetime | None = None  # the earliest wake-up asked for during a pass (wall clock)
        self._planned: datetime | None = None  # the next run (wall clock)

    def add(self) -> None:
        """Add the job: first run at once (catching up on rows due while down), then as planned."""
        self._planned = datetime.now(UTC)
        # The interval is only the fallback when a pass could not plan its successor.
        _every(self._scheduler, self._max_sleep.total_seconds(), self.job_id, self.run, ())

    def run(self) -> Any:
        """One pass of the work, then plan the next one at the queue's next due row."""
        with self._lock:
            self._running, self._woken = True, None
        try:
            return self._work()
        except DATABASE_UNAVAILABLE as exc:  # a restart, say: one line; the watch wakes us when it is back
            log.warning("%s: database unavailable (%s)", self.job_id, exc.__class__.__name__)
            return None
        finally:
            due = self._next_due()
            with self._lock:
                self._running = False
                if self._woken is not None and (due is None or self._woken < due):
                    due = self._woken
                self._woken = None
                self._plan(due)

    def wake(self, due: datetime) -> None:
        """Run at ``due`` (application clock) if that is before the planned run; during a pass, right after it."""
        wall = self._wall(due)
        with self._lock:
            if self._running:
                self._woken = wall if self._woken is None else min(self._woken, wall)
            elif self._planned is None or wall < self._planned:
                self._plan(wall)

    def _wall(self, due: datetime) -> datetime:
        return datetime.now(UTC) + (due - self._app.extensions["kitas_clock"].now())

    def _next_due(self) -> datetime | None:
        from kitas.extensions import db
        from kitas.services.leases import next_due_times

        with self._app.app_context():
            try:
                [due] = next_due_times([self.queue])
            except Exception as exc:  # the database may be away; the watch job wakes us when it is back
                log.warning("%s: cannot read the next due time (%s)", self.job_id, exc.__class__.__name__)
                return None
            finally:
                db.session.remove()
        return None if due is None else self._wall(due)

    def _plan(self, due: datetime | None) -> None:
        """Set the next run (called with the lock held): at ``due``, not before now, at most max_sleep away."""
        now = datetime.now(UTC)
        at = now + self._max_sleep if due is None else min(max(due, now), now + self._max_sleep)
        self._planned = at
        self.planner.move(self.job_id, at)


def watch_pass(app: Flask, jobs: list[DueJob]) -> None:
    """Read every queue's next due time in one statement and wake the jobs whose row is due sooner."""
    from kitas.extensions import db
    from kitas.services.leases import next_due_times

    with app.app_context():
        try:
            times = next_due_times([job.queue for job in jobs])
        except Exception as exc:  # the database may be away; the next poll tries again
            log.warning("cannot read the next due times (%s)", exc.__class__.__name__)
            return
        finally:
            db.session.remove()
    for job, due in zip(jobs, times, strict=True):
        if due is not None:
            job.wake(due)


def heartbeat_pass(app: Flask, owner: str, embedded: bool) -> None:
    """Record in the database that this scheduler is alive; errors are logged, never raised."""
    from kitas.extensions import db
    from kitas.services.heartbeats import beat

    with app.app_context():
        try:
            beat(owner, embedded)
        except Exception as exc:
            log.warning("scheduler heartbeat not recorded (%s)", exc.__class__.__name__)
        finally:
            db.session.remove()


def configure(scheduler: BaseScheduler, app: Flask, owner: str | None = None, embedded: bool = False) -> BaseScheduler:
    """Add the jobs: leased queues woken at their next due row (first pass at once, catching up on rows
    due while down), the other outbox jobs every interval, the watch and the heartbeat."""
    from kitas.services import wakeups
    from kitas.services.cases.timers import scheduler_id

    holder = owner or scheduler_id()
    planner = Planner(scheduler)
    jobs = OUTBOX_JOBS + (SANDBOX_JOBS if app.config["KITAS_PAYMENT_PROVIDER"] == "sandbox" else ())
    timer_job = DueJob(scheduler, app, JOB_ID, lambda: timer_pass(app, holder), _named(DUE_QUEUES[JOB_ID]), planner)
    due_jobs = [timer_job]
    for job_id, target in jobs:
        if job_id in DUE_QUEUES:
            work = (lambda t: lambda: outbox_pass(app, t))(target)
            due_jobs.append(DueJob(scheduler, app, job_id, work, _named(DUE_QUEUES[job_id]), planner))
        else:
            _every(scheduler, app.config["KITAS_OUTBOX_INTERVAL"], job_id, outbox_pass, (app, target))
    for job_id, target, interval in HOUSEKEEPING_JOBS:
        _every(scheduler, app.config[interval], job_id, outbox_pass, (app, target))
    for due_job in due_jobs:
        due_job.add()
    _every(scheduler, app.config["KITAS_SCHEDULER_POLL"], WATCH_JOB_ID, watch_pass, (app, due_jobs))
    _every(
        scheduler, app.config["KITAS_SCHEDULER_HEARTBEAT"], HEARTBEAT_JOB_ID, heartbeat_pass, (app, holder, embedded)
    )

    by_kind = {job.queue.kind.name: job for job in due_jobs}

    def woken(kind: str, due: datetime) -> None:
        if kind in by_kind:
            by_kind[kind].wake(due)

    unsubscribe = wakeups.subscribe(woken)

    def stopped(_event: Any) -> None:
        unsubscribe()
        planner.stop()
        _forget(app, holder)

    scheduler.add_listener(stopped, EVENT_SCHEDULER_SHUTDOWN)
    return scheduler


def _forget(app: Flask, owner: str) -> None:
    """Remove this scheduler's heartbeat when it stops cleanly (a killed one simply goes stale)."""
    from kitas.extensions import db
    from kitas.services.heartbeats import forget

    with app.app_context():
        try:
            forget(owner)
        except Exception as exc:
            log.warning("scheduler heartbeat not removed (%s)", exc.__class__.__name__)
        finally:
            db.session.remove()


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
    configure(scheduler, app, owner, embedded=True)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the scheduler in the foreground until interrupted (``kitas scheduler``; SIGTERM stops it cleanly)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per pass is noise
    logging.getLogger("spiff").setLevel(logging.WARNING)  # so is every task state change
    scheduler = BlockingScheduler(timezone=UTC)
    configure(scheduler, app)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    log.info(
        "scheduler started; wakes when a timer or outbox row falls due (reads the next due time every %ss,"
        " sleeps at most %ss)",
        app.config["KITAS_SCHEDULER_POLL"],
        app.config["KITAS_SCHEDULER_MAX_SLEEP"],
    )
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
        log.info("scheduler stopped")
