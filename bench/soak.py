"""Soak and fault test: many people driving worker cases over HTTP while a scheduler is killed and
PostgreSQL restarts; is anything lost, duplicated or broken?

Run it with ``.venv/bin/python bench/soak.py --pg-url postgresql://user@host/db`` (the database's
public schema is dropped and rebuilt: never point it at data you keep). It runs ``--seconds``
(default 180) plus set-up and a drain of up to two minutes.

What it does: builds the schema with the real migrations, deploys every diagram and the
``timer_at`` scenario, creates ``--users`` people (default 100: applicants, one sponsor, verifiers
and supervisors, addresses confirmed, passwords set), starts an SMTP sink, ``gunicorn -w 4`` and
two ``kitas scheduler`` processes, and starts ``--timers`` cases whose date timers fall due over
the run (so timers fire across the faults). Then each person is a thread with its own cookies:

* applicants sign in, start a worker case, fill both forms, upload the six documents, pay the fee in
  the sandbox bank (the schedulers deliver its signed notice to gunicorn), book biometrics, and start
  the next case once the permit is issued;
* the sponsor confirms every guarantee asked of it; verifiers verify and confirm biometrics;
  supervisors approve. Every form is fetched first (its CSRF token) and posted as a browser does.

A 503 (or a refused connection) is retried after a second, as a person would press reload. A third
of the way in, one scheduler is killed with SIGKILL and started again; at two thirds PostgreSQL is
restarted (``pg_ctlcluster <version> main restart``, as root; ``--no-postgres-restart`` skips it).
After the run the outbox, the provider's notices and the due timers are drained, and it reports:
cases started and finished; requests by status; 5xx inside and outside the outage window (the
restart, plus ``OUTAGE_GRACE`` seconds) and any 500 at all; timers fired, lost, duplicated and
their lateness; e-mails queued, sent, received by the SMTP sink, still queued, lost, and sent twice
(same Message-ID: delivery is at least once); the audit chain's verdict (``kitas audit verify``).
One JSON object goes to stdout, progress to stderr. The exit status is 1 when something was lost,
a timer fired twice, the chain is broken, a 500 came, or a 5xx came outside the outage window.
``--smoke``: 8 people, 12 s, no PostgreSQL restart.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
_HERE = Path(__file__).resolve().parent
# bench/http.py would shadow the standard library's http: keep bench/ itself off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))

import pyotp  # noqa: E402
import requests  # noqa: E402

from bench.processes import (  # noqa: E402
    free_port,
    fresh_postgres_app,
    kill,
    log,
    machine,
    percentile,
    start_gunicorn,
    start_scheduler,
    stop,
    timer_firings,
    wait_for,
)
from tests.web.pages import flatten_form, good_documents  # noqa: E402
from tests.worker_data import APPLICANT_DATA, EMPLOYMENT_DATA  # noqa: E402

PASSWORD = "soak-" + secrets.token_hex(8)
OUTAGE_GRACE = 5.0  # seconds after the restart command returned that still count as the outage
RETRY_FOR = 90.0  # a person keeps retrying a 503 this long
CLOSED = ("Permit issued", "Rejected", "Expired", "Sponsorship declined")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Person:
    """Who signs in."""

    role: str
    email: str
    name: str
    sponsor: str = ""  # an applicant's employer


@dataclass
class Record:
    """Every answer the simulated people got: (start, end, method, path kind, status)."""

    rows: list[tuple[float, float, str, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    events: dict[str, Any] = field(default_factory=dict)

    def add(self, row: tuple[float, float, str, str, int]) -> None:
        with self.lock:
            self.rows.append(row)


def _kind(path: str) -> str:
    """A path with its references and ids replaced, to count requests by page."""
    path = path.split("?", 1)[0]
    path = re.sub(r"/(WRK|T)-[0-9A-Z-]+", "/<ref>", path)
    return re.sub(r"/tasks/[0-9a-f-]{8,}", "/tasks/<id>", path)


class Client:
    """One person's browser: cookies, CSRF tokens, and reload on a 503."""

    def __init__(self, base: str, record: Record, stop_at: float):
        self.base, self.record, self.stop_at = base, record, stop_at
        self.session = requests.Session()

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One request (redirects followed, each hop recorded); a 503 or refused connection is retried."""
        deadline = time.monotonic() + RETRY_FOR
        while True:
            began = time.monotonic()
            try:
                response = self.session.request(method, self.base + path, timeout=60, **kwargs)
            except requests.RequestException:
                self.record.add((began, time.monotonic(), method, _kind(path), 0))
            else:
                ended = time.monotonic()
                hops = [*response.history, response]
                for index, hop in enumerate(hops):
                    hop_method = method if index == 0 else "GET"
                    self.record.add((began, ended, hop_method, _kind(hop.url.replace(self.base, "")), hop.status_code))
                if response.status_code != 503:
                    return response
            if time.monotonic() > deadline:
                raise RuntimeError(f"{method} {path}: still unavailable after {RETRY_FOR} s")
            time.sleep(1.0)

    def csrf(self, html: str) -> str:
        """The CSRF token of a page's form."""
        found = _CSRF.search(html)
        if not found:
            raise RuntimeError("no CSRF token on the page")
        return found.group(1)

    def think(self) -> None:
        """A person reads the page before the next click."""
        time.sleep(random.uniform(0.3, 1.2))


