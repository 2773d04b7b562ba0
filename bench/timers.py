"""Benchmark: are timers fired on time, exactly once, by several scheduler processes on PostgreSQL?

Run it with ``.venv/bin/python bench/timers.py --pg-url postgresql://user@host/db`` (the database's
public schema is dropped and rebuilt: never point it at data you keep). It takes about two minutes.

What it does: builds the schema with the real migrations, deploys the ``timer_at`` scenario
(``tests/data/timer_at.bpmn``: a case waits on a date timer, then a script counts the firing),
starts ``--schedulers`` ``kitas scheduler`` processes (default 2) and waits for their heartbeats,
then starts ``--timers`` cases (default 1,000) whose timers fall due evenly over ``--spread``
seconds (default 60), beginning a little after the last case is started (the lead is measured on
the first cases). Each timer fires through the whole path: a claim under a lease (``FOR UPDATE
SKIP LOCKED``), the case unit of work, the engine, the script, the audit row. It waits until every
timer fired (or ``--grace`` seconds after the last one fell due), stops the schedulers and reads:

* lateness: ``fired_at - due_at`` of each timer (p50, p95, max; target p95 <= 2 s);
* lost: timers not fired in time; duplicated: cases whose timer fired more than once (audit rows
  ``timer_fired`` per case, and the script's own count in the case data);
* how the timers were shared between the schedulers.

One JSON object goes to stdout, progress to stderr. The exit status is 1 when a timer was lost or
duplicated (lateness alone does not fail: the machine may be busy). ``--smoke`` runs 20 timers
over 3 s (a few seconds in all).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# bench/http.py would shadow the standard library's http: keep bench/ itself off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from bench.processes import (  # noqa: E402
    fresh_postgres_app,
    log,
    machine,
    percentile,
    start_scheduler,
    stop,
    timer_firings,
    wait_for,
)

TARGET_P95_S = 2.0
DIAGRAM = ROOT / "tests" / "data" / "timer_at.bpmn"


def schedulers_alive(app: Any, count: int) -> bool:
    """True once ``count`` schedulers beat in the database."""
    from kitas.extensions import db
    from kitas.services.heartbeats import scheduler_status

    with app.app_context():
        try:
            return scheduler_status(float(app.config["KITAS_SCHEDULER_HEARTBEAT"])).alive >= count
        finally:
            db.session.remove()


def start_cases(app: Any, count: int, spread: float) -> dict[str, Any]:
    """Start ``count`` cases whose timers fall due evenly over ``spread`` seconds after a measured lead."""
    from kitas.extensions import db
    from kitas.models import User
    from kitas.services import cases
    from tests.factories import make_user

    with app.app_context():
        applicant = make_user("applicant", email="timers@example.org", name="Timer Bench")
        applicant_id = applicant.id

        def start(fire_at: datetime) -> None:
            owner = db.session.get(User, applicant_id)
            assert owner is not None
            cases.start_process(
                "timer_at",
                owner,
                kitas_type="test",
                index_code="T",
                data={"fired_count": 0, "fire_at": fire_at.isoformat()},
            )
            db.session.remove()

        # The first few cases measure how long starting one takes; the lead keeps the last start well
        # before the first timer falls due (a date already past would fire inside the start itself).
        probe = min(10, count)
        began = time.monotonic()
        far = datetime.now(UTC) + timedelta(hours=1)
        for _ in range(probe):
            start(far)  # not measured: due long after the run
        per_case = (time.monotonic() - began) / max(probe, 1)
        lead = 2 + 2.0 * per_case * count
        first_due = datetime.now(UTC) + timedelta(seconds=lead)
        step = spread / max(count - 1, 1)
        began = time.monotonic()
        for index in range(count):
            start(first_due + timedelta(seconds=step * index))
        started_in = time.monotonic() - began
        from sqlalchemy import update

        from kitas.models import Timer
        from kitas.transactions import write_transaction

        with write_transaction():  # the probes' timers are left out of the run
            db.session.execute(update(Timer).where(Timer.due_at >= far).values(status="cancelled"))
        db.session.remove()
    return {
        "first_due": first_due,
        "last_due": first_due + timedelta(seconds=spread),
        "lead_s": round(lead, 1),
        "start_seconds": round(started_in, 1),
        "starts_ahead_of_first_due_s": round((first_due - datetime.now(UTC)).total_seconds(), 1),
    }


def all_fired(app: Any, count: int) -> bool:
    """True once ``count`` measured timers fired."""
    from sqlalchemy import func, select

    from kitas.extensions import db
    from kitas.models import Timer

    with app.app_context():
        try:
            return (db.session.scalar(select(func.count()).where(Timer.status == "fired")) or 0) >= count
        finally:
            db.session.remove()


def measure(app: Any, count: int, pids: dict[int, str]) -> dict[str, Any]:
    """Lateness, lost and duplicated timers, read from the timer rows, the audit trail and the cases."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import Application, Timer
    from kitas.services import cases

    with app.app_context():
        rows = db.session.execute(
            select(Timer.application_id, Timer.due_at, Timer.fired_at, Timer.status, Timer.lease_owner).where(
                Timer.status != "cancelled"
            )
        ).all()
        firings = timer_firings()
        counted = Counter[int]()
        for application in db.session.scalars(select(Application).where(Application.status == "done")):
            counted[application.id] = int(cases.read_runtime(application).data.get("fired_count", 0))
        db.session.remove()
    fired = [r for r in rows if r.status == "fired" and r.fired_at is not None]
    lateness = sorted((r.fired_at - r.due_at).total_seconds() for r in fired)
    duplicated = {a for a, n in firings.items() if n > 1} | {a for a, n in counted.items() if n > 1}
    by_scheduler = Counter(pids.get(int(str(r.lease_owner).rsplit(":", 1)[-1]), str(r.lease_owner)) for r in fired)
    return {
        "timers": len(rows),
        "fired": len(fired),
        "lost": count - len(fired),
        "duplicated": len(duplicated),
        "lateness_s": {
            "p50": round(percentile(lateness, 0.50), 3),
            "p95": round(percentile(lateness, 0.95), 3),
            "max": round(lateness[-1], 3) if lateness else 0.0,
            "min": round(lateness[0], 3) if lateness else 0.0,
        },
        "fired_per_scheduler": dict(sorted(by_scheduler.items())),
    }


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    env = {
        "KITAS_DATABASE_URL": args.pg_url,
        "KITAS_SECRET_KEY": secrets.token_hex(32),
        "KITAS_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(32),
        "KITAS_EMBEDDED_SCHEDULER": "0",
    }
    app = fresh_postgres_app(args.pg_url, {"SECRET_KEY": env["KITAS_SECRET_KEY"]})
    with app.app_context():
        from kitas.services.deployments import deploy_path

        deploy_path(DIAGRAM, DIAGRAM.parent)
    schedulers = []
    try:
        for index in range(args.schedulers):
            schedulers.append(start_scheduler(env, tmp / f"scheduler-{index + 1}.log"))
        if not wait_for(lambda: schedulers_alive(app, args.schedulers), 90):
            raise RuntimeError("the schedulers did not beat within 90 s")
        log(f"{args.schedulers} schedulers alive; starting {args.timers} cases")
        plan = start_cases(app, args.timers, args.spread)
        log(f"cases started in {plan['start_seconds']} s; timers fall due from {plan['first_due']:%H:%M:%S}")
        until = (plan["last_due"] - datetime.now(UTC)).total_seconds() + args.grace
        wait_for(lambda: all_fired(app, args.timers), max(until, 1), step=0.5)
    finally:
        for scheduler in schedulers:
            stop(scheduler)
    result = measure(app, args.timers, {s.pid: f"scheduler {i + 1}" for i, s in enumerate(schedulers)})
    if result["lost"] or result["duplicated"]:
        for index in range(len(schedulers)):
            log(f"scheduler {index + 1} log (tail):\n" + (tmp / f"scheduler-{index + 1}.log").read_text()[-2000:])
    return {
        **result,
        "target": f"p95 lateness <= {TARGET_P95_S} s, 0 lost, 0 duplicated",
        "met": result["lateness_s"]["p95"] <= TARGET_P95_S and not result["lost"] and not result["duplicated"],
        "spread_s": args.spread,
        "schedulers": args.schedulers,
        "database": "postgresql",
        "lead_s": plan["lead_s"],
        "case_start_seconds": plan["start_seconds"],
        "environment": {**machine(), "load_average_1m_before": args.load_before},
    }


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("KITAS_BENCH_POSTGRES_URL"), help="its schema is dropped")
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the timers fall due")
    parser.add_argument("--schedulers", type=int, default=2)
    parser.add_argument("--grace", type=float, default=30.0, help="seconds after the last due time to wait")
    parser.add_argument("--smoke", action="store_true", help="20 timers over 3 s")
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("give --pg-url (or KITAS_BENCH_POSTGRES_URL): a PostgreSQL database whose schema may be dropped")
    if args.smoke:
        args.timers, args.spread, args.grace = 20, 3.0, 20.0
    if args.timers < 1 or args.schedulers < 1:
        parser.error("use at least one timer and one scheduler")
    args.load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="kitas-bench-timers-") as tmp:
        result = run(args, Path(tmp))
    print(json.dumps(result, indent=2))
    sys.exit(0 if not result["lost"] and not result["duplicated"] else 1)


if __name__ == "__main__":
    main()
