"""Verify the audit trail: the seals' chain, then every chain row by row, and name the first broken link.

The heads are read first (seals before chain heads, so every sealed head is already behind its chain's
head); rows appended while the check runs are not part of it. A chain must run from row 1 to its
head without a gap, each row pointing to the hash of the one before and hashing to what it says, and
it must still hold every row a seal recorded: that catches a row changed, removed or inserted, a
chain cut short after it was sealed, and a whole chain deleted (the seals still name it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, tuple_

from ...extensions import db
from ...models import Application, AuditChain, AuditEvent, AuditSeal
from ...models.audit import GENESIS_HASH
from .chain import SEAL_CHAIN, event_digest
from .seals import seal_digest

Head = tuple[int, str]


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the audit trail."""

    rows: int
    broken_at: int | None  # seq (in ``chain``) of the first row whose link or hash is wrong
    problem: str | None
    chain: str | None = None  # the chain that is broken: "case:12", "user:3", "seals"...
    chains: int = 0
    seals: int = 0

    @property
    def ok(self) -> bool:
        """True when every link holds."""
        return self.broken_at is None


class _Broken(Exception):
    def __init__(self, chain: str, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.chain, self.seq, self.problem = chain, seq, problem


@dataclass
class _Sealed:
    seq: int
    hash: str
    seal: int  # the seal that recorded it


def verify_chain(batch: int = 1000) -> ChainReport:
    """Recompute every hash of every chain and of the seals; report the first broken link."""
    check = _Check(batch)
    try:
        check.run()
    except _Broken as broken:
        return ChainReport(check.rows, broken.seq, broken.problem, broken.chain, check.chains, check.seals)
    finally:
        db.session.rollback()
    return ChainReport(check.rows, None, None, None, check.chains, check.seals)


def current_head(chain: str) -> Head | None:
    """A chain's head as it is now (a case's from its row), or None if it has none."""
    if chain.startswith("case:") and chain[5:].isdigit():
        query = select(Application.audit_seq, Application.audit_hash).where(Application.id == int(chain[5:]))
    else:
        query = select(AuditChain.seq, AuditChain.last_hash).where(AuditChain.chain == chain)
    row = db.session.execute(query).first()
    return (int(row[0]), str(row[1])) if row is not None and row[0] > 0 else None


class _Check:
    """One verification pass; raises _Broken at the first broken link."""

    def __init__(self, batch: int) -> None:
        self.batch, self.rows, self.chains, self.seals = batch, 0, 0, 0
        self.sealed: dict[str, _Sealed] = {}
        self.heads: dict[str, Head] = {}
        self.seen: set[str] = set()

    def run(self) -> None:
        self._check_seals()
        self._read_heads()
        db.session.rollback()
        self._check_rows()
        for name in sorted((set(self.sealed) | set(self.heads)) - self.seen):
            if name in self.sealed:
                mark = self.sealed[name]
                raise _Broken(name, 1, f"the chain is gone: seal {mark.seal} recorded its row {mark.seq}")
            raise _Broken(name, 1, f"rows 1 to {self.heads[name][0]} are missing (the head says {self.heads[name][0]})")

    def _check_seals(self) -> None:
        head_seq, head_hash = current_head(SEAL_CHAIN) or (0, GENESIS_HASH)
        prev_hash, expected = GENESIS_HASH, 1
        while expected <= head_seq:
            rows = db.session.scalars(
                select(AuditSeal)
                .where(AuditSeal.seq >= expected, AuditSeal.seq <= head_seq)
                .order_by(AuditSeal.seq)
                .limit(self.batch)
            ).all()
            if not rows:
                break
            for seal in rows:
                self._check_seal(seal, expected, prev_hash)
                prev_hash, expected = seal.hash, seal.seq + 1
            db.session.rollback()
        if expected - 1 != head_seq or prev_hash != head_hash:
            raise _Broken(SEAL_CHAIN, expected, f"seals after {expected - 1} were removed (the head says {head_seq})")

    def _check_seal(self, seal: AuditSeal, expected: int, prev_hash: str) -> None:
        if seal.seq != expected:
            raise _Broken(SEAL_CHAIN, expected, f"seal {expected} is missing (found {seal.seq} next)")
        if seal.prev_hash != prev_hash:
            raise _Broken(SEAL_CHAIN, seal.seq, f"seal {seal.seq} does not point to the hash of seal {seal.seq - 1}")
        if seal_digest(seal.prev_hash, seal.seq, seal.sealed_at, seal.heads) != seal.hash:
            raise _Broken(SEAL_CHAIN, seal.seq, f"seal {seal.seq} was changed after it was written")
        self.seals += 1
        for name, (seq, digest) in seal.heads.items():
            self.sealed[name] = _Sealed(int(seq), str(digest), seal.seq)

    def _read_heads(self) -> None:
        for app_id, seq, digest in db.session.execute(
            select(Application.id, Application.audit_seq, Application.audit_hash).where(Application.audit_seq > 0)
        ):
            self.heads[f"case:{app_id}"] = (int(seq), str(digest))
        for name, seq, digest in db.session.execute(
            select(AuditChain.chain, AuditChain.seq, AuditChain.last_hash).where(
                AuditChain.chain != SEAL_CHAIN, AuditChain.seq > 0
            )
        ):
            self.heads[str(name)] = (int(seq), str(digest))

    def _check_rows(self) -> None:
        table = AuditEvent.__table__
        after: tuple[str, int] | None = None
        chain: _ChainCheck | None = None
        while True:
            query = select(table).order_by(table.c.chain, table.c.seq).limit(self.batch)
            if after is not None:
                query = query.where(tuple_(table.c.chain, table.c.seq) > tuple_(*after))
            rows = db.session.execute(query).mappings().all()
            db.session.rollback()
            if not rows:
                break
            for row in rows:
                if chain is None or chain.name != row["chain"]:
                    if chain is not None:
                        chain.finish()
                    chain = self._start(str(row["chain"]))
                self.rows += chain.add(row)
            after = (str(rows[-1]["chain"]), int(rows[-1]["seq"]))
        if chain is not None:
            chain.finish()

    def _start(self, name: str) -> _ChainCheck:
        self.seen.add(name)
        self.chains += 1
        return _ChainCheck(name, self.heads.get(name), self.sealed.get(name))


class _ChainCheck:
    """The rows of one chain, in order, against its head and its last seal."""

    def __init__(self, name: str, head: Head | None, sealed: _Sealed | None) -> None:
        self.name, self.sealed = name, sealed
        self.case_id = int(name[5:]) if name.startswith("case:") and name[5:].isdigit() else None
        self.prev_hash, self.expected, self.beyond = GENESIS_HASH, 1, 0
        if head is None and current_head(name) is not None:
            head = (0, GENESIS_HASH)  # a chain begun after the heads were read: none of it is checked
        elif head is None:
            raise _Broken(name, 1, "the chain has rows but no head (its case or head row is gone)")
        self.head = head
        if sealed is not None and sealed.seq > head[0]:
            raise _Broken(
                name,
                head[0] + 1,
                f"the chain was cut short: seal {sealed.seal} recorded row {sealed.seq}, the head says {head[0]}",
            )

    def add(self, row: Any) -> int:
        """Check the next row; returns 1 if it counted, 0 if it lies beyond the head read."""
        seq = int(row["seq"])
        if seq > self.head[0]:
            self.beyond = max(self.beyond, seq)
            return 0
        if seq != self.expected:
            raise _Broken(self.name, self.expected, f"row {self.expected} is missing (found {seq} next)")
        if row["prev_hash"] != self.prev_hash:
            raise _Broken(self.name, seq, f"row {seq} does not point to the hash of row {seq - 1}")
        digest = event_digest(
            row["prev_hash"],
            self.name,
            seq,
            row["occurred_at"],
            row["actor_id"],
            row["actor"],
            row["action"],
            row["detail"],
        )
        if digest != row["hash"]:
            raise _Broken(self.name, seq, f"row {seq} was changed after it was written")
        if row["application_id"] != self.case_id:
            raise _Broken(self.name, seq, f"row {seq} was moved: it names application {row['application_id']}")
        if self.sealed is not None and seq == self.sealed.seq and digest != self.sealed.hash:
            raise _Broken(self.name, seq, f"row {seq} is not the row seal {self.sealed.seal} recorded")
        self.prev_hash, self.expected = row["hash"], seq + 1
        return 1

    def finish(self) -> None:
        """The chain's rows ended: they must reach its head, and rows beyond it must be new."""
        head_seq, head_hash = self.head
        if head_seq == 0:
            return
        if self.expected - 1 != head_seq:
            last = self.expected - 1
            raise _Broken(self.name, last + 1, f"rows after {last} were removed (the head says {head_seq})")
        if self.prev_hash != head_hash:
            raise _Broken(self.name, head_seq, f"row {head_seq} is not the row the chain's head points to")
        if self.beyond:
            now = current_head(self.name)
            if now is None or now[0] < self.beyond:
                raise _Broken(
                    self.name, head_seq + 1, f"row {self.beyond} lies beyond the chain's head ({now[0] if now else 0})"
                )
