"""The scheduler wakes when work falls due (next due times, in-process wake-ups) and says it is alive."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from kitas.extensions import db
from kitas.models import Application, Notification, SchedulerHeartbeat, Timer, User
from kitas.services import cases, heartbeats, leases, wakeups
from kitas.services.cases import timers
from kitas.services.deployments import deploy_path
from kitas.services.notifications import OUTBOX
from kitas.transactions import write_transaction
from tests.conftest import DATA
from tests.services.helpers import start_until_payment


def _start_timed_case(users: dict[str, Any], fire_at: datetime) -> int:
    """A case of the timer_at scenario, waiting until ``fire_at``."""
    return cases.start_process(
        "timer_at",
        users["applicant"],
        kitas_type="test",
        index_code="T",
        data={"fired_count": 0, "fire_at": fire_at.isoformat()},
    ).id


@pytest.fixture()
def timed(ctx: Flask, clock: Any) -> None:
    """The timer_at scenario deployed, the clock at the wall clock's time.

    SpiffWorkflow looks at a date timer once with the wall clock before the engine parks it on its own
    clock, so a date before the real now would fire at once.
    """
    clock.set(datetime.now(UTC).replace(microsecond=0))
    deploy_path(DATA / "timer_at.bpmn", DATA)


# -- when the next row falls due ---------------------------------------------------------------------


def test_next_due_is_the_earliest_open_timer(timed: None, users: dict[str, Any], clock: Any) -> None:
    assert leases.next_due_times([timers.DUE_TIMERS]) == [None]
    later, sooner = clock.now() + timedelta(minutes=30), clock.now() + timedelta(minutes=5)
    _start_timed_case(users, later)
    assert leases.next_due_times([timers.DUE_TIMERS]) == [later]
    _start_timed_case(users, sooner)
    assert leases.next_due_times([timers.DUE_TIMERS]) == [sooner]


def test_next_due_of_a_leased_timer_is_the_end_of_its_lease(timed: None, users: dict[str, Any], clock: Any) -> None:
    due = clock.now() + timedelta(minutes=5)
    _start_timed_case(users, due)
    clock.set(due)
    [claimed] = timers.claim_due_timers("elsewhere", lease_seconds=60)
    # Another scheduler holds it: it falls due again only when that lease runs out.
    assert leases.next_due_times([timers.DUE_TIMERS]) == [due + timedelta(seconds=60)]
    assert timers.fire_timer(claimed, "elsewhere") == "fired"
    assert leases.next_due_times([timers.DUE_TIMERS]) == [None]


def test_next_due_leaves_out_given_up_and_finished_rows(timed: None, users: dict[str, Any], clock: Any) -> None:
    _start_timed_case(users, clock.now() + timedelta(minutes=5))
    db.session.execute(update(Timer).values(gave_up_at=clock.now()))
    db.session.commit()
    assert leases.next_due_times([timers.DUE_TIMERS]) == [None]


def test_next_due_of_the_outbox_is_its_oldest_unsent_message(worker: int, users: dict[str, Any], clock: Any) -> None:
    assert leases.next_due_times([OUTBOX, timers.DUE_TIMERS]) == [None, None]
    start_until_payment(users)
    first_message = db.session.scalar(
        select(func.min(Notification.next_attempt_at)).where(Notification.channel == "email")
    )
    payment_deadline = db.session.scalar(select(Timer.due_at).where(Timer.status == "pending"))
    assert first_message is not None
    assert leases.next_due_times([OUTBOX, timers.DUE_TIMERS]) == [first_message, payment_deadline]
    db.session.execute(update(Notification).values(sent_at=clock.now()))
    db.session.commit()
    assert leases.next_due_times([OUTBOX])[0] is None


# -- wake-ups inside this process ----------------------------------------------------------------------


@pytest.fixture()
def heard() -> Any:
    """Every (kind, due) the wake-up hook reports while the test runs."""
    found: list[tuple[str, datetime]] = []
    unsubscribe = wakeups.subscribe(lambda kind, due: found.append((kind, due)))
    yield found
    unsubscribe()


def test_a_committed_timer_wakes_the_scheduler_with_its_due_time(
    timed: None, users: dict[str, Any], clock: Any, heard: list[tuple[str, datetime]]
) -> None:
    due = clock.now() + timedelta(seconds=42)
    _start_timed_case(users, due)
    assert ("timer", due) in heard


def test_a_rolled_back_timer_wakes_nobody(
    timed: None, users: dict[str, Any], clock: Any, heard: list[tuple[str, datetime]]
) -> None:
    application_id = _start_timed_case(users, clock.now() + timedelta(days=1))
    heard.clear()
    with pytest.raises(RuntimeError, match="changed my mind"):
        with write_transaction():
            db.session.execute(
                Timer.__table__.insert().values(
                    application_id=application_id,
                    task_id="x",
                    element_id="x",
                    due_at=clock.now(),
                    created_at=clock.now(),
                )
            )
            raise RuntimeError("changed my mind")
    db.session.commit()  # a later commit of something else does not report the rolled-back row
    assert heard == []


def test_outbox_rows_wake_the_scheduler_at_once(worker: int, users: dict[str, Any], heard: Any, clock: Any) -> None:
    start_until_payment(users)
    assert ("notification", clock.now()) in heard


# -- the job that plans its next run -------------------------------------------------------------------


class _FakeQueue:
    def __init__(self) -> None:
        self.kind = leases.KINDS["timer"]


@pytest.fixture()
def due_job(ctx: Flask, clock: Any) -> Any:
    """A DueJob on a scheduler that is never started (its planned run time is only read)."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from kitas.jobs.scheduler import DueJob, Planner

    scheduler = BackgroundScheduler(timezone=UTC)
    passes: list[str] = []
    job = DueJob(scheduler, ctx, "test_job", lambda: passes.append("pass"), timers.DUE_TIMERS, Planner(scheduler))
    job.add()
    job.passes = passes
    job.planned = lambda: _planned(job, scheduler)
    return job


