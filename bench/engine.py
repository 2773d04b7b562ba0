"""Benchmark: what persistence costs per step of a worker case, and whether memory stays flat.

What is measured, for N complete worker cases (start, eight user tasks, the payment message,
ending in ``permit_issued``):

* service path, per database (SQLite file, PostgreSQL): each ``cases.complete_task`` call, i.e. one
  transaction that loads the case row, checks access and lane, validates the form, restores the
  engine from the stored JSON, completes the task, dumps the state, syncs the projections and
  appends the audit chain. The session is removed before every step, so each call loads from the
  database as a fresh request would. ``cases.deliver_message`` is timed separately;
* bare engine: the same completions on a ``CaseRuntime`` kept in memory (no dump/restore, no SQL),
  run interleaved with the service cases so both see the same machine load;
* the ratio service/bare per completion (median and p95); target <= 5 on SQLite, <= 8 on PostgreSQL;
* the SQL statements each completion and message delivery executes (min, median, max);
* stored state size of each finished case; target < 30000 bytes;
* peak RSS of fresh subprocesses running N and 4N service cases on SQLite; "flat" = ratio < 1.5;
* what one sandboxed call costs (``script_calls``): a plain condition (names, literals, comparisons:
  evaluated in the process) and a condition and a two-line script sent to a script worker process.

The ratio, not the absolute milliseconds, is the figure to track: the machines are shared and noisy,
and both sides of the ratio are measured in the same process, interleaved, on the same model.
Timings use ``time.perf_counter_ns``; the first case of every run is a warm-up and is not counted.
Prints one JSON document to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# This file is called engine.py: keep bench/ off the path so ``import engine`` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import create_engine, event, select, text  # noqa: E402

from engine import CaseRuntime, ManualClock, ProcessModel  # noqa: E402
from tests.factories import free_slot_for  # noqa: E402
from tests.services.helpers import BOOKING_KINDS  # noqa: E402
from tests.worker_data import PAYMENT, form_data  # noqa: E402

MESSAGE = "payment_received"
STEPS = (
    "applicant_data",
    "employment_data",
    "sponsor_confirmation",
    "document_checklist",
    MESSAGE,
    "verify_documents",
    "supervisor_approval",
    "book_biometrics",
    "capture_biometrics",
)
TARGET_RATIO = {"sqlite": 5.0, "postgresql": 8.0}
TARGET_STATE_BYTES = 30_000
FLAT_RSS_RATIO = 1.5
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
Samples = dict[str, list[int]]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def samples() -> Samples:
    return {"start": [], "complete": [], "message": [], "complete_sql": [], "message_sql": []}


class StatementCounter:
    """Counts the SQL statements an engine executes (one cursor execution each)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


_STATEMENTS = StatementCounter()


def counted(out: list[int], action: Callable[..., Any], *args: Any) -> Any:
    """Run ``action`` and append the number of SQL statements it executed to ``out``."""
    before = _STATEMENTS.count
    result = action(*args)
    out.append(_STATEMENTS.count - before)
    return result


def timed(out: list[int], action: Callable[..., Any], *args: Any) -> Any:
    t0 = time.perf_counter_ns()
    result = action(*args)
    out.append(time.perf_counter_ns() - t0)
    return result


def summary(samples_ns: list[int]) -> dict[str, float]:
    ordered = sorted(samples_ns)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered) / 1e6, 3), "p95_ms": round(p95 / 1e6, 3)}


def measure_script_calls(n: int = 300) -> dict[str, Any]:
    """Median and p95 of sandboxed calls: a plain condition (in process), a condition and a script (in a worker)."""
    from engine.sandbox import SandboxEnvironment

    env = SandboxEnvironment(ManualClock())
    data = {"sponsor_decision": "confirm", "sla_escalations": ["verify_documents"], "contract_months": 12}
    script = 'sla_escalations = sla_escalations + ["supervisor_approval"]\npermit_months = contract_months'
    calls: dict[str, Callable[[], Any]] = {
        "plain_condition": lambda: env.evaluate('sponsor_decision == "confirm"', data),
        "condition_in_worker": lambda: env.evaluate("len(sla_escalations) > 0 and contract_months <= 12", data),
        "script_in_worker": lambda: env.execute(script, dict(data)),
    }
    found: dict[str, list[int]] = {name: [] for name in calls}
    for call in calls.values():
        call()  # starts the worker; not counted
    for _ in range(n):
        for name, call in calls.items():
            begin = time.perf_counter_ns()
            call()
            found[name].append(time.perf_counter_ns() - begin)
    return {name: summary(values) for name, values in found.items()}