def sign_in(client: Client, person: Person) -> None:
    """Sign in through the login form (the one place a second factor would be added)."""
    page = client.call("GET", "/auth/login")
    answer = client.call(
        "POST",
        "/auth/login",
        data={"email": person.email, "password": PASSWORD, "csrf_token": client.csrf(page.text)},
    )
    answer = second_factor(client, person, answer)
    if 'data-testid="signed-in-as"' not in answer.text:
        raise RuntimeError(f"{person.email} could not sign in ({answer.status_code})")


def second_factor(client: Client, person: Person, answer: requests.Response) -> requests.Response:
    """The sign-in's code step, for the officers (their app is the test factory's, OFFICER_TOTP_SECRET)."""
    if not answer.url.split("?")[0].endswith("/auth/code"):
        return answer
    from tests.factories import OFFICER_TOTP_SECRET

    code = pyotp.TOTP(OFFICER_TOTP_SECRET).now()
    return client.call("POST", "/auth/code", data={"code": code, "csrf_token": client.csrf(answer.text)})


def post_form(client: Client, path: str, html: str, data: dict[str, Any]) -> requests.Response:
    """Post a task form as the browser does: text as text, booleans as true/false, rows flattened, files."""
    fields, files = flatten_form(data)
    fields = {"action": "submit", "csrf_token": client.csrf(html), **fields}
    return client.call("POST", path, data=fields, files=files or {"_": ("", b"")})


def sponsor_email(index: int) -> str:
    """The address of the ``index``-th sponsor (an applicant's employer)."""
    return f"hr@soak-employer{index}.example"