def _planned(job: Any, scheduler: Any) -> datetime:
    job.planner.settle()
    when: datetime = scheduler.get_job(job.job_id).next_run_time
    return when


def _seconds_ahead(when: datetime) -> float:
    return (when - datetime.now(UTC)).total_seconds()


def test_after_a_pass_the_job_sleeps_until_the_next_due_row(
    due_job: Any, timed: None, users: dict[str, Any], clock: Any
) -> None:
    _start_timed_case(users, clock.now() + timedelta(seconds=40))
    due_job.run()
    assert due_job.passes == ["pass"]
    assert 30 < _seconds_ahead(due_job.planned()) <= 40
    _start_timed_case(users, clock.now() + timedelta(hours=2))  # later than max sleep: woken by then anyway
    db.session.execute(update(Timer).where(Timer.due_at < clock.now() + timedelta(hours=1)).values(status="fired"))
    db.session.commit()
    due_job.run()
    assert _seconds_ahead(due_job.planned()) <= 60


def test_with_nothing_due_the_job_sleeps_at_most_max_sleep(due_job: Any, ctx: Flask) -> None:
    due_job.run()
    assert 0 < _seconds_ahead(due_job.planned()) <= ctx.config["KITAS_SCHEDULER_MAX_SLEEP"]


def test_an_earlier_row_brings_the_run_forward_and_a_later_one_does_not(due_job: Any, clock: Any) -> None:
    due_job.run()
    due_job.wake(clock.now() + timedelta(seconds=20))
    assert 10 < _seconds_ahead(due_job.planned()) <= 20
    due_job.wake(clock.now() + timedelta(seconds=40))
    assert _seconds_ahead(due_job.planned()) <= 20
    due_job.wake(clock.now() - timedelta(hours=1))  # overdue: at once, never in the past
    assert -1 < _seconds_ahead(due_job.planned()) <= 0.5