def make_app(url: str) -> Flask:
    """An application on ``url`` with the schema built by the real migrations."""
    from flask_migrate import upgrade

    from app import create_app
    from kitas.extensions import db
    from kitas.services.offices.directory import sync_offices

    app = create_app(
        {"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url, "KITAS_EMBEDDED_SCHEDULER": False},
        clock=ManualClock(),
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        sync_offices()  # as `kitas init` does: people and cases need the offices
        db.session.remove()
    return app


def setup() -> tuple[dict[str, int], ProcessModel, dict[str, Any]]:
    """Roles, the worker diagram, one user per role; returns user ids by role, the model, start data."""
    from kitas.extensions import db
    from kitas.models import ProcessDefinition
    from kitas.services.accounts.roles import ensure_roles
    from kitas.services.deployments import deploy_path, process_model
    from tests.factories import make_user
    from workflows import catalog

    ensure_roles()
    for shared in sorted((ROOT / "bpmn" / "shared").glob("*.bpmn")):  # the steps the worker diagram calls
        deploy_path(shared, ROOT / "forms" / "schemas")
    result = deploy_path(ROOT / "bpmn" / "kitas_worker.bpmn", ROOT / "forms" / "schemas")
    emails = {
        "applicant": "ana@example.org",
        "sponsor": "hr@employer.co.id",
        "verifier": "vera@imigrasi.example",
        "supervisor": "sam@imigrasi.example",
    }
    people = {role: make_user(role, email=email, name=f"Bench {role}") for role, email in emails.items()}
    for person in people.values():
        # A sponsor sees the cases naming them only once their address is confirmed.
        person.email_verified_at = person.created_at
    db.session.commit()
    users = {role: person.id for role, person in people.items()}
    definition = db.session.get(ProcessDefinition, result.definition_id)
    assert definition is not None
    model = process_model(definition)
    entry = catalog().by_code("worker")
    db.session.remove()
    return users, model, {"kitas_type": entry.code, "index_code": entry.index_code}


def service_case(users: dict[str, int], out: Samples) -> int:
    """One worker case through the service layer; returns the stored state size of the finished case."""
    from kitas.extensions import db
    from kitas.models import Application, HumanTask, User
    from kitas.services import cases
    from kitas.services.accounts.sessions import user_for_session
    from kitas.services.cases import claims
    from kitas.services.cases.access import OFFICER_ROLES

    db.session.remove()
    tokens = {role: db.session.get(User, user_id).session_token for role, user_id in users.items()}  # type: ignore[union-attr]
    applicant = db.session.get(User, users["applicant"])
    assert applicant is not None
    application_id = timed(out["start"], cases.start_case, "worker", applicant).id
    for step in STEPS:
        db.session.remove()  # every step loads from the database, as a fresh request would
        if step == MESSAGE:
            counted(
                out["message_sql"], timed, out["message"], cases.deliver_message, application_id, MESSAGE, PAYMENT, "b"
            )
            continue
        row = db.session.execute(
            select(HumanTask.task_id, HumanTask.role).where(
                HumanTask.application_id == application_id, HumanTask.element_id == step
            )
        ).one()
        # As a request's user loader does: the user with their roles, loaded before the step.
        user = user_for_session(f"{users[row.role]}:{tokens[row.role]}")
        assert user is not None
        if row.role in OFFICER_ROLES:  # an officer starts working on the task first (not timed: a step of its own)
            reference = db.session.scalar(select(Application.reference).where(Application.id == application_id))
            claims.claim_task(str(reference), row.task_id, user)
        data = form_data(step)
        if step in BOOKING_KINDS:  # a free time of the case's office, published beforehand (not timed)
            data["appointment_slot"] = free_slot_for(application_id, BOOKING_KINDS[step])
        counted(
            out["complete_sql"], timed, out["complete"], cases.complete_task, application_id, row.task_id, user, data
        )
    db.session.remove()
    application = db.session.get(Application, application_id)
    assert application is not None and application.status == "permit_issued", application
    size = len(application.workflow_state.encode())
    db.session.remove()
    return size


def bare_case(model: ProcessModel, initial: dict[str, Any], clock: ManualClock, out: Samples) -> None:
    """The same case on an in-memory CaseRuntime: no SQL, no dump/restore between steps."""
    runtime = CaseRuntime.start(model, dict(initial), clock)
    for step in STEPS:
        if step == MESSAGE:
            timed(out["message"], runtime.deliver_message, MESSAGE, PAYMENT)
            continue
        task_id = next(t.task_id for t in runtime.ready_user_tasks() if t.element_id == step)
        timed(out["complete"], runtime.complete_user_task, task_id, form_data(step))
    assert runtime.completed and runtime.status() == "permit_issued"


def run_database(name: str, url: str, n: int, bare: Samples) -> dict[str, Any]:
    """N service cases on one database, each followed by a bare case; the first of each is warm-up."""
    from kitas.extensions import db

    app = make_app(url)
    service, local_bare, sizes = samples(), samples(), []
    wall = {"service": 0, "bare": 0}
    clock = ManualClock()
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", _STATEMENTS)
        users, model, initial = setup()
        service_case(users, samples())  # warm-up
        bare_case(model, initial, clock, samples())
        for i in range(n):
            t0 = time.perf_counter_ns()
            sizes.append(service_case(users, service))
            t1 = time.perf_counter_ns()
            bare_case(model, initial, clock, local_bare)
            wall["service"] += t1 - t0
            wall["bare"] += time.perf_counter_ns() - t1
            if (i + 1) % max(1, n // 10) == 0:
                log(f"{name}: {i + 1}/{n} cases")
        db.session.remove()
        event.remove(db.engine, "before_cursor_execute", _STATEMENTS)
        db.engine.dispose()
    for key in ("complete", "message"):
        bare[key].extend(local_bare[key])
    svc, eng = summary(service["complete"]), summary(local_bare["complete"])
    msg_svc, msg_eng = summary(service["message"]), summary(local_bare["message"])
    ratio_median = round(svc["median_ms"] / eng["median_ms"], 2)
    ratio_p95 = round(svc["p95_ms"] / eng["p95_ms"], 2)
    return {
        "service": {"complete_task": svc, "deliver_message": msg_svc, "start_case": summary(service["start"])},
        "bare_engine_interleaved": {"complete": eng, "message": msg_eng},
        "ratio_service_over_bare": {
            "median": ratio_median,
            "p95": ratio_p95,
            "target": f"<= {TARGET_RATIO[name]}",
            "meets_target": ratio_median <= TARGET_RATIO[name] and ratio_p95 <= TARGET_RATIO[name],
        },
        "sql_statements": {
            "per_complete_task": _spread(service["complete_sql"]),
            "per_deliver_message": _spread(service["message_sql"]),
        },
        "message_ratio_median": round(msg_svc["median_ms"] / msg_eng["median_ms"], 2),
        "wall_time_s": {"service_cases": round(wall["service"] / 1e9, 2), "bare_cases": round(wall["bare"] / 1e9, 2)},
        "state_size_bytes": {
            "max": max(sizes),
            "median": int(statistics.median(sizes)),
            "target": f"< {TARGET_STATE_BYTES}",
            "meets_target": max(sizes) < TARGET_STATE_BYTES,
        },
    }


def _spread(counts: list[int]) -> dict[str, float]:
    return {"min": min(counts), "median": statistics.median(counts), "max": max(counts)}


def postgres_problem(url: str) -> str | None:
    """None if PostgreSQL answers at ``url``, else why not."""
    try:
        engine = create_engine("postgresql+psycopg://" + url.split("://", 1)[1], connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001  (any failure means: skip it, and say why)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def memory_run(n: int) -> None:
    """Hidden mode: N service cases on a fresh SQLite file in this process; print its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with app.app_context():
            users = setup()[0]
            service_case(users, samples())
            after_setup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            for _ in range(n):
                service_case(users, samples())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"cases": n, "peak_rss_kb_after_warmup": after_setup, "peak_rss_kb": peak}))


def measure_memory(n: int) -> dict[str, Any]:
    runs = []
    for size in (n, 4 * n):
        log(f"memory: {size} cases in a fresh subprocess")
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--memory-run", str(size)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    ratio = round(runs[1]["peak_rss_kb"] / runs[0]["peak_rss_kb"], 3)
    return {
        "database": "sqlite",
        "unit": "KiB (ru_maxrss)",
        "runs": runs,
        "ratio_4n_over_n": ratio,
        "flat": ratio < FLAT_RSS_RATIO,
        "flat_means": f"ratio < {FLAT_RSS_RATIO}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--memory-run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_run is not None:
        memory_run(args.memory_run)
        return
    import SpiffWorkflow

    bare = samples()
    results: dict[str, Any] = {}
    started = time.perf_counter_ns()
    with tempfile.TemporaryDirectory() as tmp:
        for name in [d.strip() for d in args.databases.split(",") if d.strip()]:
            if name == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.db'}"
            elif name == "postgresql":
                problem = postgres_problem(args.pg_url)
                if problem:
                    results[name] = {"skipped": f"cannot connect to {args.pg_url}: {problem}"}
                    log(f"postgresql skipped: {problem}")
                    continue
                url = args.pg_url
            else:
                parser.error(f"unknown database {name!r}")
            log(f"{name}: {args.cases} cases")
            results[name] = run_database(name, url, args.cases, bare)
    measured = [r for r in results.values() if "state_size_bytes" in r]
    report = {
        "cases": args.cases,
        "steps_per_case": {"complete_task": len(STEPS) - 1, "deliver_message": 1},
        "environment": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "spiffworkflow": getattr(SpiffWorkflow, "__version__", "?"),
        },
        "databases": results,
        "bare_engine": {k: summary(bare[k]) for k in ("complete", "message")} if bare["complete"] else None,
        "state_size_bytes": measured[0]["state_size_bytes"] if measured else None,
        "memory": measure_memory(args.cases),
        "script_calls": measure_script_calls(),
    }
    report["total_wall_time_s"] = round((time.perf_counter_ns() - started) / 1e9, 1)  # incl. memory runs
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