def _working_day(after_days: int) -> str:
    day = date.today() + timedelta(days=after_days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day.isoformat()


def applicant_form(html: str, person: Person) -> dict[str, Any] | None:
    """The answers to whichever applicant step the page shows (None: not a step we know)."""
    if 'data-testid="check-answers"' in html:  # "check your answers": confirm them as they are
        return {}
    if 'name="full_name"' in html:
        return {**APPLICANT_DATA, "email": person.email, "full_name": person.name}
    if 'name="employer_name"' in html:
        return {**EMPLOYMENT_DATA, "sponsor_email": person.sponsor}
    if 'name="passport_scan"' in html:
        return good_documents()
    if 'name="appointment_slot"' in html:  # the first free time of the office (seeded)
        found = re.search(r'name="appointment_slot" id="slot-\d+" value="(\d+)"', html)
        return {"appointment_slot": found.group(1)} if found else None
    if 'name="correction_note"' in html:
        return {"correction_note": "Uploaded a clearer scan."}
    return None


def officer_form(html: str) -> dict[str, Any] | None:
    """The decision for whichever officer step the page shows."""
    if 'name="verification_decision"' in html:
        return {"verification_decision": "approve", "interview_required": False}
    if 'name="approval_decision"' in html:
        return {"approval_decision": "approve"}
    if 'name="biometrics_captured"' in html:
        return {"appointment_outcome": "attended", "biometrics_captured": True}
    if 'name="interview_outcome"' in html:
        return {"interview_date": _working_day(3), "interview_outcome": "pass"}
    return None


def pay(client: Client, reference: str, paid: set[str]) -> None:
    """Pay the fee in the sandbox bank (once per billing code; the bank's notice comes by itself)."""
    page = client.call("GET", f"/payments/{reference}").text
    found = re.search(r'data-testid="billing-code">\s*(\d{15})', page)
    if not found or found.group(1) in paid:
        return
    code = found.group(1)
    confirm = client.call("GET", f"/sandbox-bank/confirm?code={code}").text
    amount = re.search(r'name="amount" value="(\d+)"', confirm)
    if amount is None:
        return
    client.think()
    client.call(
        "POST", "/sandbox-bank/pay", data={"code": code, "amount": amount.group(1), "csrf_token": client.csrf(confirm)}
    )
    paid.add(code)


def run_applicant(client: Client, person: Person, counts: Counter[str]) -> None:
    """Start a case, do every applicant step until the case closes, start the next one."""
    sign_in(client, person)
    while time.monotonic() < client.stop_at:
        dashboard = client.call("GET", "/applications/").text
        started = client.call("POST", "/applications/new/worker", data={"csrf_token": client.csrf(dashboard)})
        found = re.search(r"/applications/([A-Z0-9-]+)", started.url)
        if not found:
            counts["start_refused"] += 1
            client.think()
            continue
        reference, paid = found.group(1), set[str]()
        counts["cases_started"] += 1
        while time.monotonic() < client.stop_at:
            client.think()
            answer = client.call("GET", f"/applications/{reference}/next")
            path = answer.url.replace(client.base, "")
            if "/tasks/" in path:
                data = applicant_form(answer.text, person)
                if data is None:
                    counts["unknown_step"] += 1
                    continue
                posted = post_form(client, path, answer.text, data)
                if posted.status_code >= 400:
                    counts[f"form_refused_{posted.status_code}"] += 1
            elif path.startswith("/payments/"):
                pay(client, reference, paid)
            else:
                state = re.search(r'data-testid="case-status">([^<]+)<', answer.text)
                if state and state.group(1).strip() in CLOSED:
                    counts[f"closed: {state.group(1).strip()}"] += 1
                    break


def run_sponsor(client: Client, person: Person, counts: Counter[str]) -> None:
    """Confirm every guarantee on the first page of requests, again and again."""
    sign_in(client, person)
    while time.monotonic() < client.stop_at:
        page = client.call("GET", "/sponsor/").text
        tasks = re.findall(r'href="(/sponsor/applications/[^"]+/tasks/[^"]+)"', page)
        if not tasks:
            client.think()
            continue
        for path in tasks:
            form = client.call("GET", path)
            if 'name="sponsor_decision"' in form.text:
                post_form(client, path, form.text, {"sponsor_decision": "confirm"})
                counts["guarantees_confirmed"] += 1


def run_officer(client: Client, person: Person, counts: Counter[str]) -> None:
    """Open a random task of the inbox's first page, start working on it and decide it (another officer may
    be first)."""
    sign_in(client, person)
    while time.monotonic() < client.stop_at:
        page = client.call("GET", "/officer/").text
        tasks = sorted(set(re.findall(r'href="(/officer/cases/[^"]+/tasks/[^"]+)"', page)))
        if not tasks:
            client.think()
            continue
        path = random.choice(tasks)
        form = client.call("GET", path)
        if form.status_code == 200 and 'data-testid="start-working"' in form.text:
            # "Start working on this": the claim; it answers with the task page (the form, or who holds it).
            form = client.call("POST", path + "/claim", data={"csrf_token": client.csrf(form.text)})
            counts["claims" if 'data-testid="claimed-by-me"' in form.text else "claims_lost"] += 1
        if form.status_code == 200 and 'data-testid="claimed-by-me"' not in form.text:
            continue  # another officer holds it: the form is read-only
        data = officer_form(form.text) if form.status_code == 200 else None
        if data is None:
            continue
        client.think()
        posted = post_form(client, path, form.text, data)
        counts["decisions" if posted.status_code < 400 else f"decision_refused_{posted.status_code}"] += 1


def people(count: int) -> list[Person]:
    """Applicants, a sponsor per 20 people, a verifier per 12 and a supervisor per 25."""
    sponsors, verifiers, supervisors = max(1, count // 20), max(1, count // 12), max(1, count // 25)
    applicants = max(1, count - sponsors - verifiers - supervisors)
    found = [Person("sponsor", sponsor_email(i), f"Soak Employer {i} HR") for i in range(sponsors)]
    found += [Person("verifier", f"verifier{i}@soak.example", f"Verifier {i}") for i in range(verifiers)]
    found += [Person("supervisor", f"supervisor{i}@soak.example", f"Supervisor {i}") for i in range(supervisors)]
    found += [
        Person("applicant", f"applicant{i}@soak.example", f"Applicant {i}", sponsor_email(i % sponsors))
        for i in range(applicants)
    ]
    return found


def seed(app: Any, persons: list[Person]) -> None:
    """Every diagram, the timer scenario, and the accounts (addresses confirmed, a password set)."""
    from sqlalchemy import select

    from kitas.extensions import app_clock, db
    from kitas.models import Office
    from kitas.services.deployments import deploy_all, deploy_path
    from tests.factories import make_office, make_slot, make_user

    with app.app_context():
        deploy_all(Path(app.config["KITAS_BPMN_DIR"]), Path(app.config["KITAS_FORMS_DIR"]))
        deploy_path(ROOT / "tests" / "data" / "timer_at.bpmn", ROOT / "tests" / "data")
        # The office cases fall back to: the first active one (synced by init), else one made here.
        office = db.session.scalars(select(Office).where(Office.active.is_(True)).order_by(Office.id)).first()
        office = office or make_office()
        for day in sorted({date.fromisoformat(_working_day(days)) for days in range(3, 12)}):
            # biometrics times on the coming working days, room for every applicant
            ten = datetime.combine(day, day_time(10), ZoneInfo(office.time_zone))
            make_slot(office, ten.astimezone(UTC), capacity=50)
        for person in persons:
            user = make_user(person.role, email=person.email, name=person.name, password=PASSWORD)
            user.email_verified_at = app_clock().now()
            db.session.commit()
        db.session.remove()


def start_timer_cases(app: Any, owner_email: str, count: int, spread: float) -> datetime:
    """Cases whose date timers fall due evenly over ``spread`` seconds from shortly after they are all
    started; returns the first due time."""
    from sqlalchemy import select

    from kitas.extensions import db
    from kitas.models import User
    from kitas.services import cases

    first_due = datetime.now(UTC) + timedelta(seconds=3 + 0.06 * count)
    step = spread / max(count - 1, 1)
    with app.app_context():
        owner = db.session.scalars(select(User).where(User.email == owner_email)).one()
        for index in range(count):
            cases.start_process(
                "timer_at",
                owner,
                kitas_type="test",
                index_code="T",
                data={"fired_count": 0, "fire_at": (first_due + timedelta(seconds=step * index)).isoformat()},
            )
        db.session.remove()
    return first_due


def restart_postgres() -> tuple[float, float, str]:
    """``pg_ctlcluster <version> main restart``; returns (began, ended, what was run or why not)."""
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".") if p.isdigit()])
    if not versions:
        return 0.0, 0.0, "skipped: no cluster under /etc/postgresql"
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    ended = time.monotonic()
    if done.returncode:
        return began, ended, f"failed ({done.returncode}): {done.stderr.strip()[:300]}"
    return began, ended, " ".join(command)


