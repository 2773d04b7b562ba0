"""Documents in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), behind the same interface as the disk.

Each document is one object ``<prefix><key>``. S3 writes an object whole or not at all, so a reader never
sees half a file; reads are streamed. Every failure to reach the bucket (network, credentials, a missing
bucket) is a ``StoreUnavailable`` naming the bucket, never a secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .storage import StoredFileMissing, StoredObject, StoreUnavailable, check_key, is_key

_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3DocumentStore:
    """Objects named ``prefix + key`` in ``bucket``, through a boto3 S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.description = f"s3://{bucket}/{prefix}"

    @classmethod
    def from_config(cls, bucket: str, prefix: str, config: Mapping[str, Any]) -> S3DocumentStore:
        """A store whose client takes endpoint, region and keys from the ``KITAS_S3_*`` settings."""
        endpoint = config.get("KITAS_S3_ENDPOINT_URL") or None
        style = config.get("KITAS_S3_ADDRESSING_STYLE") or ("path" if endpoint else "auto")
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=config.get("KITAS_S3_REGION") or None,
            aws_access_key_id=config.get("KITAS_S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("KITAS_S3_SECRET_ACCESS_KEY") or None,
            aws_session_token=config.get("KITAS_S3_SESSION_TOKEN") or None,
            config=Config(
                s3={"addressing_style": style},
                retries={"max_attempts": 4, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )
        return cls(client, bucket, prefix)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _unavailable(self, action: str, exc: Exception) -> StoreUnavailable:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else type(exc).__name__
        return StoreUnavailable(f"the document store {self.description} could not {action} ({code})")

    def put(self, key: str, data: bytes) -> None:
        """Upload ``data`` as one object (S3 stores it whole or not at all)."""
        name = self._name(key)
        try:
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data, ContentType="application/octet-stream")
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("store a file", exc) from exc

    def get(self, key: str) -> bytes:
        """The whole object under ``key``."""
        with self.open(key) as stream:
            try:
                return stream.read()
            except (BotoCoreError, ClientError) as exc:
                raise self._unavailable("read a file", exc) from exc

    def open(self, key: str) -> BinaryIO:
        """The object's body as a stream (read it in chunks, then close it)."""
        name = self._name(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise StoredFileMissing(key) from exc
            raise self._unavailable("read a file", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("read a file", exc) from exc
        return cast(BinaryIO, response["Body"])

    def delete(self, key: str) -> None:
        """Remove the object (S3 answers the same whether or not it existed)."""
        name = self._name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("remove a file", exc) from exc

    def exists(self, key: str) -> bool:
        """True when the object is there."""
        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return False
            raise self._unavailable("look for a file", exc) from exc
        except BotoCoreError as exc:
            raise self._unavailable("look for a file", exc) from exc
        return True

    def listing(self) -> Iterator[StoredObject]:
        """Every object under the prefix whose remaining name is a key, page by page."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    key = str(item["Key"])[len(self.prefix) :]
                    if is_key(key):
                        yield StoredObject(key, _utc(item["LastModified"]), int(item.get("Size", 0)))
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("list its files", exc) from exc

    def remove_abandoned_writes(self, before: datetime) -> int:
        """Abort multipart uploads under the prefix started before ``before`` (their parts cost storage)."""
        removed = 0
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for upload in page.get("Uploads", []):
                    if _utc(upload["Initiated"]) < before:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                        removed += 1
        except (BotoCoreError, ClientError) as exc:
            raise self._unavailable("list unfinished uploads", exc) from exc
        return removed


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
