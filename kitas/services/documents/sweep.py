"""Removing stored files that no document row names: what a crash between storing a file and committing
its row (or a case deleted with its documents) leaves behind.

A file is removed only when it is older than the grace period (``KITAS_SWEEP_GRACE_MINUTES``), so the
file of an upload still in progress, whose row is seconds from being committed, is never touched; the
store's own clock (file times, the bucket's LastModified) is compared with the wall clock, not the
application's clock. Several schedulers may sweep at once: removing a removed file is not an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from ...adapters.storage import StoredObject
from ...config import MIN_SWEEP_GRACE_MINUTES
from ...extensions import db
from ...models import Document
from .store import document_store

log = logging.getLogger(__name__)

# Keys looked up in the database at a time.
BATCH = 500


@dataclass
class SweepReport:
    """What one sweep saw and did."""

    store: str
    scanned: int = 0
    too_recent: int = 0
    kept: int = 0
    removed: list[str] = field(default_factory=list)
    abandoned_writes: int = 0
    failed: list[str] = field(default_factory=list)


def sweep_orphan_files(
    *, now: datetime | None = None, grace: timedelta | None = None, dry_run: bool = False
) -> SweepReport:
    """Remove every stored file older than ``grace`` that no document row names (``dry_run``: only report)."""
    if grace is None:
        grace = timedelta(minutes=float(current_app.config["KITAS_SWEEP_GRACE_MINUTES"]))
    if grace < timedelta(minutes=MIN_SWEEP_GRACE_MINUTES):
        raise ValueError(f"a grace period under {MIN_SWEEP_GRACE_MINUTES} minutes could remove uploads in progress")
    cutoff = (now or datetime.now(UTC)) - grace
    store = document_store()
    report = SweepReport(store=store.description)
    for batch in _batches(store.listing(), BATCH):
        report.scanned += len(batch)
        old = [item for item in batch if item.modified_at < cutoff]
        report.too_recent += len(batch) - len(old)
        named = _keys_with_rows(item.key for item in old)
        report.kept += len(named)
        for item in old:
            if item.key in named:
                continue
            if dry_run:
                report.removed.append(item.key)
                continue
            try:
                store.delete(item.key)
            except OSError as exc:
                log.warning("sweep: could not remove %s from %s: %s", item.key, store.description, exc)
                report.failed.append(item.key)
                continue
            report.removed.append(item.key)
            log.info(
                "sweep: removed %s from %s (%d bytes, written %s, no document row)",
                item.key,
                store.description,
                item.size,
                item.modified_at.isoformat(timespec="seconds"),
            )
    if not dry_run:
        report.abandoned_writes = store.remove_abandoned_writes(cutoff)
    log.info(
        "sweep of %s: %d files, %d with a document row, %d too recent, %d %s, %d unfinished writes removed",
        store.description,
        report.scanned,
        report.kept,
        report.too_recent,
        len(report.removed),
        "would be removed" if dry_run else "removed",
        report.abandoned_writes,
    )
    return report


def run_sweep() -> int:
    """The scheduler's job: sweep with the configured grace period; how many files were removed."""
    return len(sweep_orphan_files().removed)


def _keys_with_rows(keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    try:
        return set(db.session.scalars(select(Document.storage_key).where(Document.storage_key.in_(wanted))))
    finally:
        db.session.rollback()  # each batch reads afresh (an SQLite read transaction would keep its snapshot)


def _batches(items: Iterable[StoredObject], size: int) -> Iterator[list[StoredObject]]:
    batch: list[StoredObject] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
