"""Benchmark: throughput and latency of the busiest pages under gunicorn, next to a trivial page.

Run it with ``.venv/bin/python bench/http.py`` (``--cases N``, ``--seconds S``, ``--clients C``); it takes
about a minute: 10 s of measurement and 2 s of warm-up per page, ~10 s to build the database.

What it does: builds a fresh SQLite database in a temporary directory (migrations, roles, every
diagram, as ``kitas init`` does), seeds ``--cases`` worker cases (default 10,000) over ~2,000
applicants with ``bench/http_seed.py`` (a real case per stage, copied in bulk), starts
``gunicorn -w 2 'app:create_app()'`` on a free port of 127.0.0.1 with the scheduler off, signs in
the measured applicant (20 cases) and the measured verifier (thousands of open tasks) through
``POST /auth/login``, warms every page up, then drives ``--clients`` concurrent clients (threads, each
with its own connection and cookies) at each page for ``--seconds`` in all, split into ``--rounds``
slices that take turns (ping, dashboard, status, inbox, ping, ...), so that a burst of load from
another program on the shared machine hits every page alike instead of one:

* ``/ping``: reads one row; the yardstick;
* ``/applications/``: the applicant's dashboard;
* ``/applications/<reference>``: the status page of a finished case with a long timeline;
* ``/officer/``: the first page of the verifier's inbox.

Per page: requests per second, p50/p95 latency in ms, errors (any answer but 200, counted and
never left out), the SQL statements one request runs (counted in-process beforehand) and the
throughput ratio to ``/ping`` (target: at least 0.5). The clients share the machine with the
server: their own CPU time per request is reported so a client-bound figure shows. The ratio is
the figure to track; absolute numbers move with the load of the machine (the requests per second of
each round are listed to show how much). One JSON object goes to stdout, progress to stderr;
gunicorn is stopped and the directory removed even on failure. The exit status is 1 when any page
answered with an error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# This file is called http.py: keep bench/ off the path so ``import http`` finds the standard library.
sys.path[:] = [p for p in sys.path if Path(p or os.getcwd()).resolve() != _HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import pyotp  # noqa: E402
from flask import Flask  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.http_seed import Person, prepare_database  # noqa: E402

TARGET_RATIO = 0.5
_CSRF = re.compile(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
WORKERS = 2
MARKERS = {
    "ping": '"ok"',
    # The signed-in layout (in any language: the bench's people have no language, so read Indonesian).
    "layout": 'data-testid="signed-in-as"',
    "dashboard": 'data-testid="applications"',
    "status": 'data-testid="timeline"',
    "inbox": 'data-testid="inbox"',
}
Result = tuple[float, int | str]  # (seconds, HTTP status or exception name)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Client:
    """One benchmark client: its own connection (kept alive when the server allows) and its own cookies."""

    def __init__(self, port: int, cookies: dict[str, str] | None = None) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, body: str | None = None, form: bool = False) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()  # the next request opens a new connection
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.update({m.key: m.value for m in SimpleCookie(header).values()})
        return response.status, data


def sign_in(port: int, person: Person) -> dict[str, str]:
    """The cookies of a session signed in through the login form, CSRF token included."""
    client = Client(port)
    status, body = client.request("GET", "/auth/login")
    token = _CSRF.search(body)
    if status != 200 or token is None:
        raise RuntimeError(f"GET /auth/login answered {status}" + (" without a csrf_token" if not token else ""))
    form = {"csrf_token": (token.group(1) or token.group(2)).decode(), "email": person.email}
    status, body = client.request("POST", "/auth/login", urlencode({**form, "password": person.password}), True)
    if status not in (302, 303):
        raise RuntimeError(f"signing in as {person.email} failed: POST /auth/login answered {status}")
    if person.totp_secret:  # an officer: the code step, with the code one step ahead (the in-process
        # count of sql_per_request already used the current one, and a code is accepted once)
        status, body = client.request("GET", "/auth/code")
        token = _CSRF.search(body)
        if status != 200 or token is None:
            raise RuntimeError(f"GET /auth/code answered {status}" + (" without a csrf_token" if not token else ""))
        code = totp_code(person.totp_secret, steps_ahead=1)
        form = {"csrf_token": (token.group(1) or token.group(2)).decode(), "code": code}
        status, body = client.request("POST", "/auth/code", urlencode(form), True)
        if status not in (302, 303):
            raise RuntimeError(f"the code step of {person.email} failed: POST /auth/code answered {status}")
    return client.cookies


def totp_code(secret: str, steps_ahead: int = 0) -> str:
    """What the officer's authenticator app shows now (or ``steps_ahead`` 30-second steps later)."""
    totp = pyotp.TOTP(secret)
    return totp.at(time.time() + steps_ahead * totp.interval)


