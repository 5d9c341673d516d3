"""A zip written from async code without blocking the event loop: each write runs in a
worker thread, and the file is made whole beside its place, then moved in (a reader never
sees half a zip). It hands back the SHA-256 of every entry (a manifest lists them)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

__all__ = ["ZipOut"]


class ZipOut:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.hashes: dict[str, str] = {}
        self._temp: Path | None = None
        self._zip: zipfile.ZipFile | None = None

    async def __aenter__(self) -> ZipOut:
        def start() -> tuple[Path, zipfile.ZipFile]:
            fd, temp = tempfile.mkstemp(prefix=".zip-", dir=self.path.parent)
            os.close(fd)
            return Path(temp), zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED)

        self._temp, self._zip = await asyncio.to_thread(start)
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        zf, temp = self._zip, self._temp
        assert zf is not None  # noqa: S101 - entered
        assert temp is not None  # noqa: S101 - entered

        def finish() -> None:
            zf.close()
            if kind is None:
                temp.replace(self.path)
            else:
                temp.unlink(missing_ok=True)

        await asyncio.to_thread(finish)

    async def add(self, name: str, data: bytes) -> str:
        assert self._zip is not None  # noqa: S101 - entered
        await asyncio.to_thread(self._zip.writestr, name, data)
        self.hashes[name] = hashlib.sha256(data).hexdigest()
        return self.hashes[name]

    async def add_chunks(self, name: str, chunks: AsyncIterator[bytes]) -> str:
        assert self._zip is not None  # noqa: S101 - entered
        digest = hashlib.sha256()
        entry = await asyncio.to_thread(self._zip.open, name, "w")
        try:
            async for chunk in chunks:
                digest.update(chunk)
                await asyncio.to_thread(entry.write, chunk)
        finally:
            await asyncio.to_thread(entry.close)
        self.hashes[name] = digest.hexdigest()
        return self.hashes[name]
