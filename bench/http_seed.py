"""Seed the HTTP benchmark's database: a few real worker cases per stage, cloned in bulk.

Running 10,000 cases through the engine would take minutes, so one real case per stage (plus the
long case of the measured status page) is driven through the services (``cases.start_case``,
``complete_task``, ``deliver_message``), owned by the measured applicant, and then copied with
SQLAlchemy Core bulk inserts: the ``application`` row (new reference, owner and timestamps, the
same workflow state), its ``human_task`` and ``timer`` rows and its ``audit_event`` rows. Each copy's
audit rows form that copy's own case chain, hashed with ``kitas.services.audit.event_digest`` (reused
on purpose so the copies follow any change of the recipe), its head stored on the copied
``application`` row; the seeded chains are then sealed, so ``kitas audit verify`` passes.
Payments, documents and notifications are not copied: the pages measured do not read them.

Call ``prepare_database`` inside the application context of an empty database.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
from sqlalchemy import Table, func, insert, select, text

from kitas.extensions import app_clock, db
from kitas.models import Application, AuditEvent, HumanTask, Role, Timer, User, user_roles
from kitas.models.audit import GENESIS_HASH
from kitas.services import accounts, audit, cases
from kitas.services.cases.access import OFFICER_ROLES
from kitas.services.offices.directory import default_office
from kitas.services.offices.staff import place_officer
from tests.services.helpers import complete
from tests.worker_data import PAYMENT

Step = tuple[str, dict[str, Any]]
MESSAGE = "payment_received"
CORRECTIONS = {"verification_decision": "corrections", "verification_reason": "The passport scan is blurred."}
TO_PAYMENT: tuple[Step, ...] = tuple(
    (e, {}) for e in ("applicant_data", "employment_data", "sponsor_confirmation", "document_checklist")
)
TO_VERIFICATION = (*TO_PAYMENT, (MESSAGE, {}))
TO_APPROVAL = (*TO_VERIFICATION, ("verify_documents", {}))
TO_BIOMETRICS = (*TO_APPROVAL, ("supervisor_approval", {}))
# stage -> (share of all cases, the steps that bring a new case there)
STAGES: dict[str, tuple[float, tuple[Step, ...]]] = {
    "draft": (0.08, ()),
    "awaiting_sponsor": (0.05, TO_PAYMENT[:2]),
    "awaiting_payment": (0.25, TO_PAYMENT),
    "in_verification": (0.35, TO_VERIFICATION),
    "correction_requested": (0.04, (*TO_VERIFICATION, ("verify_documents", CORRECTIONS))),
    "awaiting_approval": (0.10, TO_APPROVAL),
    "biometrics_appointment": (0.05, TO_BIOMETRICS),
    "permit_issued": (0.08, (*TO_BIOMETRICS, ("book_biometrics", {}), ("capture_biometrics", {}))),
}
# The measured status page: corrections, a second verification with an interview, a permit.
LONG_CASE: tuple[Step, ...] = (
    *TO_VERIFICATION,
    ("verify_documents", CORRECTIONS),
    ("submit_corrections", {}),
    ("verify_documents", {"interview_required": True}),
    ("supervisor_approval", {}),
    ("conduct_interview", {}),
    ("book_biometrics", {}),
    ("capture_biometrics", {}),
)
MEASURED_APPLICANT = ("applicant", "ana.bench@example.org", "Ana Bench")
MEASURED_VERIFIER = ("verifier", "vera.bench@imigrasi.example", "Vera Bench")
MEASURED_CASES = 20
MAX_AGE_DAYS = 120
BATCH = 500
_APP_TIMES = ("created_at", "updated_at", "closed_at")
_TASK_TIMES = ("created_at", "due_at", "escalated_at", "claimed_at", "draft_saved_at")
_TIMER_TIMES = ("due_at", "next_attempt_at", "gave_up_at", "fired_at", "created_at")


@dataclass(frozen=True)
class Person:
    """A user the benchmark needs, as plain data (ORM objects do not outlive their session)."""

    id: int
    email: str
    label: str  # how audit rows name the person
    session_id: str  # what Flask-Login keeps in the session
    password: str
    totp_secret: str | None = None  # the authenticator app of an officer (the roles that need one)


@dataclass
class Template:
    """A real case and its rows, read back to be copied."""

    stage: str
    application: dict[str, Any]
    tasks: list[dict[str, Any]]
    timers: list[dict[str, Any]]
    audits: list[dict[str, Any]]


def make_person(role: str, email: str, name: str, password: str) -> Person:
    """A verified account with one role, made by the accounts service (so it signs in like anyone)."""
    user = accounts.create_account(email, name, password, [role], verified=True)
    secret = None
    if role in accounts.MFA_ROLES:
        secret = pyotp.random_base32()
        accounts.enrol_with_secret(user, secret)
    if role in OFFICER_ROLES:  # the seeded cases have no province: they are the default office's
        place_officer(user, [default_office().code], actor="bench")
    person = Person(user.id, user.email, user.label, user.get_id(), password, secret)
    db.session.remove()
    return person


def advance(application_id: int, steps: tuple[Step, ...], people: dict[str, Person]) -> None:
    """Drive a real case through ``steps`` as the people whose lanes they are in."""
    for element, overrides in steps:
        db.session.remove()
        if element == MESSAGE:
            cases.deliver_message(application_id, MESSAGE, PAYMENT, actor="payment:bench")
            continue
        role = db.session.scalar(
            select(HumanTask.role).where(HumanTask.application_id == application_id, HumanTask.element_id == element)
        )
        assert role is not None, f"case {application_id} has no open task {element}"
        user = db.session.get(User, people[role].id)
        assert user is not None
        complete(application_id, element, user, **overrides)
    db.session.remove()


def _rows(table: Table, *where: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in db.session.execute(select(table).where(*where)).mappings()]


def real_case(stage: str, steps: tuple[Step, ...], people: dict[str, Person]) -> Template:
    """Run one case to a stage through the services and read its rows back."""
    applicant = db.session.get(User, people["applicant"].id)
    assert applicant is not None
    application_id = cases.start_case("worker", applicant).id
    advance(application_id, steps, people)
    template = Template(
        stage,
        _rows(Application.__table__, Application.id == application_id)[0],
        _rows(HumanTask.__table__, HumanTask.application_id == application_id),
        _rows(Timer.__table__, Timer.application_id == application_id),
        sorted(_rows(AuditEvent.__table__, AuditEvent.application_id == application_id), key=lambda r: r["seq"]),
    )
    db.session.remove()
    return template


def _moved(row: dict[str, Any], names: tuple[str, ...], shift: timedelta) -> dict[str, Any]:
    return {**row, **{n: row[n] - shift for n in names if row.get(n) is not None}}


def _next_id(model: Any) -> int:
    return int(db.session.scalar(select(func.max(model.id))) or 0) + 1


def bulk_applicants(count: int) -> list[tuple[int, str]]:
    """``count`` applicant accounts without passwords (nobody signs in as them); returns (id, label)."""
    now = app_clock().now()
    first = _next_id(User)
    role_id = db.session.scalar(select(Role.id).where(Role.name == "applicant"))
    people = [(first + i, f"applicant{i}@bench.example", f"Bench Applicant {i}") for i in range(count)]
    with db.engine.begin() as conn:
        conn.execute(
            insert(User.__table__),
            [
                {
                    "id": user_id,
                    "email": email,
                    "full_name": name,
                    "created_at": now,
                    "email_verified_at": now,
                    "consent_at": now,
                    "is_active": True,
                    "session_token": f"{user_id:032x}",
                }
                for user_id, email, name in people
            ],
        )
        conn.execute(insert(user_roles), [{"user_id": user_id, "role_id": role_id} for user_id, _, _ in people])
    return [(user_id, f"{name} <{email}>") for user_id, email, name in people]


class Cloner:
    """Copies template cases with new ids, references, owners and times, each with its own audit chain."""

    def __init__(self, measured: Person) -> None:
        self.measured_id, self.references = measured.id, set(db.session.scalars(select(Application.reference)))
        self.ids = {m: _next_id(m) for m in (Application, HumanTask, Timer, AuditEvent)}
        self.pending: dict[Any, list[dict[str, Any]]] = {m: [] for m in self.ids}
        db.session.remove()

    def _id(self, model: Any) -> int:
        self.ids[model] += 1
        return self.ids[model] - 1

    def _reference(self, template: Template) -> str:
        index_code, year = template.application["reference"].split("-")[:2]
        while (reference := cases.new_reference(index_code, int(year))) in self.references:
            pass
        self.references.add(reference)
        return reference

    def clone(self, template: Template, owner: tuple[int, str], shift: timedelta) -> None:
        """Queue one copy of ``template`` owned by ``owner`` whose every time lies ``shift`` earlier."""
        app_id, reference = self._id(Application), self._reference(template)
        old_ref = template.application["reference"]
        app = _moved(template.application, _APP_TIMES, shift)
        head = (0, GENESIS_HASH)
        for row in template.audits:
            head = self._append_audit(row, app_id, head, old_ref, reference, owner, shift)
        copy = {"id": app_id, "reference": reference, "applicant_id": owner[0]}
        self.pending[Application].append({**app, **copy, "audit_seq": head[0], "audit_hash": head[1]})
        for task in template.tasks:
            moved = _moved(task, _TASK_TIMES, shift)
            self.pending[HumanTask].append({**moved, "id": self._id(HumanTask), "application_id": app_id})
        for timer in template.timers:
            moved = _moved(timer, _TIMER_TIMES, shift)
            self.pending[Timer].append({**moved, "id": self._id(Timer), "application_id": app_id})
        if len(self.pending[Application]) >= BATCH:
            self.flush()

    def _append_audit(
        self,
        row: dict[str, Any],
        app_id: int,
        head: tuple[int, str],
        old_ref: str,
        reference: str,
        owner: tuple[int, str],
        shift: timedelta,
    ) -> tuple[int, str]:
        """Queue the copy of one audit row as the next row of the copy's chain; returns the new head."""
        detail = {k: (reference if v == old_ref else v) for k, v in row["detail"].items()}
        actor_id, actor = (
            (owner[0], owner[1]) if row["actor_id"] == self.measured_id else (row["actor_id"], row["actor"])
        )
        occurred_at: datetime = row["occurred_at"] - shift
        chain, seq, prev_hash = audit.case_chain(app_id), head[0] + 1, head[1]
        digest = audit.event_digest(prev_hash, chain, seq, occurred_at, actor_id, actor, row["action"], detail)
        self.pending[AuditEvent].append(
            {
                **row,
                "id": self._id(AuditEvent),
                "chain": chain,
                "seq": seq,
                "occurred_at": occurred_at,
                "actor_id": actor_id,
                "actor": actor,
                "application_id": app_id,
                "detail": detail,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        return seq, digest

    def flush(self) -> None:
        """Insert the queued rows (the chain heads travel on the application rows), in one transaction."""
        with db.engine.begin() as conn:
            for model, rows in self.pending.items():
                if rows:
                    conn.execute(insert(model.__table__), rows)
                rows.clear()


def seed(
    total: int, applicants: int, people: dict[str, Person], log: Callable[[str], None], rng: random.Random
) -> dict[str, Any]:
    """``total`` cases over ``applicants`` people; the measured applicant owns ``MEASURED_CASES``.

    The real cases are the measured applicant's, and so are the first copies up to ``MEASURED_CASES``;
    the other copies belong to random applicants. Copies' times are spread over the last
    ``MAX_AGE_DAYS`` days (so the inbox has an order to keep). Returns the reference of the
    measured status page's case and the number of cases per stage.
    """
    templates = [real_case(stage, steps, people) for stage, (_, steps) in STAGES.items()]
    long_case = real_case("permit_issued", LONG_CASE, people)
    log(f"seed: {len(templates) + 1} real cases run through the services")
    owners = bulk_applicants(applicants - 1)
    measured = (people["applicant"].id, people["applicant"].label)
    cloner = Cloner(people["applicant"])
    stages = {name: 0 for name in STAGES}
    for template in [*templates, long_case]:
        stages[template.stage] += 1
    weights = [share for share, _ in STAGES.values()]
    for i in range(total - len(templates) - 1):
        template = rng.choices(templates, weights)[0]
        owner = measured if i < MEASURED_CASES - len(templates) - 1 else rng.choice(owners)
        cloner.clone(template, owner, timedelta(seconds=rng.randint(3600, MAX_AGE_DAYS * 86400)))
        stages[template.stage] += 1
        if (i + 1) % 2000 == 0:
            log(f"seed: {i + 1} cases copied")
    cloner.flush()
    return {"status_page_reference": long_case.application["reference"], "cases_per_stage": stages}


def prepare_database(
    total: int, applicants: int, rng: random.Random, log: Callable[[str], None]
) -> tuple[dict[str, Person], dict[str, Any]]:
    """``kitas init`` (migrations, roles, every diagram), the people by role, the seeded cases."""
    from flask import current_app

    init = current_app.test_cli_runner().invoke(args=["init"])
    if init.exit_code != 0:
        raise RuntimeError(f"kitas init failed: {init.output}")
    log(init.output.strip())
    password = "pw-" + secrets.token_hex(12)  # hex: never contains a part of the names
    people = {
        role: make_person(role, email, name, password) for role, email, name in (MEASURED_APPLICANT, MEASURED_VERIFIER)
    }
    people["sponsor"] = make_person("sponsor", "hr@employer.co.id", "PT Contoh Teknologi (HR)", password)
    people["supervisor"] = make_person("supervisor", "sam.bench@imigrasi.example", "Sam Bench", password)
    started = time.perf_counter()
    facts = seed(total, applicants, people, log, rng)
    facts["seconds"] = round(time.perf_counter() - started, 1)
    audit.seal_chains()  # as the scheduler would have by now
    chain = audit.verify_chain()
    facts["audit_chain"] = f"intact, {chain.rows} rows" if chain.ok else f"BROKEN at {chain.broken_at}: {chain.problem}"
    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # the database size is then the file's
    db.session.remove()
    db.engine.dispose()
    return people, facts
