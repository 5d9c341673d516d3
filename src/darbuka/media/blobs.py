"""Blobs: content-addressed, write-once bytes, kept as objects in an object store.

A blob's key is the SHA-256 of its bytes (hex), so the same bytes are stored once and a key
never changes meaning: that is what lets downloads be cached forever (`immutable`). The
object of key `abcd…` is `blobs/ab/cd/abcd…`: in a folder store, two levels of 256 folders
keep directories small (and blobs stored before object stores existed are found where they
were). Storing bytes that are already there writes them again, which renews the object's age:
the sweep (`safety/blob_sweep.py`) spares young blobs, so a blob reused by a new upload is not
swept between being stored and being recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

from darbuka.media.objects import CHUNK, ObjectInfo, ObjectStore

__all__ = ["BLOB_PREFIX", "BlobStore", "name_of", "sha256_file"]

BLOB_PREFIX = "blobs/"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _digest(path: Path) -> tuple[str, int]:
    return sha256_file(path), path.stat().st_size


def _is_key(key: str) -> bool:
    return len(key) == 64 and all(c in "0123456789abcdef" for c in key)


def _check_key(key: str) -> str:
    if not _is_key(key):
        raise ValueError("a blob key is 64 lower-case hex digits")
    return key


def name_of(key: str) -> str:
    key = _check_key(key)
    return f"{BLOB_PREFIX}{key[:2]}/{key[2:4]}/{key}"


class BlobStore:
    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    async def put_file(self, path: Path, *, move: bool = False) -> tuple[str, int]:
        """Store the file's bytes; return (key, size). With `move` the file is used up."""
        key, size = await asyncio.to_thread(_digest, path)
        await self.objects.put_file(name_of(key), path, move=move)
        return key, size

    async def put_bytes(self, data: bytes) -> tuple[str, int]:
        key = hashlib.sha256(data).hexdigest()
        await self.objects.put_bytes(name_of(key), data)
        return key, len(data)

    async def size(self, key: str) -> int | None:
        """The blob's size, or None when there is no such blob."""
        info = await self.objects.head(name_of(key))
        return None if info is None else info.size

    async def open(self, key: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        """The bytes of [start, end) in chunks (errors raise here, before the first)."""
        return await self.objects.open(name_of(key), start, end)

    async def read_all(self, key: str) -> bytes:
        return b"".join([chunk async for chunk in await self.open(key)])

    async def delete(self, key: str) -> None:
        await self.objects.delete(name_of(key))

    async def stored(self) -> AsyncIterator[tuple[str, ObjectInfo]]:
        """Every stored blob: (key, its object)."""
        async for info in self.objects.scan(BLOB_PREFIX):
            key = info.name.rsplit("/", 1)[-1]
            if _is_key(key) and info.name == name_of(key):
                yield key, info