def chaos(args: argparse.Namespace, schedulers: list[Any], env: dict[str, str], tmp: Path, record: Record) -> None:
    """Kill the first scheduler a third of the way in and start it again; restart PostgreSQL at two thirds."""
    begun = time.monotonic()
    time.sleep(args.seconds / 3)
    kill(schedulers[0])
    record.events["scheduler_killed_at_s"] = round(time.monotonic() - begun, 1)
    log("scheduler 1 killed with SIGKILL")
    time.sleep(3)
    schedulers[0] = start_scheduler(env, tmp / "scheduler-1.log")
    log("scheduler 1 started again")
    if not args.postgres_restart:
        record.events["postgres_restart"] = "not asked for (--no-postgres-restart)"
        return
    time.sleep(max(0.0, begun + 2 * args.seconds / 3 - time.monotonic()))
    log("restarting PostgreSQL")
    began, ended, what = restart_postgres()
    record.events["postgres_restart"] = what
    record.events["outage"] = (began, ended + OUTAGE_GRACE)
    record.events["postgres_restart_seconds"] = round(ended - began, 1)
    log(f"PostgreSQL restart took {ended - began:.1f} s: {what}")


def drained(app: Any) -> bool:
    """True when no e-mail, provider notice, due timer or scenario timer is left to do."""
    from sqlalchemy import func, or_, select

    from kitas.extensions import db
    from kitas.models import Application, Notification, SandboxWebhook, Timer

    with app.app_context():
        try:
            now = datetime.now(UTC)
            left: int = (
                db.session.scalar(
                    select(func.count()).where(
                        Notification.channel.in_(("email", "sms")),
                        Notification.sent_at.is_(None),
                        Notification.gave_up_at.is_(None),
                    )
                )
                or 0
            )
            left += (
                db.session.scalar(
                    select(func.count()).where(
                        SandboxWebhook.delivered_at.is_(None), SandboxWebhook.gave_up_at.is_(None)
                    )
                )
                or 0
            )
            # Every scenario timer, due or not: the last ones fall due after the people stop (in the smoke
            # the spread outlasts the run), and one reported before its due time would count as lost.
            left += (
                db.session.scalar(
                    select(func.count())
                    .select_from(Timer)
                    .join(Application, Application.id == Timer.application_id)
                    .where(Timer.status == "pending", or_(Timer.due_at <= now, Application.kitas_type == "test"))
                )
                or 0
            )
            return left == 0
        except Exception:
            return False
        finally:
            db.session.remove()


