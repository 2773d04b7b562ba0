"""Every kind of tampering with the audit trail is found, and named: which chain, which row, what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text, update

from engine import ManualClock
from kitas.extensions import db
from kitas.models import Application, AuditEvent, AuditSeal
from kitas.models.audit import GENESIS_HASH
from kitas.services import audit, cases
from kitas.services.audit import ChainReport
from kitas.transactions import write_transaction
from tests.services.helpers import complete


def _case(users: dict[str, Any]) -> tuple[int, str]:
    """A worker case with three audit rows of its own; returns its id and chain name."""
    application = cases.start_case("worker", users["applicant"])
    complete(application.id, "applicant_data", users["applicant"])
    complete(application.id, "employment_data", users["applicant"])
    return application.id, audit.case_chain(application.id)


def _rows(chain: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)))


def _sql(statement: str, **params: Any) -> None:
    db.session.execute(text(statement), params)
    db.session.commit()


def _forge(chain: str, seq: int, after: AuditEvent, application_id: int) -> None:
    """Insert a well-formed row ``seq`` that points to ``after``, as a forger who knows the recipe would."""
    detail = {"task": "forged"}
    at = after.occurred_at
    digest = audit.event_digest(after.hash, chain, seq, at, None, "Mallory", "task_completed", detail)
    row = {"chain": chain, "seq": seq, "occurred_at": at, "actor": "Mallory", "action": "task_completed"}
    with write_transaction():
        db.session.add(
            AuditEvent(**row, application_id=application_id, detail=detail, prev_hash=after.hash, hash=digest)
        )


def _broken(chain: str, row: int, words: str) -> ChainReport:
    report = audit.verify_chain()
    assert not report.ok, "the tampering went unnoticed"
    assert (report.chain, report.broken_at) == (chain, row), report
    assert report.problem is not None and words in report.problem, report.problem
    return report


def test_an_untouched_trail_with_seals_and_later_rows_is_intact(worker: int, users: dict[str, Any]) -> None:
    _case(users)
    audit.seal_chains()
    _case(users)  # rows after the last seal
    report = audit.verify_chain()
    assert report.ok, report
    # the worker's and its five shared steps' deployments (a chain each), two cases
    assert report.rows == 12 and report.chains == 8 and report.seals == 1


def test_a_changed_sealed_row_is_found(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    audit.seal_chains()
    with write_transaction():
        db.session.execute(
            update(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq == 2).values(detail={"task": "forged"})
        )
    _broken(chain, 2, "changed after it was written")


def test_a_row_deleted_inside_a_chain_is_found(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    _sql("DELETE FROM audit_event WHERE chain = :c AND seq = 2", c=chain)
    _broken(chain, 2, "row 2 is missing (found 3 next)")


def test_a_row_inserted_inside_a_chain_is_found(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    first = _rows(chain)[0]
    # Make room for a forged row 2, in two steps so that no unique check trips on the way.
    _sql("UPDATE audit_event SET seq = seq + 1000 WHERE chain = :c AND seq >= 2", c=chain)
    _sql("UPDATE audit_event SET seq = seq - 999 WHERE chain = :c AND seq > 1000", c=chain)
    _forge(chain, 2, first, application_id)
    _broken(chain, 3, "does not point to the hash of row 2")


def test_a_row_forged_past_the_head_is_found(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    _forge(chain, 4, _rows(chain)[-1], application_id)
    _broken(chain, 4, "row 4 lies beyond the chain's head (3)")


def test_a_row_moved_to_another_case_is_found(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    other_id, _ = _case(users)
    _sql("UPDATE audit_event SET application_id = :o WHERE chain = :c AND seq = 3", o=other_id, c=chain)
    _broken(chain, 3, f"it names application {other_id}")


def test_the_last_row_deleted_is_found_by_the_head(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    _sql("DELETE FROM audit_event WHERE chain = :c AND seq = 3", c=chain)
    _broken(chain, 3, "rows after 2 were removed (the head says 3)")


def test_rows_after_the_last_seal_are_still_checked_by_their_chain(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    audit.seal_chains()
    complete(application_id, "sponsor_confirmation", users["sponsor"])  # row 4, not sealed
    assert audit.verify_chain().ok
    _sql("UPDATE audit_event SET actor = 'Mallory' WHERE chain = :c AND seq = 4", c=chain)
    _broken(chain, 4, "changed after it was written")


def test_a_chain_cut_short_after_its_seal_is_found(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    audit.seal_chains()
    rows = _rows(chain)
    # A careful forger removes the last row and moves the head back, so the chain itself holds.
    _sql("DELETE FROM audit_event WHERE id = :i", i=rows[-1].id)
    _sql("UPDATE application SET audit_seq = 2, audit_hash = :h WHERE id = :a", h=rows[1].hash, a=application_id)
    _broken(chain, 3, "cut short: seal 1 recorded row 3, the head says 2")


def test_a_whole_case_chain_deleted_is_found_by_the_seals(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    audit.seal_chains()
    _sql("DELETE FROM audit_event WHERE chain = :c", c=chain)
    _sql("UPDATE application SET audit_seq = 0, audit_hash = :g WHERE id = :a", g=GENESIS_HASH, a=application_id)
    _broken(chain, 1, "the chain is gone: seal 1 recorded its row 3")


def test_a_whole_chain_deleted_before_any_seal_is_found_by_its_head(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    _sql("DELETE FROM audit_event WHERE chain = :c", c=chain)
    _broken(chain, 1, "rows 1 to 3 are missing")


def test_a_chain_whose_head_is_gone_is_found(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    _sql("UPDATE application SET audit_seq = 0, audit_hash = :g WHERE id = :a", g=GENESIS_HASH, a=application_id)
    _broken(chain, 1, "rows but no head")


def test_a_changed_seal_is_found(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    _case(users)
    audit.seal_chains()
    clock.advance(minutes=5)
    audit.seal_chains()
    seal = db.session.get(AuditSeal, 1)
    assert seal is not None
    forged = {name: [1, head[1]] for name, head in seal.heads.items()}
    with write_transaction():
        db.session.execute(update(AuditSeal).where(AuditSeal.seq == 1).values(heads=forged))
    _broken("seals", 1, "seal 1 was changed after it was written")


def test_deleted_seals_are_found(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    _case(users)
    for _ in range(3):
        audit.seal_chains()
        clock.advance(minutes=5)
    _sql("DELETE FROM audit_seal WHERE seq = 2")
    _broken("seals", 2, "seal 2 is missing (found 3 next)")
    _sql("DELETE FROM audit_seal WHERE seq = 3")
    _broken("seals", 2, "seals after 1 were removed (the head says 3)")


def test_the_command_names_the_chain_and_row(worker: int, users: dict[str, Any], ctx: Flask) -> None:
    _, chain = _case(users)
    _sql("UPDATE audit_event SET action = 'nothing_happened' WHERE chain = :c AND seq = 1", c=chain)
    result = ctx.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at row 1 of chain {chain}: row 1 was changed after it was written" in result.output


def test_the_application_row_head_is_the_chain_end(worker: int, users: dict[str, Any]) -> None:
    application_id, chain = _case(users)
    application = db.session.get(Application, application_id)
    assert application is not None
    last = _rows(chain)[-1]
    assert (application.audit_seq, application.audit_hash) == (last.seq, last.hash) == (3, last.hash)


@pytest.mark.parametrize("kind", ["case", "user"])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("detail", {"task": "forged"}),
        ("actor", "Mallory"),
        ("action", "nothing_happened"),
        ("actor_id", None),
        ("occurred_at", datetime(2020, 1, 1, tzinfo=UTC)),
    ],
)
def test_every_column_a_row_states_is_in_its_hash(
    worker: int, users: dict[str, Any], kind: str, column: str, value: Any
) -> None:
    """A row changed before any seal, in the middle of its chain: only the row's own hash can show it."""
    if kind == "case":
        _, chain = _case(users)
    else:
        chain = f"user:{users['verifier'].id}"
        with write_transaction():
            for page in (1, 2, 3):
                audit.record("looked_around", {"page": page}, user=users["verifier"])
    assert audit.verify_chain().ok
    with write_transaction():
        db.session.execute(
            update(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq == 2).values({column: value})
        )
    _broken(chain, 2, "row 2 was changed after it was written")


