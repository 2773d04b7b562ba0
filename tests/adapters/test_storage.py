"""The document stores behind one interface: the local disk and a real S3-compatible server (moto's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from botocore.config import Config

from kitas.adapters.s3_store import S3DocumentStore
from kitas.adapters.storage import (
    DocumentStore,
    LocalDocumentStore,
    StoredFileMissing,
    StoreUnavailable,
    new_storage_key,
    store_from_config,
)
from kitas.config import ConfigurationError, parse_document_store
from tests.conftest import free_port
from tests.stores import BUCKET, S3_SETTINGS, now, s3_client


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DocumentStore]:
    """An empty store of each kind: a fresh folder, or a fresh prefix in the test bucket."""
    if request.param == "local":
        yield LocalDocumentStore(tmp_path / "store")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    config = {**S3_SETTINGS, "KITAS_S3_ENDPOINT_URL": endpoint}
    yield S3DocumentStore.from_config(BUCKET, f"adapter-{uuid4().hex[:12]}/", config)


def test_put_get_open_delete_and_exists(store: DocumentStore) -> None:
    key = new_storage_key()
    assert not store.exists(key)
    data = os.urandom(300_000)
    store.put(key, data)
    assert store.exists(key) and store.get(key) == data
    with store.open(key) as stream:  # read in chunks, as a download does
        chunks = []
        while chunk := stream.read(64 * 1024):
            chunks.append(chunk)
    assert b"".join(chunks) == data and len(chunks) >= 5
    store.put(key, b"again")
    assert store.get(key) == b"again"
    store.delete(key)
    store.delete(key)  # removing a missing file is not an error
    assert not store.exists(key)
    with pytest.raises(StoredFileMissing):
        store.get(key)
    with pytest.raises(StoredFileMissing):
        store.open(key)


@pytest.mark.parametrize("bad", ["../etc/passwd", "ab/../../x", "/etc/passwd", "AB/" + "C" * 40, "", "ab"])
def test_keys_of_another_shape_are_refused(store: DocumentStore, bad: str) -> None:
    for action in (lambda: store.put(bad, b"x"), lambda: store.get(bad), lambda: store.delete(bad)):
        with pytest.raises(ValueError, match="not a storage key"):
            action()


def test_listing_shows_our_files_with_size_and_time_and_nothing_else(store: DocumentStore) -> None:
    keys = sorted(new_storage_key() for _ in range(3))
    before = now() - timedelta(minutes=5)
    for index, key in enumerate(keys):
        store.put(key, b"x" * (index + 1))
    if isinstance(store, LocalDocumentStore):
        (store.root / "notes.txt").write_text("not ours")
        (store.root / keys[0][:2] / ".incoming-abc").write_bytes(b"half")
    else:
        store.client.put_object(Bucket=BUCKET, Key=store.prefix + "notes.txt", Body=b"not ours")
        store.client.put_object(Bucket=BUCKET, Key="elsewhere/" + keys[0], Body=b"another prefix")
    listed = sorted(store.listing(), key=lambda item: item.key)
    assert [item.key for item in listed] == keys
    assert [item.size for item in listed] == [1, 2, 3]
    assert all(before < item.modified_at < now() + timedelta(minutes=5) for item in listed)
    assert all(item.modified_at.tzinfo is not None for item in listed)


def test_an_empty_or_new_store_lists_nothing(store: DocumentStore) -> None:
    assert list(store.listing()) == []
    assert store.remove_abandoned_writes(now()) == 0


def test_local_abandoned_writes_are_removed_once_old(tmp_path: Path) -> None:
    store = LocalDocumentStore(tmp_path / "store")
    key = new_storage_key()
    store.put(key, b"kept")
    old = tmp_path / "store" / key[:2] / ".incoming-old"
    fresh = tmp_path / "store" / key[:2] / ".incoming-fresh"
    old.write_bytes(b"half")
    fresh.write_bytes(b"half")
    stamp = (now() - timedelta(hours=3)).timestamp()
    os.utime(old, (stamp, stamp))
    assert store.remove_abandoned_writes(now() - timedelta(hours=1)) == 1
    assert not old.exists() and fresh.exists() and store.get(key) == b"kept"


def test_s3_unfinished_multipart_uploads_are_aborted(s3_endpoint: str) -> None:
    store = S3DocumentStore.from_config(
        BUCKET, f"multi-{uuid4().hex[:8]}/", {**S3_SETTINGS, "KITAS_S3_ENDPOINT_URL": s3_endpoint}
    )
    started = store.client.create_multipart_upload(Bucket=BUCKET, Key=store.prefix + new_storage_key())
    # (moto dates every multipart upload 2010-11-10, so "younger than the cutoff" is shown with an older one)
    assert store.remove_abandoned_writes(datetime(2000, 1, 1, tzinfo=UTC)) == 0
    assert store.remove_abandoned_writes(now() + timedelta(minutes=1)) == 1
    uploads = store.client.list_multipart_uploads(Bucket=BUCKET, Prefix=store.prefix).get("Uploads", [])
    assert started["UploadId"] not in [item["UploadId"] for item in uploads]


def _s3_store_at(endpoint: str, bucket: str = BUCKET) -> S3DocumentStore:
    """A store whose client does not retry (the refusals below are final)."""
    import boto3

    no_retries = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=S3_SETTINGS["KITAS_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_SETTINGS["KITAS_S3_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, s3={"addressing_style": "path"}),
    )
    return S3DocumentStore(no_retries, bucket, "p/")


def _refusals(store: S3DocumentStore, *, with_exists: bool) -> None:
    key = new_storage_key()
    actions = [lambda: store.put(key, b"x"), lambda: store.open(key), lambda: list(store.listing())]
    if with_exists:  # (a missing bucket answers HEAD with a plain 404, the same as a missing file)
        actions.append(lambda: store.exists(key))
    for action in actions:
        with pytest.raises(StoreUnavailable) as failure:
            action()
        assert store.bucket in str(failure.value)
        assert S3_SETTINGS["KITAS_S3_SECRET_ACCESS_KEY"] not in str(failure.value)


def test_an_unreachable_server_or_missing_bucket_is_unavailable_and_names_no_secret(s3_endpoint: str) -> None:
    _refusals(_s3_store_at(f"http://127.0.0.1:{free_port()}"), with_exists=True)
    _refusals(_s3_store_at(s3_endpoint, "no-such-bucket"), with_exists=False)


def test_the_configuration_chooses_the_store(tmp_path: Path, s3_endpoint: str) -> None:
    local = store_from_config({"KITAS_UPLOAD_DIR": str(tmp_path / "up"), "KITAS_DOCUMENT_STORE": None})
    assert isinstance(local, LocalDocumentStore)
    config = {**S3_SETTINGS, "KITAS_S3_ENDPOINT_URL": s3_endpoint, "KITAS_UPLOAD_DIR": str(tmp_path / "up")}
    bucket = store_from_config({**config, "KITAS_DOCUMENT_STORE": f"s3://{BUCKET}/kitas/docs/"})
    assert isinstance(bucket, S3DocumentStore)
    assert (bucket.bucket, bucket.prefix, bucket.description) == (BUCKET, "kitas/docs/", f"s3://{BUCKET}/kitas/docs/")
    key = new_storage_key()
    bucket.put(key, b"through the configuration")
    assert s3_client(s3_endpoint).get_object(Bucket=BUCKET, Key="kitas/docs/" + key)["Body"].read() == (
        b"through the configuration"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, ("local", "", "")),
        ("", ("local", "", "")),
        ("local", ("local", "", "")),
        ("s3://kitas-docs", ("s3", "kitas-docs", "")),
        ("s3://kitas-docs/", ("s3", "kitas-docs", "")),
        ("s3://kitas-docs/prod", ("s3", "kitas-docs", "prod/")),
        ("s3://kitas.docs/prod/uploads/", ("s3", "kitas.docs", "prod/uploads/")),
    ],
)
def test_store_urls(url: str | None, expected: tuple[str, str, str]) -> None:
    assert parse_document_store(url) == expected


@pytest.mark.parametrize(
    "url", ["s3:/kitas", "s3://", "s3://UPPER/x", "s3://a/x", "file:///srv/docs", "/srv/docs", "s3://b-ok/a/../b"]
)
def test_a_malformed_store_url_refuses_to_start(url: str, tmp_path: Path) -> None:
    from app import create_app

    with pytest.raises(ConfigurationError, match="KITAS_DOCUMENT_STORE"):
        parse_document_store(url)
    with pytest.raises(ConfigurationError, match="KITAS_DOCUMENT_STORE"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}",
                "SECRET_KEY": "s",
                "KITAS_PAYMENT_WEBHOOK_SECRET": "w",
                "KITAS_DOCUMENT_STORE": url,
            }
        )