def signed_in_test_client(app: Any, person: Person) -> Any:
    """A test client signed in through the sign-in pages (password, then the code step of an officer)."""
    client = app.test_client()

    def token(path: str) -> str:
        found = _CSRF.search(client.get(path).data)
        if found is None:
            raise RuntimeError(f"{path} shows no csrf_token")
        return (found.group(1) or found.group(2)).decode()

    answer = client.post(
        "/auth/login", data={"csrf_token": token("/auth/login"), "email": person.email, "password": person.password}
    )
    if answer.status_code not in (302, 303):
        raise RuntimeError(f"signing in as {person.email} failed: POST /auth/login answered {answer.status_code}")
    if person.totp_secret:
        answer = client.post(
            "/auth/code", data={"csrf_token": token("/auth/code"), "code": totp_code(person.totp_secret)}
        )
        if answer.status_code not in (302, 303):
            raise RuntimeError(f"the code step of {person.email} failed: POST /auth/code answered {answer.status_code}")
    return client


def drive(port: int, path: str, cookies: dict[str, str], clients: int, seconds: float) -> tuple[list[Result], float]:
    """``clients`` threads requesting ``path`` until ``seconds`` have passed; all results and the wall time."""
    deadline = time.perf_counter() + seconds

    def one_client() -> list[Result]:
        client, results = Client(port, cookies), []
        while (start := time.perf_counter()) < deadline:
            try:
                status: int | str = client.request("GET", path)[0]
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            results.append((time.perf_counter() - start, status))
        return results

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(one_client) for _ in range(clients)]
        results = [r for f in futures for r in f.result()]
    return results, time.perf_counter() - started


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Page:
    """A page under measurement: where it is, who asks for it, and what it answered."""

    path: str
    cookies: dict[str, str]
    marker: str  # a bit of markup that shows it rendered what it should (a 200 could be an empty page)
    first_answer: tuple[int, bytes] = (0, b"")
    results: list[Result] = field(default_factory=list)
    wall: float = 0.0
    client_cpu: float = 0.0
    rounds: list[float] = field(default_factory=list)  # requests per second of each round

    def summary(self) -> dict[str, Any]:
        """Requests per second, latency percentiles and errors (every answer but 200, by kind)."""
        ordered = sorted(seconds for seconds, _ in self.results)
        errors = Counter(str(s) for _, s in self.results if s != 200)
        status, body = self.first_answer
        report = {
            "path": self.path,
            "requests": len(self.results),
            "requests_per_second": round(len(self.results) / self.wall, 1),
            "requests_per_second_by_round": self.rounds,
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 1),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
            "errors": sum(errors.values()),
            "error_kinds": dict(errors),
            "renders_expected_content": status == 200 and self.marker.encode() in body,
            "client_cpu_ms_per_request": round(self.client_cpu * 1000 / max(1, len(self.results)), 2),
        }
        if status != 200:
            report["first_answer"] = f"{status}: {body[:200].decode('utf-8', 'replace')}"
        return report


def measure(port: int, pages: dict[str, Page], args: argparse.Namespace) -> None:
    """Check and warm up every page, then measure them in rounds that take turns."""
    for page in pages.values():
        page.first_answer = Client(port, page.cookies).request("GET", page.path)
        log(f"warming up {page.path} for {args.warmup} s")
        drive(port, page.path, page.cookies, args.clients, args.warmup)
    for number in range(args.rounds):
        log(f"round {number + 1}/{args.rounds}: {args.seconds / args.rounds:g} s per page, {args.clients} clients")
        for page in pages.values():
            cpu = time.process_time()
            results, wall = drive(port, page.path, page.cookies, args.clients, args.seconds / args.rounds)
            page.client_cpu += time.process_time() - cpu
            page.results.extend(results)
            page.wall += wall
            page.rounds.append(round(len(results) / wall, 1))


def sql_per_request(
    app: Flask, pages: dict[str, str], people: dict[str, Person], owner: dict[str, str]
) -> dict[str, Any]:
    """How many SQL statements one request of each page runs, counted in-process with the test client."""
    from kitas.extensions import db

    counted: dict[str, Any] = {}
    statements: list[str] = []
    with app.app_context():  # only to reach the engine: each request must push its own context
        engine = db.engine
    signed_in = {role: signed_in_test_client(app, people[role]) for role in set(owner.values())}
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    for name, path in pages.items():
        client = signed_in[owner[name]] if name in owner else app.test_client()
        client.get(path)  # fills the caches of the process, as the warm-up does under gunicorn
        statements.clear()
        status = client.get(path).status_code
        counted[name] = len(statements) if status == 200 else f"answered {status}"
    engine.dispose()
    return counted


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """gunicorn with WORKERS sync workers; returns once ``/ping`` answers (or raises with its log)."""
    command = [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "app:create_app()"]
    with log_path.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            if Client(port).request("GET", "/ping")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer /ping in 60 s:\n{log_path.read_text()[-2000:]}")


