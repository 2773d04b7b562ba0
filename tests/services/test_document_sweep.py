"""The sweep of stored files without a document row, on the local disk and in an S3 bucket."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from kitas.adapters.storage import new_storage_key
from kitas.extensions import db
from kitas.models import Application, Document
from kitas.services import cases, documents
from kitas.services.documents import sweep_orphan_files
from tests import uploads
from tests.stores import DiskFiles, StoredFiles, now

GRACE = timedelta(minutes=60)


@pytest.fixture()
def case(worker: int, users: dict[str, Any]) -> Application:
    """A worker case of users['applicant']."""
    return cases.start_case("worker", users["applicant"], sponsor_email="hr@employer.co.id")


def _upload(case: Application, users: dict[str, Any]) -> Document:
    result = documents.store_uploads(case.id, users["applicant"], None, {"photo": ("p.png", uploads.png_bytes())})
    return result.stored["photo"]


def test_only_old_files_without_a_row_are_removed(
    stored_files: StoredFiles, case: Application, users: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    kept = _upload(case, users)
    orphan = new_storage_key()  # what a crash between storing the file and committing its row leaves
    stored_files.write(orphan, b"left behind")
    stored_files.plant("notes/readme.txt", b"not one of ours")

    # Right after the crash, the orphan is as young as an upload in progress: nothing is touched.
    report = sweep_orphan_files(grace=GRACE)
    assert (report.scanned, report.too_recent, report.removed) == (2, 2, [])
    assert orphan in stored_files.keys()

    # Two hours later (the stores' clock is the wall clock, so the sweep is told the time).
    with caplog.at_level(logging.INFO, logger="kitas.services.documents.sweep"):
        report = sweep_orphan_files(now=now() + timedelta(hours=2), grace=GRACE)
    assert (report.scanned, report.kept, report.too_recent, report.removed) == (2, 1, 0, [orphan])
    assert kept.storage_key in stored_files.keys() and orphan not in stored_files.keys()
    assert "notes/readme.txt" in stored_files.names()  # not a key of ours: never touched
    assert f"removed {orphan}" in caplog.text and "no document row" in caplog.text
    assert "2 files, 1 with a document row, 0 too recent, 1 removed" in caplog.text
    # The document is still served.
    _, content = documents.open_document(kept.public_id, users["applicant"])
    content.close()


def test_a_dry_run_removes_nothing(stored_files: StoredFiles, ctx: Flask) -> None:
    orphan = new_storage_key()
    stored_files.write(orphan, b"left behind")
    report = sweep_orphan_files(now=now() + timedelta(hours=2), grace=GRACE, dry_run=True)
    assert report.removed == [orphan] and stored_files.keys() == [orphan]


def test_the_file_of_a_deleted_case_is_swept(
    stored_files: StoredFiles, case: Application, users: dict[str, Any]
) -> None:
    document = _upload(case, users)
    key = document.storage_key
    db.session.delete(db.session.get(Application, case.id))  # the document row goes with its case
    db.session.commit()
    assert sweep_orphan_files(now=now() + timedelta(hours=2), grace=GRACE).removed == [key]
    assert stored_files.keys() == []


def test_many_files_are_judged_in_batches(
    stored_files: StoredFiles, case: Application, users: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kitas.services.documents import sweep

    monkeypatch.setattr(sweep, "BATCH", 2)
    rows = {_upload(case, users).storage_key for _ in range(3)}
    orphans = {new_storage_key() for _ in range(3)}
    for key in orphans:
        stored_files.write(key, b"x")
    report = sweep_orphan_files(now=now() + timedelta(hours=2), grace=GRACE)
    assert set(report.removed) == orphans and report.kept == 3
    assert set(stored_files.keys()) == rows


def test_a_grace_period_too_short_for_an_upload_in_progress_is_refused(stored_files: StoredFiles, ctx: Flask) -> None:
    with pytest.raises(ValueError, match="under 10 minutes"):
        sweep_orphan_files(grace=timedelta(minutes=5))


def test_a_configured_grace_period_too_short_refuses_to_start(tmp_path: Path) -> None:
    from kitas.config import ConfigurationError, load_config

    with pytest.raises(ConfigurationError, match="KITAS_SWEEP_GRACE_MINUTES=5.0 is too short"):
        load_config(tmp_path, {"KITAS_SWEEP_GRACE_MINUTES": 5.0})
    assert list(tmp_path.iterdir()) == []  # refused before any secret was written to the instance folder


def test_the_grace_period_comes_from_the_configuration(
    app: Flask, stored_files: StoredFiles, ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    orphan = new_storage_key()
    stored_files.write(orphan, b"x")
    monkeypatch.setitem(app.config, "KITAS_SWEEP_GRACE_MINUTES", 180)
    assert sweep_orphan_files(now=now() + timedelta(hours=2)).removed == []
    monkeypatch.setitem(app.config, "KITAS_SWEEP_GRACE_MINUTES", 60)
    assert sweep_orphan_files(now=now() + timedelta(hours=2)).removed == [orphan]


def test_half_written_local_files_are_removed_once_old(app: Flask, ctx: Flask, stored_files: StoredFiles) -> None:
    if not isinstance(stored_files, DiskFiles):
        pytest.skip("half-written files exist on the local disk only (an S3 object is written whole)")
    key = new_storage_key()
    stored_files.write(f"{key[:2]}/.incoming-abc", b"half")
    stored_files.age(f"{key[:2]}/.incoming-abc", now() - timedelta(hours=3))
    report = sweep_orphan_files(grace=GRACE)
    assert report.abandoned_writes == 1 and stored_files.names() == []


def test_a_failed_removal_is_logged_and_the_sweep_goes_on(
    stored_files: StoredFiles, ctx: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = sorted(new_storage_key() for _ in range(2))
    for key in (first, second):
        stored_files.write(key, b"x")
    store = documents.document_store()
    real_delete = store.delete

    def flaky_delete(key: str) -> None:
        if key == first:
            raise OSError("permission denied")
        real_delete(key)

    monkeypatch.setattr(store, "delete", flaky_delete)
    with caplog.at_level(logging.WARNING, logger="kitas.services.documents.sweep"):
        report = sweep_orphan_files(now=now() + timedelta(hours=2), grace=GRACE)
    assert report.failed == [first] and report.removed == [second]
    assert f"could not remove {first}" in caplog.text and stored_files.keys() == [first]


def test_the_command_sweeps_and_says_what_it_did(app: Flask, ctx: Flask, stored_files: StoredFiles) -> None:
    if not isinstance(stored_files, DiskFiles):
        pytest.skip("the command is the same for both stores; ageing a file is only possible on the disk")
    old, young = new_storage_key(), new_storage_key()
    for key in (old, young):
        stored_files.write(key, b"x")
    stored_files.age(old, now() - timedelta(hours=2))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sweep-files", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"would remove {old}" in result.output and "2 files, 0 with a document row, 1 too recent" in result.output
    assert sorted(stored_files.keys()) == sorted([old, young])
    result = runner.invoke(args=["sweep-files"])
    assert result.exit_code == 0 and f"removed {old}" in result.output and stored_files.keys() == [young]
    result = runner.invoke(args=["sweep-files", "--grace-minutes", "5"])
    assert result.exit_code == 2 and "5" in result.output and stored_files.keys() == [young]


def test_the_scheduler_sweeps_on_its_own_interval(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from kitas.jobs import scheduler

    monkeypatch.setitem(app.config, "KITAS_SWEEP_INTERVAL", 7200)
    background = BackgroundScheduler()
    scheduler.configure(background, app, owner="test")
    job = background.get_job("sweep_orphan_files")
    assert job is not None and job.trigger.interval == timedelta(hours=2)
    assert job.args == (app, "kitas.services.documents:run_sweep")


def test_the_scheduler_job_runs_the_sweep(app: Flask, ctx: Flask, stored_files: StoredFiles) -> None:
    from kitas.jobs.scheduler import outbox_pass

    stored_files.write(new_storage_key(), b"fresh")
    assert outbox_pass(app, "kitas.services.documents:run_sweep") == 0  # fresh files are never swept
    assert len(stored_files.keys()) == 1
