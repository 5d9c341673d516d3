"""Blob stores: content-addressed, write-once. One interface; the filesystem store is the default.

A blob's key is the SHA-256 of its bytes (hex), so the same bytes are stored once and a key
never changes meaning: that is what lets downloads be cached forever (`immutable`). An
S3-compatible store implements the same four methods with the key as the object name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

__all__ = ["BlobStore", "FsBlobStore", "sha256_file"]

CHUNK = 1 << 20


class BlobStore(Protocol):
    """Blocking calls: services run them in a worker thread, never on the event loop."""

    def put_file(self, path: Path) -> tuple[str, int]:
        """Store the file's bytes (the file is left alone); return (key, size)."""

    def put_bytes(self, data: bytes) -> tuple[str, int]: ...

    def size(self, key: str) -> int | None:
        """The blob's size, or None when there is no such blob."""

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes of [start, end) in chunks."""

    def delete(self, key: str) -> None: ...


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_key(key: str) -> str:
    if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
        raise ValueError("a blob key is 64 lower-case hex digits")
    return key


class FsBlobStore:
    """Files under `root/ab/cd/<key>`: two levels of 256 folders keep directories small.

    Writes go to a temporary file in `root/tmp`, are fsynced, then renamed into place: a
    reader sees the whole blob or none of it, even after a crash mid-write.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key[2:4] / key

    def put_file(self, path: Path) -> tuple[str, int]:
        with path.open("rb") as source:
            return self._put(iter(lambda: source.read(CHUNK), b""))

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self._put(iter([data]))

    def _put(self, chunks: Iterator[bytes]) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            key = digest.hexdigest()
            final = self.path(key)
            if final.exists():  # same bytes already stored: content addressing at work
                os.unlink(tmp_name)
                return key, size
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, final)
            return key, size
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self.path(key).open("rb") as file:
            file.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = file.read(CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