def stop(server: subprocess.Popen[bytes] | None) -> None:
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def build_database(tmp: Path, args: argparse.Namespace) -> tuple[Flask, dict[str, Person], dict[str, Any]]:
    """The application on a fresh database with the cases seeded; the people by role and facts about it."""
    from app import create_app

    app = create_app()
    with app.app_context():
        people, facts = prepare_database(args.cases, args.applicants, random.Random(args.seed), log)
    facts["database_bytes"] = (tmp / "bench.db").stat().st_size
    return app, people, facts


def run(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    env = {
        "KITAS_DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "KITAS_SECRET_KEY": secrets.token_hex(32),
        "KITAS_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(32),
        "KITAS_EMBEDDED_SCHEDULER": "0",
        "KITAS_UPLOAD_DIR": str(tmp / "uploads"),
        "KITAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    os.environ.update(env)  # the seeding app reads the same settings as the served one
    log(f"seeding {args.cases} cases in {tmp}")
    app, people, facts = build_database(tmp, args)
    size_mb = facts["database_bytes"] / 1e6
    log(f"seeded in {facts['seconds']} s; database {size_mb:.0f} MB; audit chain {facts['audit_chain']}")
    paths = {
        "ping": "/ping",
        "dashboard": "/applications/",
        "status": f"/applications/{facts['status_page_reference']}",
        "inbox": "/officer/",
        # A second yardstick, not a target: a signed-in page with the layout and no query of its own
        # shows how much of a page's cost is the sign-in, the session and the layout every page pays.
        # (/types was it until the type pages read the deployed diagrams and fee table; the guide's first
        # question reads only its data file.)
        "layout": "/guide",
    }
    owner = {"dashboard": "applicant", "status": "applicant", "inbox": "verifier", "layout": "applicant"}
    sql = sql_per_request(app, paths, people, owner)
    server = None
    try:
        server = start_gunicorn(port, env, tmp / "gunicorn.log")
        sessions = {role: sign_in(port, people[role]) for role in ("applicant", "verifier")}
        pages = {name: Page(path, sessions.get(owner.get(name, ""), {}), MARKERS[name]) for name, path in paths.items()}
        measure(port, pages, args)
        if any(s != 200 for page in pages.values() for _, s in page.results):
            log("gunicorn log (tail):\n" + (tmp / "gunicorn.log").read_text()[-3000:])
    finally:
        stop(server)
    return report(
        {name: {**page.summary(), "sql_statements_per_request": sql[name]} for name, page in pages.items()}, facts, args
    )


def report(pages: dict[str, Any], facts: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    ping = pages["ping"]["requests_per_second"]
    layout = pages["layout"]["requests_per_second"]
    for name, page in pages.items():
        if name == "ping":
            continue
        page["ratio_to_ping"] = round(page["requests_per_second"] / ping, 2)
        if name != "layout":
            page["ratio_to_layout"] = round(page["requests_per_second"] / layout, 2)
            page["meets_target"] = page["errors"] == 0 and page["ratio_to_ping"] >= TARGET_RATIO
    with_errors = [name for name, page in pages.items() if page["errors"]]
    return {
        "pages": pages,
        "ratio_target": f">= {TARGET_RATIO} of /ping's requests per second",
        "pages_with_errors": with_errors,
        "ok": not with_errors and all(p.get("meets_target", True) for p in pages.values()),
        "cases": args.cases,
        "cases_per_stage": facts["cases_per_stage"],
        "applicants": args.applicants,
        "database_bytes": facts["database_bytes"],
        "audit_chain": facts["audit_chain"],
        "seed_seconds": facts["seconds"],
        "server": f"gunicorn, {WORKERS} sync workers, SQLite (WAL), scheduler not embedded",
        "clients": args.clients,
        "seconds_per_page": args.seconds,
        "rounds": args.rounds,
        "warmup_seconds_per_page": args.warmup,
        "environment": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_before": args.load_before,  # the machine is shared: how busy it was already
            "load_average_1m_after": round(os.getloadavg()[0], 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--applicants", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=5, help="slices of --seconds that take turns between pages")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42, help="random seed of the case mix")
    args = parser.parse_args()
    args.load_before = round(os.getloadavg()[0], 2)
    if args.cases < 20 or args.applicants < 2:
        parser.error("use at least 20 cases and 2 applicants")
    with tempfile.TemporaryDirectory(prefix="kitas-bench-http-") as tmp:
        result = run(Path(tmp), args)
    print(json.dumps(result, indent=2))
    sys.exit(0 if not result["pages_with_errors"] else 1)


if __name__ == "__main__":
    main()
