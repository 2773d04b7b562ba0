"""Where document files live: a small key -> bytes interface, the local-disk store, and the choice of store.

Keys are generated here (random, never derived from a person's name or the
uploaded file name) and look like ``3f/3f9c...``; the S3-compatible store
(``s3_store.py``, chosen by ``KITAS_DOCUMENT_STORE=s3://bucket/prefix``) uses
the same keys as object names under its prefix.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ..config import parse_document_store

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32,64}$")
_SHARD = re.compile(r"^[0-9a-f]{2}$")
_DIR_MODE = 0o700
_FILE_MODE = 0o600
_PARTIAL_PREFIX = ".incoming-"


class StoredFileMissing(LookupError):
    """The store holds nothing under the key asked for."""


class StoreUnavailable(OSError):
    """The store could not be reached or refused the request (network, credentials, a full disk)."""


@dataclass(frozen=True)
class StoredObject:
    """One stored file as a listing shows it: its key, when it was written (UTC) and its size."""

    key: str
    modified_at: datetime
    size: int


class DocumentStore(Protocol):
    """Put, get, open, delete, test and list stored files by key; every method is safe to retry."""

    description: str  # where the files are, for logs and the command line (never a secret)

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (all or nothing: a reader never sees half a file)."""

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises StoredFileMissing when there are none."""

    def open(self, key: str) -> BinaryIO:
        """A stream of the bytes under ``key``, to read in chunks and close; StoredFileMissing if none."""

    def delete(self, key: str) -> None:
        """Remove the file under ``key``; removing a missing file is not an error."""

    def exists(self, key: str) -> bool:
        """True when something is stored under ``key``."""

    def listing(self) -> Iterator[StoredObject]:
        """Every stored file whose name is a key of this module (anything else in the store is not ours)."""

    def remove_abandoned_writes(self, before: datetime) -> int:
        """Remove writes that were started before ``before`` and never finished; how many were removed."""


def new_storage_key() -> str:
    """A fresh random key (160 bits), sharded by its first two characters."""
    token = secrets.token_hex(20)
    return f"{token[:2]}/{token}"


def check_key(key: str) -> str:
    """Return ``key`` if it has the shape this module generates, else raise ValueError (no path tricks)."""
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


def is_key(name: str) -> bool:
    """True when ``name`` has the shape of a key this module generates."""
    return bool(_KEY.match(name))


class LocalDocumentStore:
    """Files on the local disk under ``root``: folders 0700, files 0600, written atomically."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()
        self.description = f"local disk {self.root}"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _ensure_dir(self, path: Path) -> None:
        missing: list[Path] = []
        current = path
        while not current.exists():
            missing.append(current)
            current = current.parent
        for folder in reversed(missing):
            try:
                folder.mkdir(mode=_DIR_MODE)
            except FileExistsError:  # another process made it first
                continue
            folder.chmod(_DIR_MODE)  # mkdir's mode is reduced by the umask

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file in the target folder, sync it, then rename it into place."""
        target = self._path(key)
        self._ensure_dir(target.parent)
        # mkstemp creates the file with mode 0600 whatever the umask.
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=_PARTIAL_PREFIX)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temp_name, _FILE_MODE)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """Read the whole file stored under ``key``."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def open(self, key: str) -> BinaryIO:
        """The file under ``key``, opened for reading."""
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise StoredFileMissing(key) from exc

    def delete(self, key: str) -> None:
        """Remove the file under ``key`` if it is there."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """True when a file is stored under ``key``."""
        return self._path(key).is_file()

    def listing(self) -> Iterator[StoredObject]:
        """Every file under a two-character shard folder whose path is a key; half-written files are not."""
        for shard, entry in self._entries():
            key = f"{shard}/{entry.name}"
            if is_key(key):
                info = entry.stat(follow_symlinks=False)
                yield StoredObject(key, datetime.fromtimestamp(info.st_mtime, UTC), info.st_size)

    def remove_abandoned_writes(self, before: datetime) -> int:
        """Remove the temporary files of writes interrupted (a crash between create and rename) before ``before``."""
        removed = 0
        for _shard, entry in self._entries():
            if entry.name.startswith(_PARTIAL_PREFIX):
                if datetime.fromtimestamp(entry.stat(follow_symlinks=False).st_mtime, UTC) < before:
                    Path(entry.path).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _entries(self) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """The regular files in the shard folders, with their shard's name."""
        if not self.root.is_dir():
            return
        with os.scandir(self.root) as shards:
            for shard in shards:
                if not (_SHARD.match(shard.name) and shard.is_dir(follow_symlinks=False)):
                    continue
                with os.scandir(shard.path) as entries:
                    for entry in entries:
                        if entry.is_file(follow_symlinks=False):
                            yield shard.name, entry


def store_from_config(config: Mapping[str, Any], web_root: str | os.PathLike[str] | None = None) -> DocumentStore:
    """The document store the configuration asks for: ``KITAS_DOCUMENT_STORE`` (an S3-compatible bucket)
    when set, else the local disk under ``KITAS_UPLOAD_DIR``.

    ``web_root`` is the folder the web server serves files from; a local store inside
    it would let anyone who guesses a key bypass the access checks, so it is refused.
    """
    kind, bucket, prefix = parse_document_store(config.get("KITAS_DOCUMENT_STORE"))
    if kind == "s3":
        from .s3_store import S3DocumentStore

        return S3DocumentStore.from_config(bucket, prefix, config)
    root = Path(str(config["KITAS_UPLOAD_DIR"])).resolve()
    if web_root is not None and root.is_relative_to(Path(web_root).resolve()):
        raise RuntimeError(f"KITAS_UPLOAD_DIR ({root}) is inside the web root ({web_root}); move it outside")
    return LocalDocumentStore(root)
