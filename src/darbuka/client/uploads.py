"""Resumable uploads over tus 1.0 (the server's /api/v1/uploads/).

A file goes up in PATCH chunks. When the link drops, the uploader asks the server with
HEAD how many bytes it holds and goes on from there, so nothing that arrived is sent
again; the upload id can be kept by the caller (the outbox does) to resume in a later
process.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from darbuka.backoff import Backoff
from darbuka.client.http import ApiError, HttpApi

__all__ = ["KINDS", "Progress", "TusUploader", "file_size", "guess_kind"]

TUS = {"Tus-Resumable": "1.0.0"}
KINDS = ("photo", "voice", "video", "sticker", "file")
# (bytes the server holds, total bytes)
Progress = Callable[[int, int], None]

_SUFFIX_KINDS = {
    ".jpg": "photo", ".jpeg": "photo", ".png": "photo", ".webp": "photo", ".heic": "photo",
    ".gif": "photo", ".ogg": "voice", ".opus": "voice", ".m4a": "voice", ".mp3": "voice",
    ".wav": "voice", ".mp4": "video", ".mov": "video", ".webm": "video",
}


def file_size(path: str | Path) -> int | None:
    """The size of a regular file, or None if there is none (a quick local stat)."""
    file = Path(path)
    return file.stat().st_size if file.is_file() else None


def guess_kind(path: str | Path) -> str:
    """A default kind from the file name; the server decides from the bytes anyway."""
    return _SUFFIX_KINDS.get(Path(path).suffix.lower(), "file")


def _metadata(kind: str, filename: str) -> str:
    def b64(value: str) -> str:
        return base64.b64encode(value.encode()).decode()
    return f"kind {b64(kind)},filename {b64(filename)}"


class TusUploader:
    """Uploads through an `HttpApi`'s signed-in HTTP client."""

    def __init__(self, api: HttpApi, *, chunk_size: int = 1 << 20, attempts: int = 30,
                 backoff: Backoff | None = None) -> None:
        self._api = api
        self.chunk_size = chunk_size
        self.attempts = attempts
        self._backoff = backoff or Backoff(base=0.2, cap=10.0)

    async def create(self, size: int, kind: str, filename: str) -> str:
        """Create the upload; returns its id (which is also the media id)."""
        response = await self._request("POST", "/uploads/", headers={
            **TUS, "Upload-Length": str(size), "Upload-Metadata": _metadata(kind, filename)})
        return response.headers["location"].rstrip("/").rsplit("/", 1)[1]

    async def offset(self, upload_id: str) -> int:
        """How many bytes the server holds (tus HEAD)."""
        response = await self._request("HEAD", f"/uploads/{upload_id}", headers=TUS)
        return int(response.headers["upload-offset"])

    async def send(self, path: str | Path, upload_id: str, *,
                   progress: Progress | None = None) -> None:
        """Send what the server does not hold yet; retries dropped links from HEAD."""
        size = file_size(path) or 0
        failures, best = 0, -1
        while True:
            try:
                offset = await self.offset(upload_id)
                if offset > best:
                    # The last try got bytes through: the link works, start waits afresh.
                    failures, best = 0, offset
                    self._backoff.reset()
                if progress is not None:
                    progress(offset, size)
                while offset < size:
                    offset = await self._patch(path, upload_id, offset, size, progress)
                return
            except (httpx.TransportError, ApiError) as exc:
                # 409: our offset was stale (a PATCH we gave up on still landed); 423: a
                # dropped PATCH is still winding up on the server. Both: ask HEAD again.
                if isinstance(exc, ApiError) and not (exc.transient or exc.status in (409, 423)):
                    raise
                failures += 1
                if failures >= self.attempts:
                    raise
            await asyncio.sleep(self._backoff.next_delay())

    async def upload(self, path: str | Path, kind: str = "file", *,
                     filename: str | None = None, progress: Progress | None = None,
                     on_created: Callable[[str], Awaitable[None]] | None = None) -> str:
        """Create and send a whole file; returns the media id."""
        path = Path(path)
        size = file_size(path)
        if size is None:
            raise FileNotFoundError(path)
        upload_id = await self.create(size, kind, filename or path.name)
        if on_created is not None:
            await on_created(upload_id)
        await self.send(path, upload_id, progress=progress)
        return upload_id

    async def _patch(self, path: str | Path, upload_id: str, offset: int, size: int,
                     progress: Progress | None) -> int:
        length = min(self.chunk_size, size - offset)
        response = await self._request(
            "PATCH", f"/uploads/{upload_id}",
            content=_read(path, offset, length, size, progress),
            headers={**TUS, "Upload-Offset": str(offset), "Content-Length": str(length),
                     "Content-Type": "application/offset+octet-stream"})
        new_offset = int(response.headers["upload-offset"])
        self._backoff.reset()
        if progress is not None:
            progress(new_offset, size)
        return new_offset

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._api.request(method, path, **kwargs)


async def _read(path: str | Path, offset: int, length: int, size: int,
                progress: Progress | None) -> AsyncIterator[bytes]:
    """The chunk's bytes in 64 KiB pieces, reporting progress as they go out."""
    sent = 0
    with open(path, "rb") as file:  # noqa: ASYNC230 - small local reads between sends
        file.seek(offset)
        while sent < length:
            piece = file.read(min(65536, length - sent))
            if not piece:
                raise OSError("the file got shorter while uploading")
            sent += len(piece)
            yield piece
            if progress is not None:
                progress(offset + sent, size)