def test_the_first_broken_row_is_named_not_a_later_one(worker: int, users: dict[str, Any]) -> None:
    _, chain = _case(users)
    for seq in (3, 1):  # the later row changed first: the order of tampering does not matter
        _sql("UPDATE audit_event SET actor = 'Mallory' WHERE chain = :c AND seq = :s", c=chain, s=seq)
    _broken(chain, 1, "row 1 was changed after it was written")
    _sql("DELETE FROM audit_event WHERE chain = :c AND seq = 2", c=chain)  # a second kind of break, later on
    _broken(chain, 1, "row 1 was changed after it was written")


def test_the_first_broken_seal_is_named_not_a_later_one(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    _case(users)
    for _ in range(3):
        audit.seal_chains()
        clock.advance(minutes=5)
    for seq in (3, 2):
        with write_transaction():
            db.session.execute(update(AuditSeal).where(AuditSeal.seq == seq).values(heads={"case:1": [1, "0" * 64]}))
    _broken("seals", 2, "seal 2 was changed after it was written")


def test_a_seal_pointing_elsewhere_is_found(worker: int, users: dict[str, Any], clock: ManualClock) -> None:
    _case(users)
    for _ in range(2):
        audit.seal_chains()
        clock.advance(minutes=5)
    _sql("UPDATE audit_seal SET prev_hash = :h WHERE seq = 2", h="f" * 64)
    _broken("seals", 2, "seal 2 does not point to the hash of seal 1")


def test_a_one_row_chain_must_end_at_its_head(worker: int, users: dict[str, Any]) -> None:
    chain = f"user:{users['verifier'].id}"
    with write_transaction():
        audit.record("looked_around", {"page": 1}, user=users["verifier"])
    assert audit.verify_chain().ok
    _sql("UPDATE audit_chain SET last_hash = :h WHERE chain = :c", h="e" * 64, c=chain)
    _broken(chain, 1, "row 1 is not the row the chain's head points to")


def test_the_hash_recipes_stay_what_stored_trails_were_written_with() -> None:
    """Every stored row and seal was hashed with these recipes: changing one makes old trails unverifiable."""
    at = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)
    assert audit.seal_digest("0" * 64, 3, at, {"case:1": [2, "a" * 64]}) == (
        "8d04dd655c4f5a38f28f526c645eeac7078b980984653429820cb645a2e8d6c7"
    )
    assert audit.event_digest(
        "0" * 64, "case:1", 2, at, 7, "Ana <ana@example.org>", "task_completed", {"task": "x"}
    ) == ("ff1466f4706b5588f0ccfe2691112efd14ebd2a561def44869f2a454dad87165")
