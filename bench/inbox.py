"""Benchmark: the officers' inbox with 100,000 cases and 300,000 open tasks, at the database and end to end.

Run it with ``.venv/bin/python bench/inbox.py --pg-url postgresql://user@host/db`` (the database's public
schema is dropped and rebuilt: never point it at data you keep; without ``--pg-url`` only SQLite is
measured). ``--cases N`` (default 100,000) cases get ``--tasks-per-case`` (3) open task rows each;
``--smoke`` is a tiny run for CI (a few seconds per database).

For each database (SQLite in a temporary file, then PostgreSQL): the real migrations and every diagram
(``kitas init``), a verifier and a supervisor (signed in through the real pages, second factor
included), one real case run through the services to verification (its state is what every copy
carries; the inbox never reads it), then the cases and tasks generated with bulk inserts (PostgreSQL:
``COPY``; SQLite: one ``executemany`` per batch): every catalog type and index code, names drawn from
lists, a passport number each, a fifth of the verifiers' tasks claimed (some by the measured verifier),
due times from 20 days late to 5 days ahead (the late ones escalated, as the SLA timer does); every case
and its tasks in one of the offices of ``workflows/offices.json`` (``OFFICE_SHARES``), the verifier
working in two of them (half the tasks), the supervisor in one, an admin (with both officer roles)
seeing every office; then ``VACUUM ANALYZE`` (``ANALYZE`` on SQLite).

Measured, for the first page of every filter, sort and search (``VIEWS``):

* ``db_ms``: every statement the inbox service runs for that page, captured in-process and run again
  under ``EXPLAIN (ANALYZE, FORMAT JSON)`` on PostgreSQL (planning + execution time, summed; the plan's
  node types and indexes are reported per statement); on SQLite (no EXPLAIN ANALYZE) the statements
  run again and are timed, with ``EXPLAIN QUERY PLAN``'s indexes;
* ``http``: the page through gunicorn (2 sync workers, scheduler off) by ``--clients`` concurrent
  clients for ``--seconds``: p50/p95 in ms, requests, errors (any answer but 200, or a page without
  its inbox markup).

Targets (PostgreSQL): ``db_ms`` < 50 and p95 < 150 ms for every view; SQLite is reported beside it.
One JSON object goes to stdout, progress to stderr; gunicorn is stopped and temporary files removed
even on failure. The exit status is 1 when a page answered with an error.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import string
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# bench/http.py would shadow the standard library's http: keep bench/ itself off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, event, insert, select, text  # noqa: E402

from bench.processes import free_port, log, machine, percentile, start_gunicorn, stop  # noqa: E402

TARGET_DB_MS = 50.0
TARGET_P95_MS = 150.0
WORKERS = 2
FIRST = [
    "Maria",
    "Budi",
    "Siti",
    "John",
    "Wei",
    "Aiko",
    "Ahmad",
    "Olga",
    "Pierre",
    "Ana",
    "Ravi",
    "Chen",
    "Fatima",
    "Lukas",
    "Sofia",
    "Kenji",
    "Amara",
    "Diego",
    "Nadia",
    "Tomás",
    "Ingrid",
    "Yusuf",
    "Mei",
    "Hiroshi",
    "Lena",
]
MIDDLE = [
    f"{a}{b}"
    for a in ("Al", "Be", "Ca", "Da", "El", "Fa", "Ga", "Ha", "Ir", "Jo")
    for b in (
        "ra",
        "no",
        "li",
        "ta",
        "mi",
        "ko",
        "sa",
        "ve",
        "du",
        "ne",
        "ro",
        "pa",
        "zi",
        "lu",
        "ka",
        "te",
        "mo",
        "xi",
        "bo",
        "fe",
    )
]
LAST = [
    "Schmidt",
    "Tanaka",
    "Santoso",
    "Müller",
    "Nguyen",
    "Smith",
    "Kowalski",
    "Rossi",
    "Haddad",
    "Okafor",
    "Silva",
    "Ivanova",
    "Dubois",
    "Kim",
    "Singh",
    "Hansen",
    "García",
    "Wibowo",
    "Lee",
    "Novak",
    "Costa",
    "Yamamoto",
    "Brown",
    "Fischer",
    "Larsen",
    "Petrov",
    "Moreau",
    "Suzuki",
    "Hakim",
    "Lindqvist",
]
# The share of the cases of each office (codes of workflows/offices.json); who works where.
OFFICE_SHARES = {"JKS": 30, "SBY": 20, "MDN": 15, "DPS": 15, "MKS": 12, "DJJ": 8}
WORKS_IN = {"verifier": ("JKS", "SBY"), "supervisor": ("JKS",), "others": ("JKS", "SBY")}
# (element, role, lane, name) of the generated open tasks; one of each per case (rows = cases x 3).
TASKS = [
    ("verify_documents", "verifier", "Verifier", "Verify documents"),
    ("supervisor_approval", "supervisor", "Supervisor", "Approve application"),
    ("capture_biometrics", "verifier", "Verifier", "Capture biometrics"),
    ("conduct_interview", "verifier", "Verifier", "Conduct interview"),
    ("submit_corrections", "applicant", "Applicant", "Submit corrections"),
]


def views(sample: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Every filter, sort and search of the inbox: name -> (who asks, GET parameters)."""
    return {
        "all": ("verifier", {}),
        "claimed_by_me": ("verifier", {"claim": "mine"}),
        "unclaimed": ("verifier", {"claim": "unclaimed"}),
        "claimed_by_others": ("verifier", {"claim": "others"}),
        "late": ("verifier", {"due": "late"}),
        "due_soon": ("verifier", {"due": "soon"}),
        "type": ("verifier", {"type": "family"}),
        "index_code": ("verifier", {"index": "E31B"}),
        "step": ("verifier", {"step": "conduct_interview"}),
        "sort_by_due": ("verifier", {"sort": "due"}),
        "combined": ("verifier", {"type": "worker", "claim": "unclaimed", "due": "late", "sort": "due"}),
        "supervisor_team": ("supervisor", {"scope": "team"}),
        "office": ("verifier", {"office": "SBY"}),
        "escalated": ("verifier", {"due": "escalated"}),
        "admin_all_offices": ("admin", {}),
        "admin_team_one_office": ("admin", {"scope": "team", "office": "MDN"}),
        "search_register_number": ("verifier", {"q": sample["reference"]}),
        "search_passport": ("verifier", {"q": sample["passport"], "by": "passport"}),
        "search_name_rare": ("verifier", {"q": sample["rare_name"], "by": "name"}),
        "search_name_common": ("verifier", {"q": sample["common_name"], "by": "name"}),
        "search_any_key": ("verifier", {"q": sample["rare_name"]}),
        "page_3": ("verifier", {"page": "3"}),
    }


