"""Object stores: named bytes, written whole. One interface, two places: a folder (the default,
one machine) and an S3-compatible bucket (`media/s3.py`, any number of machines).

Blobs (`media/blobs.py`) and the parts of unfinished uploads (`media/partials.py`) are both
kept as objects, so whatever one server process stores every other one can read. Every call
is async; the folder store does its blocking file work in a worker thread. A store that does
not answer raises `StorageUnavailable` (503), never a half-written object: a write is seen
whole or not at all.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

__all__ = ["CHUNK", "FsObjectStore", "ObjectInfo", "ObjectStore", "check_name"]

CHUNK = 1 << 20
_NAME = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    name: str
    size: int
    # When it was last written, in milliseconds since the epoch (sweeps spare young objects).
    modified_ms: int


class ObjectStore(Protocol):
    async def start(self) -> None:
        """Make the folder or bucket when it does not exist yet."""

    async def put_file(self, name: str, path: Path, *, move: bool = False) -> None:
        """Store the file's bytes as `name` (replacing what was there). With `move`, the file
        is the store's afterwards (a folder store renames it instead of copying)."""

    async def put_bytes(self, name: str, data: bytes) -> None: ...

    async def head(self, name: str) -> ObjectInfo | None:
        """The object's size and age, or None when there is no such object."""

    async def open(self, name: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        """Begin reading [start, end): a missing object or an unreachable store raises here,
        before the first byte, so a download can still answer with a fitting status."""

    async def delete(self, name: str) -> None:
        """Remove the object; nothing happens when it is not there."""

    def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object whose name starts with `prefix` (a folder: ends with "/")."""

    def local_path(self, name: str) -> Path | None:
        """Where a folder store keeps the object (to link instead of copying), else None."""


def check_name(name: str) -> str:
    """Object names are relative paths of safe characters: never `..`, never absolute."""
    if not _NAME.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        raise ValueError(f"not an object name: {name!r}")
    return name


def _place(source: Path, final: Path) -> None:
    """Rename into place, making the folder; again if a delete took the empty folder away
    between the two (deletes remove the folders they empty)."""
    for attempt in range(3):
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, final)
            return
        except FileNotFoundError:
            if attempt == 2 or not source.exists():
                raise


class FsObjectStore:
    """Objects as files under `root`. Writes go to a temporary file in `root/tmp`, are
    fsynced, then renamed into place: a reader sees the whole object or none of it, even
    after a crash mid-write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tmp = root / "tmp"

    async def start(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / check_name(name)

    def local_path(self, name: str) -> Path | None:
        return self.path(name)

    async def put_file(self, name: str, path: Path, *, move: bool = False) -> None:
        await asyncio.to_thread(self._put_file, self.path(name), path, move)

    async def put_bytes(self, name: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self.path(name), lambda out: out.write(data))

    def _put_file(self, final: Path, path: Path, move: bool) -> None:
        if move and path.stat().st_dev == self.root.stat().st_dev:
            with path.open("rb") as file:
                os.fsync(file.fileno())
            _place(path, final)
            return

        def copy(out: BinaryIO) -> None:
            with path.open("rb") as source:
                while chunk := source.read(CHUNK):
                    out.write(chunk)

        self._write(final, copy)
        if move:
            path.unlink(missing_ok=True)

    def _write(self, final: Path, fill: Callable[[BinaryIO], object]) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            # Replacing also renews the modification time the sweep goes by.
            _place(Path(tmp_name), final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    async def head(self, name: str) -> ObjectInfo | None:
        try:
            stat = await asyncio.to_thread(self.path(name).stat)
        except FileNotFoundError:
            return None
        return ObjectInfo(name, stat.st_size, int(stat.st_mtime * 1000))

    async def open(self, name: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        file = await asyncio.to_thread(self.path(name).open, "rb")
        return self._chunks(file, start, end)

    async def _chunks(self, file: BinaryIO, start: int,
                      end: int | None) -> AsyncIterator[bytes]:
        with file:
            file.seek(start)
            left = None if end is None else end - start
            while left is None or left > 0:
                chunk = await asyncio.to_thread(
                    file.read, CHUNK if left is None else min(CHUNK, left))
                if not chunk:
                    return
                if left is not None:
                    left -= len(chunk)
                yield chunk

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._delete, self.path(name))

    def _delete(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        # Empty folders go too (an upload's parts live in a folder of their own).
        parent = path.parent
        while parent != self.root and parent.is_relative_to(self.root):
            try:
                parent.rmdir()
            except OSError:
                return
            parent = parent.parent

    async def scan(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        folder, _, start = prefix.rpartition("/")
        base = self.root / check_name(folder) if folder else self.root
        found = await asyncio.to_thread(self._walk, base, start)
        for info in found:
            yield info

    def _walk(self, base: Path, start: str) -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        if not base.is_dir():
            return found
        for dirpath, dirnames, filenames in os.walk(base):
            here = Path(dirpath)
            if here == self._tmp:
                dirnames.clear()
                continue
            for filename in filenames:
                path = here / filename
                name = path.relative_to(self.root).as_posix()
                if not path.relative_to(base).as_posix().startswith(start):
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:  # deleted meanwhile
                    continue
                found.append(ObjectInfo(name, stat.st_size, int(stat.st_mtime * 1000)))
        return found