def requests_report(record: Record) -> dict[str, Any]:
    """Requests by status, 5xx inside and outside the outage window, and any 500."""
    outage = record.events.get("outage")
    statuses = Counter(row[4] for row in record.rows)
    inside = outside = 0
    outside_examples: list[str] = []
    for began, ended, method, kind, status in record.rows:
        if status < 500 and status != 0:
            continue
        if outage and ended >= outage[0] and began <= outage[1]:
            inside += 1
        else:
            outside += 1
            if len(outside_examples) < 5:
                outside_examples.append(f"{status} {method} {kind}")
    latencies = sorted(ended - began for began, ended, *_ in record.rows)
    return {
        "total": len(record.rows),
        "by_status": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors_in_outage": inside,
        "server_errors_outside_outage": outside,
        "outside_examples": outside_examples,
        "status_500": statuses.get(500, 0),
        "status_503": statuses.get(503, 0),
        "latency_s": {"p50": round(percentile(latencies, 0.5), 3), "p95": round(percentile(latencies, 0.95), 3)},
    }


def data_report(app: Any, received: list[Any], first_due: datetime) -> dict[str, Any]:
    """Cases, timers, e-mails and the audit chain, read from the database and the SMTP sink."""
    from sqlalchemy import func, select

    from kitas.extensions import db
    from kitas.models import Application, Notification, Timer
    from kitas.services.audit import verify_chain

    with app.app_context():
        statuses = Counter(
            dict(
                db.session.execute(
                    select(Application.status, func.count())
                    .where(Application.kitas_type != "test")
                    .group_by(Application.status)
                ).all()
            )
        )
        timer_rows = db.session.execute(
            select(
                Timer.application_id,
                Timer.due_at,
                Timer.fired_at,
                Timer.status,
                Application.status.label("case_status"),
            )
            .join(Application, Application.id == Timer.application_id)
            .where(Application.kitas_type == "test")
        ).all()
        firings = timer_firings()
        worker_fired = db.session.scalar(
            select(func.count())
            .select_from(Timer)
            .join(Application, Application.id == Timer.application_id)
            .where(Application.kitas_type != "test", Timer.status == "fired")
        )
        emails = db.session.execute(
            select(Notification.id, Notification.sent_at, Notification.gave_up_at).where(
                Notification.channel == "email"
            )
        ).all()
        chain = verify_chain()
        db.session.remove()
    now = datetime.now(UTC)
    fired = [r for r in timer_rows if r.status == "fired"]
    lateness = sorted((r.fired_at - r.due_at).total_seconds() for r in fired)
    ids = Counter(str(message["Message-ID"]).split("@", 1)[0] + "@" for message in received)
    key = "<kitas-notification-{}@".format
    # Unsent and not given up: under the lease of a killed scheduler (sent once it runs out) or not yet due.
    queued = {key(row.id) for row in emails if row.sent_at is None and row.gave_up_at is None}
    return {
        "cases": {
            "started": sum(statuses.values()),
            "finished": statuses.get("permit_issued", 0),
            "by_status": dict(sorted(statuses.items())),
        },
        "timers": {
            "scheduled": len(timer_rows),
            "fired": len(fired),
            # Lost: due, and its case never went past it. A row the engine consumed inside another step
            # (a date already past when the case was restored) is "cancelled" with its case done.
            "lost": sum(1 for r in timer_rows if r.status != "fired" and r.due_at <= now and r.case_status != "done"),
            "done_without_fired_row": sum(1 for r in timer_rows if r.status != "fired" and r.case_status == "done"),
            "lost_examples": [
                f"case {r.application_id}: timer {r.status}, due {r.due_at.isoformat()}, case {r.case_status}"
                for r in timer_rows
                if r.status != "fired" and r.due_at <= now and r.case_status != "done"
            ][:5],
            "duplicated": sum(1 for r in timer_rows if firings.get(r.application_id, 0) > 1),
            "lateness_s": {
                "p50": round(percentile(lateness, 0.5), 3),
                "p95": round(percentile(lateness, 0.95), 3),
                "max": round(lateness[-1], 3) if lateness else 0.0,
            },
            "worker_case_timers_fired": worker_fired,  # their deadlines are days away: none should fire
        },
        "emails": {
            "queued": len(emails),
            "sent": sum(1 for r in emails if r.sent_at is not None),
            "given_up": sum(1 for r in emails if r.gave_up_at is not None),
            "received": sum(ids.values()),
            "still_queued": len(queued),
            "lost": len({key(row.id) for row in emails} - set(ids) - queued),
            # Sent again because a scheduler died (or the database went away) between the SMTP send and
            # recording it: delivery is at least once, and the repeat carries the same Message-ID, so mail
            # clients show it once. Reported, not counted as a problem: no outbox can avoid it over SMTP.
            "sent_twice_same_message_id": sum(n - 1 for n in ids.values() if n > 1),
        },
        "audit_chain": (
            f"intact: {chain.rows} rows in {chain.chains} chains, {chain.seals} seals"
            if chain.ok
            else f"BROKEN at row {chain.broken_at} of {chain.chain}: {chain.problem}"
        ),
        "audit_chain_intact": chain.ok,
        "first_timer_due": first_due.isoformat(),
    }