def test_a_wake_up_during_a_pass_is_kept_for_after_it(ctx: Flask, clock: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from kitas.jobs.scheduler import DueJob, Planner

    scheduler = BackgroundScheduler(timezone=UTC)
    holder: dict[str, Any] = {}

    def work() -> None:  # a row due in 30 s is committed while the pass runs (after its claims)
        holder["job"].wake(clock.now() + timedelta(seconds=30))

    holder["job"] = job = DueJob(scheduler, ctx, "test_job", work, timers.DUE_TIMERS, Planner(scheduler))
    job.add()
    job.run()
    assert 20 < _seconds_ahead(_planned(job, scheduler)) <= 30


def test_a_failing_pass_still_plans_the_next_one(ctx: Flask) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from kitas.jobs.scheduler import DueJob, Planner

    scheduler = BackgroundScheduler(timezone=UTC)

    def broken() -> None:
        raise OSError("disk gone")

    job = DueJob(scheduler, ctx, "test_job", broken, timers.DUE_TIMERS, Planner(scheduler))
    job.add()
    with pytest.raises(OSError):
        job.run()
    assert 0 < _seconds_ahead(_planned(job, scheduler)) <= ctx.config["KITAS_SCHEDULER_MAX_SLEEP"]


def test_a_timer_committed_while_the_scheduler_sleeps_fires_without_waiting_for_a_scan(
    ctx: Flask, timed: None, users: dict[str, Any], clock: Any
) -> None:
    """Max sleep and poll are an hour: only the in-process wake-up can fire the timer now."""
    from apscheduler.events import EVENT_JOB_EXECUTED

    from kitas.jobs.scheduler import JOB_ID, WATCH_JOB_ID, start_background

    applicant_id = users["applicant"].id
    db.session.remove()
    saved = {key: ctx.config[key] for key in ("KITAS_SCHEDULER_MAX_SLEEP", "KITAS_SCHEDULER_POLL")}
    ctx.config.update(KITAS_SCHEDULER_MAX_SLEEP=3600, KITAS_SCHEDULER_POLL=3600)
    passes: list[Any] = []
    fired = threading.Event()

    watched = threading.Event()

    def listener(event: Any) -> None:
        if event.job_id == WATCH_JOB_ID:
            watched.set()
        if event.job_id == JOB_ID:
            passes.append(event.retval)
            if event.retval.fired:
                fired.set()

    scheduler = start_background(ctx, owner="sleepy")
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    try:
        # The first pass and the first watch at start find nothing; then both sleep for an hour.
        assert watched.wait(timeout=30)
        while not passes:
            threading.Event().wait(0.05)
        applicant = {"applicant": db.session.get(User, applicant_id)}
        # Due a little after the wall clock's now (SpiffWorkflow's own look), and at once on the app's clock.
        fire_at = datetime.now(UTC) + timedelta(seconds=5)
        clock.set(fire_at)
        application_id = _start_timed_case(applicant, fire_at)
        db.session.remove()
        assert fired.wait(timeout=60), "the timer did not fire"
    finally:
        scheduler.shutdown(wait=True)
        ctx.config.update(saved)
    assert db.session.get(Application, application_id).status == "done"


# -- heartbeats and /health ----------------------------------------------------------------------------


def test_a_scheduler_beats_and_is_forgotten_when_it_stops(ctx: Flask, clock: Any) -> None:
    heartbeats.beat("host-a:1")
    first = db.session.get(SchedulerHeartbeat, "host-a:1")
    assert first.beat_at == first.started_at == clock.now() and not first.embedded
    clock.advance(seconds=10)
    heartbeats.beat("host-a:1")
    db.session.expire_all()
    again = db.session.get(SchedulerHeartbeat, "host-a:1")
    assert again.beat_at == clock.now() and again.started_at == clock.now() - timedelta(seconds=10)
    heartbeats.forget("host-a:1")
    assert db.session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) == 0


def test_a_scheduler_silent_for_a_day_is_removed_by_the_next_beat(ctx: Flask, clock: Any) -> None:
    heartbeats.beat("killed:1")
    clock.advance(days=1, seconds=1)
    heartbeats.beat("alive:2", embedded=True)
    assert [row.owner for row in db.session.scalars(select(SchedulerHeartbeat))] == ["alive:2"]


def test_health_says_no_scheduler_ever_beat(ctx: Flask) -> None:
    body = ctx.test_client().get("/health").get_json()
    assert body["scheduler"] == {"state": "none", "alive": 0, "last_beat": None}


def test_health_says_a_scheduler_is_alive_then_stale(ctx: Flask, clock: Any) -> None:
    interval = ctx.config["KITAS_SCHEDULER_HEARTBEAT"]
    client = ctx.test_client()
    heartbeats.beat("one:1")
    heartbeats.beat("two:2", embedded=True)
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["scheduler"] == {"state": "alive", "alive": 2, "last_beat": clock.now().isoformat()}
    last = clock.now()
    clock.advance(seconds=interval * heartbeats.ALIVE_BEATS)  # exactly on the limit: still alive
    assert client.get("/health").get_json()["scheduler"]["alive"] == 2
    clock.advance(seconds=1)
    heartbeats.beat("two:2")
    assert client.get("/health").get_json()["scheduler"] == {
        "state": "alive",
        "alive": 1,
        "last_beat": clock.now().isoformat(),
    }
    clock.advance(seconds=interval * heartbeats.ALIVE_BEATS + 1)
    stale = client.get("/health")
    assert stale.status_code == 200  # the web service itself is fine; a monitor reads "state"
    assert stale.get_json()["scheduler"] == {
        "state": "stale",
        "alive": 0,
        "last_beat": (last + timedelta(seconds=interval * heartbeats.ALIVE_BEATS + 1)).isoformat(),
    }


def test_a_running_scheduler_beats_and_its_row_goes_when_it_stops(ctx: Flask) -> None:
    from apscheduler.events import EVENT_JOB_EXECUTED

    from kitas.jobs.scheduler import HEARTBEAT_JOB_ID, start_background

    db.session.remove()
    beaten = threading.Event()

    def listener(event: Any) -> None:
        if event.job_id == HEARTBEAT_JOB_ID:
            beaten.set()

    scheduler = start_background(ctx, owner="embedded-test")
    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
    try:
        assert beaten.wait(timeout=30), "no heartbeat"
        row = db.session.get(SchedulerHeartbeat, "embedded-test")
        assert row is not None and row.embedded
        assert ctx.test_client().get("/health").get_json()["scheduler"]["state"] == "alive"
    finally:
        scheduler.shutdown(wait=True)
    db.session.expire_all()
    assert db.session.get(SchedulerHeartbeat, "embedded-test") is None