# -- the data ------------------------------------------------------------------------------------------


def prepare(app: Any, cases_count: int, per_case: int, rng: random.Random) -> tuple[dict[str, Any], dict[str, str]]:
    """``kitas init``, the people, one real case, then the generated cases and tasks; facts and a sample."""
    from bench.http_seed import TO_VERIFICATION, make_person, real_case
    from kitas.extensions import app_clock, db
    from kitas.models import Application, HumanTask, Office, Role, User, officer_offices
    from kitas.models.audit import GENESIS_HASH
    from kitas.services.cases.search_columns import name_form
    from workflows import catalog

    with app.app_context():
        init = app.test_cli_runner().invoke(args=["init"])
        if init.exit_code != 0:
            raise RuntimeError(f"kitas init failed: {init.output}")
        password = "pw-" + secrets.token_hex(12)
        people = {
            "applicant": make_person("applicant", "ana.inbox@example.org", "Ana Inbox", password),
            "sponsor": make_person("sponsor", "hr@employer.co.id", "PT Contoh (HR)", password),
            "verifier": make_person("verifier", "vera.inbox@imigrasi.example", "Vera Inbox", password),
            "supervisor": make_person("supervisor", "sam.inbox@imigrasi.example", "Sam Inbox", password),
        }
        people["admin"] = make_person("verifier", "ada.inbox@imigrasi.example", "Ada Inbox", password)
        others = [
            make_person("verifier", f"verifier{i}.inbox@imigrasi.example", f"Verifier {i}", password) for i in range(4)
        ]
        offices = _offices(db, Office)
        admin = db.session.get(User, people["admin"].id)
        assert admin is not None
        admin.roles = list(db.session.scalars(select(Role).where(Role.name.in_(["admin", "verifier", "supervisor"]))))
        for who, works_in in WORKS_IN.items():
            for person in [people[who]] if who in people else others:
                # make_person placed officers in the default office; each gets exactly these instead
                db.session.execute(delete(officer_offices).where(officer_offices.c.user_id == person.id))
                db.session.execute(
                    insert(officer_offices), [{"user_id": person.id, "office_id": offices[c]} for c in works_in]
                )
        db.session.commit()
        office_codes, office_weights = list(OFFICE_SHARES), list(OFFICE_SHARES.values())
        template = real_case("in_verification", TO_VERIFICATION, people)
        started = time.perf_counter()
        now = app_clock().now()
        types = [(t.code, [c.code for c in t.index_codes] or [t.index_code]) for t in catalog().types]
        app_row = template.application
        first_app = int(db.session.scalar(select(Application.id).order_by(Application.id.desc()).limit(1)) or 0) + 1
        first_task = int(db.session.scalar(select(HumanTask.id).order_by(HumanTask.id.desc()).limit(1)) or 0) + 1
        claimers = [people["verifier"].id] + [o.id for o in others]
        sample: dict[str, str] = {}
        apps: list[dict[str, Any]] = []
        tasks: list[dict[str, Any]] = []
        references: set[str] = set()
        for i in range(cases_count):
            kind, codes = types[i % len(types)]
            index = rng.choice(codes)
            while (
                reference := f"{index}-{now.year}-{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', k=8))}"
            ) in references:
                pass
            references.add(reference)
            name = f"{rng.choice(FIRST)} {rng.choice(MIDDLE)} {rng.choice(LAST)}"
            passport = rng.choice(string.ascii_uppercase) + "".join(rng.choices(string.digits, k=8))
            created = now - timedelta(seconds=rng.randint(3600, 30 * 86400))
            office = offices[rng.choices(office_codes, office_weights)[0]]
            app_id = first_app + i
            apps.append(
                {
                    **{k: app_row[k] for k in ("definition_id", "status", "workflow_state", "state_format")},
                    "id": app_id,
                    "reference": reference,
                    "kitas_type": kind,
                    "index_code": index,
                    "office_id": office,
                    "applicant_id": people["applicant"].id,
                    "applicant_name": name,
                    "name_search": name_form(name),
                    "passport_number": passport,
                    "version": 1,
                    "created_at": created,
                    "updated_at": created,
                    "audit_seq": 0,
                    "audit_hash": GENESIS_HASH,
                }
            )
            if office == offices["SBY"] and "reference" not in sample and i >= cases_count // 2:
                sample = {"reference": reference, "passport": passport.lower(), "rare_name": name.lower()}
            for n, (element, role, lane, title) in enumerate(rng.sample(TASKS, per_case)):
                opened = created + timedelta(hours=n)
                claimed = rng.random() < 0.2
                due = now + timedelta(hours=rng.randint(-20 * 24, 5 * 24))
                tasks.append(
                    {
                        "id": first_task + len(tasks),
                        "application_id": app_id,
                        "task_id": f"{app_id:08x}-0000-4000-8000-{n:012x}",
                        "element_id": element,
                        "name": title,
                        "lane": lane,
                        "role": role,
                        "kitas_type": kind,
                        "index_code": index,
                        "office_id": office,
                        "created_at": opened,
                        "due_at": due,
                        "escalated_at": due if due <= now else None,
                        "claimed_by_id": rng.choice(claimers) if claimed and role == "verifier" else None,
                        "claimed_at": opened if claimed and role == "verifier" else None,
                    }
                )
        sample["common_name"] = LAST[0].lower()[:5]
        db.session.remove()
        _bulk(db, Application.__table__, apps)
        _bulk(db, HumanTask.__table__, tasks)
        # As autovacuum would have by now: statistics, and the visibility map that index-only scans need.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE"))
        facts = {
            "cases": cases_count + 1,
            "human_task_rows": len(tasks) + len(template.tasks),
            "verifier_open_tasks": sum(1 for t in tasks if t["role"] == "verifier"),
            "verifier_open_tasks_of_her_offices": sum(
                1
                for t in tasks
                if t["role"] == "verifier" and t["office_id"] in {offices[c] for c in WORKS_IN["verifier"]}
            ),
            "offices": OFFICE_SHARES,
            "seed_seconds": round(time.perf_counter() - started, 1),
        }
        db.session.remove()
        verifier = db.session.get(User, people["verifier"].id)
        assert verifier is not None
    return {"facts": facts, "people": people}, sample


