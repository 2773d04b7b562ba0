"""The document stores the suite runs against: the local disk and a real S3-compatible server (moto's
standalone server on 127.0.0.1), seen from outside the application so tests can look, tamper and plant."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

# Any keys do for moto; they are given explicitly so nothing is read from the machine's AWS settings.
S3_SETTINGS = {
    "KITAS_S3_REGION": "us-east-1",
    "KITAS_S3_ACCESS_KEY_ID": "kitas-test-key",
    "KITAS_S3_SECRET_ACCESS_KEY": "kitas-test-secret",
    "KITAS_S3_SESSION_TOKEN": None,
    "KITAS_S3_ADDRESSING_STYLE": None,
}
BUCKET = "kitas-documents"


class StoredFiles(Protocol):
    """What a test sees of a store: its stored names and bytes, behind the application's back."""

    kind: str

    def keys(self) -> list[str]:
        """The keys stored (sorted), half-written files left out."""

    def read(self, key: str) -> bytes:
        """The bytes stored under ``key``."""

    def write(self, key: str, data: bytes) -> None:
        """Replace the bytes under ``key`` (tampering, or a file a crash left)."""

    def remove(self, key: str) -> None:
        """Delete the file under ``key``."""

    def plant(self, name: str, data: bytes) -> None:
        """Put a file under a name that is not one of our keys (someone else's file in the store)."""

    def names(self) -> list[str]:
        """Every name in the store, ours or not (sorted)."""


class DiskFiles:
    """The local store's folder."""

    kind = "local"

    def __init__(self, root: Path):
        self.root = root

    def _files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*") if p.is_file()) if self.root.exists() else []

    def keys(self) -> list[str]:
        return [str(p.relative_to(self.root)) for p in self._files() if not p.name.startswith(".")]

    def names(self) -> list[str]:
        return [str(p.relative_to(self.root)) for p in self._files()]

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def write(self, key: str, data: bytes) -> None:
        (self.root / key).parent.mkdir(parents=True, exist_ok=True)
        (self.root / key).write_bytes(data)

    def remove(self, key: str) -> None:
        (self.root / key).unlink()

    def plant(self, name: str, data: bytes) -> None:
        self.write(name, data)

    def age(self, name: str, when: datetime) -> None:
        """Give a file the modification time ``when`` (the disk's clock is the store's clock)."""
        stamp = when.timestamp()
        os.utime(self.root / name, (stamp, stamp))


class BucketFiles:
    """Objects under the prefix of a bucket on the S3-compatible server."""

    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str):
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def names(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        return sorted(item["Key"][len(self.prefix) :] for page in pages for item in page.get("Contents", []))

    def keys(self) -> list[str]:
        return self.names()

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)["Body"].read())

    def write(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data)

    def remove(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + key)

    def plant(self, name: str, data: bytes) -> None:
        self.write(name, data)


def s3_client(endpoint: str) -> Any:
    """A boto3 client of the test server."""
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_SETTINGS["KITAS_S3_REGION"],
        aws_access_key_id=S3_SETTINGS["KITAS_S3_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_SETTINGS["KITAS_S3_SECRET_ACCESS_KEY"],
    )


def now() -> datetime:
    """The wall clock, which is what stores stamp their files with."""
    return datetime.now(UTC)
