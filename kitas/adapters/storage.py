"""Where document files live: a small key -> bytes interface, and the local-disk store behind it.

Keys are generated here (random, never derived from a person's name or the
uploaded file name) and look like ``3f/3f9c...``; an S3-compatible store can
use the same keys as object names.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32,64}$")
_DIR_MODE = 0o700
_FILE_MODE = 0o600


class StoredFileMissing(LookupError):
    """The store holds nothing under the key asked for."""


class DocumentStore(Protocol):
    """Put, get, delete and test for stored files by key; every method is safe to retry."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (all or nothing: a reader never sees half a file)."""

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises StoredFileMissing when there are none."""

    def delete(self, key: str) -> None:
        """Remove the file under ``key``; removing a missing file is not an error."""

    def exists(self, key: str) -> bool:
        """True when something is stored under ``key``."""


def new_storage_key() -> str:
    """A fresh random key (160 bits), sharded by its first two characters."""
    token = secrets.token_hex(20)
    return f"{token[:2]}/{token}"


def check_key(key: str) -> str:
    """Return ``key`` if it has the shape this module generates, else raise ValueError (no path tricks)."""
    if not _KEY.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalDocumentStore:
    """Files on the local disk under ``root``: folders 0700, files 0600, written atomically."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root).resolve()

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
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
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

    def delete(self, key: str) -> None:
        """Remove the file under ``key`` if it is there."""
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        """True when a file is stored under ``key``."""
        return self._path(key).is_file()


def store_from_config(config: Mapping[str, Any], web_root: str | os.PathLike[str] | None = None) -> DocumentStore:
    """The document store the configuration asks for (the local disk; an S3 store is future work).

    ``web_root`` is the folder the web server serves files from; a store inside
    it would let anyone who guesses a key bypass the access checks, so it is refused.
    """
    root = Path(str(config["KITAS_UPLOAD_DIR"])).resolve()
    if web_root is not None and root.is_relative_to(Path(web_root).resolve()):
        raise RuntimeError(f"KITAS_UPLOAD_DIR ({root}) is inside the web root ({web_root}); move it outside")
    return LocalDocumentStore(root)
