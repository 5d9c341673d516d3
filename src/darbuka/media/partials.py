"""The bytes of unfinished uploads, as parts in the object store that every process shares.

Each PATCH of a tus upload becomes one part, `partial/<upload id>/<start>-<end>` (positions
zero-padded so names sort by position), stored whole once its bytes are in. The database's
`received` says how far the upload is; the parts from 0 to there are found by following
`start` to `end`. A part stored but never recorded (its process died, or the store failed
before the row was updated) is simply not on that path. So an upload begun on one process
resumes on any other, and a failed store leaves nothing half-written behind.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from darbuka.media.objects import ObjectInfo, ObjectStore

__all__ = ["PARTIAL_PREFIX", "Partials", "PartsMissing", "adopt_single_files"]

PARTIAL_PREFIX = "partial/"
_DIGITS = 20


def _folder(upload_id: str) -> str:
    return f"{PARTIAL_PREFIX}{upload_id}/"


def _name(upload_id: str, start: int, end: int) -> str:
    return f"{_folder(upload_id)}{start:0{_DIGITS}d}-{end:0{_DIGITS}d}"


def _span(name: str) -> tuple[int, int] | None:
    """(start, end) of a part's name, or None for a name that is not a part's."""
    start, dash, end = name.rsplit("/", 1)[-1].partition("-")
    if not (dash and start.isdigit() and end.isdigit()):
        return None
    return int(start), int(end)


class PartsMissing(FileNotFoundError):
    """The store lacks bytes the row says it holds (lost, or deleted from under it)."""


def adopt_single_files(root: Path) -> int:
    """Folder stores of earlier versions kept an unfinished upload as one file,
    `partial/<id>`: make each the upload's first part, so it resumes after an upgrade."""
    folder = root / PARTIAL_PREFIX
    moved = 0
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.is_file():
            size = path.stat().st_size
            target = folder / f"{path.name}.adopting"
            target.mkdir(exist_ok=True)
            if size:
                os.replace(path, target / f"{0:0{_DIGITS}d}-{size:0{_DIGITS}d}")
            else:
                path.unlink()
            os.replace(target, folder / path.name)
            moved += 1
    return moved


class Partials:
    def __init__(self, objects: ObjectStore) -> None:
        self.objects = objects

    async def put(self, upload_id: str, start: int, path: Path) -> int:
        """Store the file as the part beginning at `start` (the file is used up); return
        where the part ends."""
        end = start + (await asyncio.to_thread(path.stat)).st_size
        await self.objects.put_file(_name(upload_id, start, end), path, move=True)
        return end

    async def put_bytes(self, upload_id: str, data: bytes) -> None:
        """An upload that arrived in one piece: its only part."""
        await self.objects.put_bytes(_name(upload_id, 0, len(data)), data)

    async def chain(self, upload_id: str, received: int) -> list[str]:
        """The names of the parts that hold bytes [0, received), in order."""
        spans: dict[int, list[tuple[int, str]]] = {}
        async for info in self.objects.scan(_folder(upload_id)):
            span = _span(info.name)
            if span and span[0] < span[1] <= received and info.size == span[1] - span[0]:
                spans.setdefault(span[0], []).append((span[1], info.name))
        path = _find(spans, received)
        if path is None:
            raise PartsMissing(f"the parts of upload {upload_id} are incomplete")
        return path

    async def read(self, upload_id: str, received: int, end: int) -> bytes:
        """Bytes [0, end) of what is stored (end ≤ received): the head, to judge the type."""
        out = bytearray()
        for name in await self.chain(upload_id, received):
            if len(out) >= end:
                break
            start, stop = _span(name) or (0, 0)  # a name from `chain`: always a part's
            async for chunk in await self.objects.open(name, 0, min(stop - start,
                                                                    end - len(out))):
                out += chunk
        return bytes(out[:end])

    async def materialise(self, upload_id: str, received: int, dest: Path) -> None:
        """Put the upload's bytes into one local file, for the decoders to read."""
        names = await self.chain(upload_id, received)
        local = self.objects.local_path(names[0]) if len(names) == 1 else None
        await asyncio.to_thread(dest.unlink, missing_ok=True)
        if local is not None:
            try:
                await asyncio.to_thread(os.link, local, dest)  # the same bytes, no copy
                return
            except OSError:
                pass
        with dest.open("wb") as out:
            for name in names:
                async for chunk in await self.objects.open(name):
                    await asyncio.to_thread(out.write, chunk)

    async def delete(self, upload_id: str) -> None:
        for info in [i async for i in self.objects.scan(_folder(upload_id))]:
            await self.objects.delete(info.name)

    async def stored(self) -> dict[str, list[ObjectInfo]]:
        """Every stored part, by upload id (for the sweep)."""
        found: dict[str, list[ObjectInfo]] = {}
        async for info in self.objects.scan(PARTIAL_PREFIX):
            upload_id = info.name.removeprefix(PARTIAL_PREFIX).split("/", 1)[0]
            found.setdefault(upload_id, []).append(info)
        return found


def _find(spans: dict[int, list[tuple[int, str]]], goal: int) -> list[str] | None:
    """A path of parts from 0 to `goal`, trying the longest step first (fewest parts)."""
    came: dict[int, tuple[int, str]] = {}
    stack, seen = [0], set()
    while stack:
        pos = stack.pop()
        if pos == goal:
            names: list[str] = []
            while pos:
                pos, name = came[pos]
                names.append(name)
            return names[::-1]
        if pos in seen:
            continue
        seen.add(pos)
        for end, name in sorted(spans.get(pos, [])):  # the longest is tried first
            if end not in seen:
                came.setdefault(end, (pos, name))
                stack.append(end)
    return None