class _Sink:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        from email import message_from_bytes
        from email.policy import default

        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    sink = _Sink()
    smtp = Controller(sink, hostname="127.0.0.1", port=free_port(), ready_timeout=30)
    smtp.start()
    port = free_port()
    env = {
        "KITAS_DATABASE_URL": args.pg_url,
        "KITAS_SECRET_KEY": secrets.token_hex(32),
        "KITAS_PAYMENT_WEBHOOK_SECRET": secrets.token_hex(32),
        "KITAS_EMBEDDED_SCHEDULER": "0",
        "KITAS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "KITAS_UPLOAD_DIR": str(tmp / "uploads"),
        "KITAS_SMTP_HOST": "127.0.0.1",
        "KITAS_SMTP_PORT": str(smtp.port),
    }
    os.environ.update(env)  # the seeding app reads the same settings as the served ones
    app = fresh_postgres_app(args.pg_url, {"SECRET_KEY": env["KITAS_SECRET_KEY"]})
    persons = people(args.users)
    log(f"seeding {len(persons)} people")
    seed(app, persons)
    record, counts = Record(), Counter[str]()
    server, schedulers, failures = None, [], list[str]()
    try:
        server = start_gunicorn(port, args.workers, env, tmp / "gunicorn.log")
        schedulers = [start_scheduler(env, tmp / f"scheduler-{i + 1}.log") for i in range(2)]
        log(f"starting {args.timers} cases whose timers fall due during the run")
        first_due = start_timer_cases(app, persons[-1].email, args.timers, args.seconds * 0.9)
        log(f"driving for {args.seconds} s")
        stop_at = time.monotonic() + args.seconds
        runners = {
            "applicant": run_applicant,
            "sponsor": run_sponsor,
            "verifier": run_officer,
            "supervisor": run_officer,
        }

        def drive(person: Person) -> None:
            try:
                runners[person.role](Client(f"http://127.0.0.1:{port}", record, stop_at), person, counts)
            except Exception as exc:  # reported, never hidden
                failures.append(f"{person.email}: {exc.__class__.__name__}: {exc}")

        threads = [threading.Thread(target=drive, args=(p,), daemon=True) for p in persons]
        faults = threading.Thread(target=chaos, args=(args, schedulers, env, tmp, record), daemon=True)
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        faults.start()
        for thread in threads:
            thread.join(timeout=args.seconds + RETRY_FOR + 120)
        faults.join(timeout=180)
        log("drained" if wait_for(lambda: drained(app), args.drain, step=1.0) else "not drained in time")
    finally:
        stop(server)
        for scheduler in schedulers:
            stop(scheduler)
        smtp.stop()
    result = data_report(app, list(sink.messages), first_due)
    result["requests"] = requests_report(record)
    result["people"] = dict(Counter(p.role for p in persons))
    result["actions"] = dict(sorted(counts.items()))
    result["driver_failures"] = failures[:10]
    result["faults"] = {k: v for k, v in record.events.items() if k != "outage"}
    result["setup"] = {
        "seconds": args.seconds,
        "gunicorn_workers": args.workers,
        "schedulers": 2,
        "database": "postgresql",
        "outage_grace_s": OUTAGE_GRACE,
    }
    result["environment"] = {**machine(), "load_average_1m_before": args.load_before}
    problems = [
        name
        for name, bad in (
            ("timers lost", result["timers"]["lost"]),
            ("timers duplicated", result["timers"]["duplicated"]),
            ("e-mails lost", result["emails"]["lost"]),
            ("audit chain broken", not result["audit_chain_intact"]),
            ("5xx outside the outage", result["requests"]["server_errors_outside_outage"]),
            ("500 answers", result["requests"]["status_500"]),
            ("driver failures", len(failures)),
        )
        if bad
    ]
    result["problems"] = problems
    result["ok"] = not problems
    if problems:
        for name in ("gunicorn.log", "scheduler-1.log", "scheduler-2.log"):
            text = (tmp / name).read_text(errors="replace")
            tracebacks = re.findall(r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+.*", text)
            log(f"{name}: {len(tracebacks)} tracebacks; the first ones:\n" + "\n".join(tracebacks[:3])[-6000:])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("KITAS_BENCH_POSTGRES_URL"), help="its schema is dropped")
    parser.add_argument("--users", type=int, default=100, help="simulated applicants, sponsor and officers")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--timers", type=int, default=300, help="cases whose timers fall due during the run")
    # A killed scheduler's e-mails wait for their five-minute lease: the drain outlasts it.
    parser.add_argument("--drain", type=float, default=330.0, help="seconds to wait for outboxes and timers after")
    parser.add_argument("--no-postgres-restart", dest="postgres_restart", action="store_false")
    parser.add_argument("--smoke", action="store_true", help="8 people, 12 s, 20 timers, no PostgreSQL restart")
    args = parser.parse_args()
    if not args.pg_url:
        parser.error("give --pg-url (or KITAS_BENCH_POSTGRES_URL): a PostgreSQL database whose schema may be dropped")
    if args.smoke:
        args.users, args.seconds, args.timers, args.workers, args.drain = 8, 12.0, 20, 2, 60.0
        args.postgres_restart = False
    args.load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="kitas-bench-soak-") as tmp:
        result = run(args, Path(tmp))
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