def _offices(db: Any, office_model: Any) -> dict[str, int]:
    """The offices of ``workflows/offices.json`` (added if ``kitas init`` did not): code -> id."""
    listed = json.loads((ROOT / "workflows" / "offices.json").read_text(encoding="utf-8"))["offices"]
    known = {o.code: o.id for o in db.session.scalars(select(office_model))}
    for entry in listed:
        if entry["code"] not in known:
            fields = {k: entry[k] for k in ("code", "name", "city", "address", "time_zone", "opens", "closes")}
            row = office_model(**fields, working_days=",".join(map(str, entry["working_days"])), active=True)
            db.session.add(row)
            db.session.flush()
            known[row.code] = row.id
    db.session.commit()
    return known


def _bulk(db: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` fast: COPY on PostgreSQL, executemany in batches on SQLite."""
    if not rows:
        return
    if db.engine.dialect.name == "postgresql":
        columns = list(rows[0])
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            raw.commit()
        finally:
            raw.close()
        return
    with db.engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            conn.execute(insert(table), rows[start : start + 20_000])


# -- at the database ---------------------------------------------------------------------------------


def database_times(app: Any, people: dict[str, Any], named: dict[str, tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """Per view: the statements the inbox service runs for its first page, run again under EXPLAIN ANALYZE
    (PostgreSQL) or timed (SQLite)."""
    from kitas.extensions import db
    from kitas.models import User
    from kitas.services.cases import inbox

    found: dict[str, Any] = {}
    with app.test_request_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        for name, (who, args) in named.items():
            user = db.session.get(User, people[who].id)
            assert user is not None
            query, problems = inbox.parse_query(args)
            assert not problems, problems
            inbox.officer_inbox(user, query)  # warm: the caches of names and definitions
            captured: list[tuple[str, Any]] = []

            def keep(
                conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool, into: Any = captured
            ) -> None:
                into.append((statement, parameters))

            event.listen(engine, "before_cursor_execute", keep)
            try:
                result = inbox.officer_inbox(user, query)
            finally:
                event.remove(engine, "before_cursor_execute", keep)
            statements = [
                _explain(engine, sql, params, postgres)
                for sql, params in captured
                if sql.lstrip().upper().startswith("SELECT")
            ]
            found[name] = {
                "args": args,
                "rows_on_page": len(result.page.items),
                "total": result.page.total,
                "db_ms": round(sum(s["ms"] for s in statements), 2),
                "statements": statements,
            }
            db.session.remove()
    return found


def _explain(engine: Any, sql: str, params: Any, postgres: bool) -> dict[str, Any]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if postgres:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0][0]
            nodes: list[str] = []
            indexes: set[str] = set()
            _walk(plan["Plan"], nodes, indexes)
            return {
                "ms": round(plan["Planning Time"] + plan["Execution Time"], 2),
                "planning_ms": round(plan["Planning Time"], 2),
                "execution_ms": round(plan["Execution Time"], 2),
                "nodes": nodes,
                "indexes": sorted(indexes),
                "sql": " ".join(sql.split())[:160],
            }
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        details = [row[-1] for row in cursor.fetchall()]
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        return {
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "plan": details,
            "sql": " ".join(sql.split())[:160],
        }
    finally:
        raw.close()


def _walk(node: dict[str, Any], nodes: list[str], indexes: set[str]) -> None:
    nodes.append(node["Node Type"])
    if "Index Name" in node:
        indexes.add(node["Index Name"])
    for child in node.get("Plans", []):
        _walk(child, nodes, indexes)


# -- end to end ------------------------------------------------------------------------------------------


def end_to_end(
    port: int,
    sessions: dict[str, dict[str, str]],
    named: dict[str, tuple[str, dict[str, str]]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Each view's page through gunicorn: warm up, then ``--clients`` clients for ``--seconds``."""
    from bench.http import Client, drive

    found: dict[str, Any] = {}
    for name, (who, params) in named.items():
        path = "/officer/" + ("?" + urlencode(params) if params else "")
        status, body = Client(port, sessions[who]).request("GET", path)
        rendered = status == 200 and (b'data-testid="inbox"' in body or b'data-testid="inbox-empty"' in body)
        drive(port, path, sessions[who], args.clients, args.warmup)
        results, wall = drive(port, path, sessions[who], args.clients, args.seconds)
        ordered = sorted(seconds for seconds, _ in results)
        errors = sum(1 for _, s in results if s != 200) + (0 if rendered else 1)
        found[name] = {
            "path": path,
            "requests": len(results),
            "p50_ms": round(percentile(ordered, 0.5) * 1000, 1),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "errors": errors,
            "requests_per_second": round(len(results) / wall, 1),
        }
    return found


def measure(url: str, label: str, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Build one database, seed it, and measure every view at the database and through gunicorn."""
    from app import create_app
    from bench.http import sign_in
    from bench.processes import fresh_postgres_app

    port = free_port()
    env = {
        "KITAS_DATABASE_URL": url,
        "KITAS_SECRET_KEY": secrets.token_hex(32),
        "KITAS_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(32),
        "KITAS_EMBEDDED_SCHEDULER": "0",
        "KITAS_UPLOAD_DIR": str(tmp / "uploads"),
        "KITAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(env)
    log(f"{label}: building the database")
    app = fresh_postgres_app(url) if label == "postgresql" else create_app()
    seeded, sample = prepare(app, args.cases, args.tasks_per_case, random.Random(args.seed))
    log(f"{label}: seeded {seeded['facts']} ")
    named = views(sample)
    log(f"{label}: database times of {len(named)} views")
    at_database = database_times(app, seeded["people"], named)
    with app.app_context():
        from kitas.extensions import db

        db.engine.dispose()
    server = None
    try:
        server = start_gunicorn(port, WORKERS, env, tmp / f"gunicorn-{label}.log")
        sessions = {who: sign_in(port, seeded["people"][who]) for who in ("verifier", "supervisor", "admin")}
        log(f"{label}: pages through gunicorn")
        pages = end_to_end(port, sessions, named, args)
    finally:
        stop(server)
    views_report = {
        name: {
            "args": at_database[name]["args"],
            "total": at_database[name]["total"],
            "rows_on_page": at_database[name]["rows_on_page"],
            "db_ms": at_database[name]["db_ms"],
            "p95_ms": pages[name]["p95_ms"],
            "p50_ms": pages[name]["p50_ms"],
            "requests": pages[name]["requests"],
            "errors": pages[name]["errors"],
            "statements": at_database[name]["statements"] if args.plans else _short(at_database[name]["statements"]),
        }
        for name in named
    }
    slowest_db = max(views_report.items(), key=lambda item: item[1]["db_ms"])
    slowest_p95 = max(views_report.items(), key=lambda item: item[1]["p95_ms"])
    return {
        **seeded["facts"],
        "max_db_ms": {"view": slowest_db[0], "ms": slowest_db[1]["db_ms"]},
        "max_p95_ms": {"view": slowest_p95[0], "ms": slowest_p95[1]["p95_ms"]},
        "meets_targets": all(v["db_ms"] < TARGET_DB_MS and v["p95_ms"] < TARGET_P95_MS for v in views_report.values()),
        "errors": sum(v["errors"] for v in views_report.values()),
        "views": views_report,
    }


def _short(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per statement: its time, and the indexes (PostgreSQL) or plan lines (SQLite) it used."""
    return [{k: v for k, v in s.items() if k in ("ms", "indexes", "plan", "sql")} for s in statements]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--tasks-per-case", type=int, default=3, choices=range(1, len(TASKS) + 1))
    parser.add_argument("--pg-url", default=os.environ.get("KITAS_BENCH_POSTGRES_URL"), help="its schema is dropped")
    parser.add_argument("--no-sqlite", action="store_true", help="measure PostgreSQL only")
    parser.add_argument("--seconds", type=float, default=3.0, help="measured seconds per view")
    parser.add_argument("--warmup", type=float, default=0.5)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--plans", action="store_true", help="report every plan node, not only the indexes")
    parser.add_argument("--smoke", action="store_true", help="a tiny run: 300 cases, short measurements")
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.seconds, args.warmup = 300, 0.3, 0.1
    load_before = round(os.getloadavg()[0], 2)
    report: dict[str, Any] = {
        "targets": {"db_ms_below": TARGET_DB_MS, "p95_ms_below": TARGET_P95_MS, "on": "postgresql"},
        "server": f"gunicorn, {WORKERS} sync workers, scheduler not embedded; {args.clients} clients",
        "seconds_per_view": args.seconds,
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="kitas-bench-inbox-") as tmp:
        if not args.no_sqlite:
            report["databases"]["sqlite"] = measure(f"sqlite:///{Path(tmp) / 'inbox.db'}", "sqlite", Path(tmp), args)
        if args.pg_url:
            report["databases"]["postgresql"] = measure(args.pg_url, "postgresql", Path(tmp), args)
    report["environment"] = {**machine(), "load_average_1m_before": load_before}
    postgres = report["databases"].get("postgresql")
    report["ok"] = all(d["errors"] == 0 for d in report["databases"].values()) and (
        postgres is None or postgres["meets_targets"]
    )
    print(json.dumps(report, indent=2, ensure_ascii=False))
    sys.exit(0 if all(d["errors"] == 0 for d in report["databases"].values()) else 1)


if __name__ == "__main__":
    main()
