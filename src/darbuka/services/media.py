"""Media after upload: processing off the event loop, waiting for it, and the download door.

Processing is a job (`services/jobs.py`), queued in the transaction that takes the last
uploaded byte, so it survives restarts and runs in whichever process takes it. Each file is
decoded in a child process (`media/worker.py`: a deadline, CPU and memory limits), at most
`media_workers` at once per process, each waited for by a thread of a pool. A row is
`processing` from the last uploaded byte until its variants are stored.

The upload's bytes come from the shared object store (its parts, `media/partials.py`) into a
local work file for the decoders; the variants go back to the blob store. A store that
does not answer leaves the row `processing` and is tried again, with growing pauses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from darbuka.clock import Clock
from darbuka.errors import ApiError, Conflict, MediaRefused, NotFound, StorageUnavailable
from darbuka.kinds import MODERATORS, role_of
from darbuka.media.blobs import BlobStore
from darbuka.media.partials import Partials, PartsMissing
from darbuka.media.pipeline import Limits
from darbuka.media.result import Hash, MediaRejected, Processed
from darbuka.media.worker import Bounded
from darbuka.services.jobs import RetryLater
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.uploads import MEDIA_JOB, check_quota, queue_processing
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import MediaFields, MediaRow

__all__ = ["Hold", "MediaNotReady", "MediaService", "Screen", "check_usable",
           "media_descriptor"]

# Matches an upload's hashes against the banks: "refuse", "review" or None.
Screen = Callable[[str, Sequence[Hash]], Awaitable[str | None]]
# Puts a held upload in the moderation queue, inside the transaction that holds it.
Hold = Callable[[Tx, MediaRow], Awaitable[None]]

# How long, once a store back from an outage first lists an upload's parts incompletely,
# they may still turn up (see `_process_once`); after that they are missing for good.
LATE_LISTING_S = 120.0

log = logging.getLogger(__name__)

# When a job runner takes over a file an import processes itself (its process died).
_TAKEN_OVER_MS = 15 * 60 * 1000


class MediaNotReady(ApiError):
    status = 409
    code = "media_not_ready"


class MediaHeld(ApiError):
    status = 409
    code = "media_held"

    def __init__(self) -> None:
        super().__init__("this file is being reviewed by a moderator before it can be shared")


def media_descriptor(row: MediaRow) -> dict[str, Any]:
    """What a message carries about its media (and what GET /media/{id} shows)."""
    view: dict[str, Any] = {"id": row["id"], "kind": row["kind"]}
    if row.get("mime"):
        view["mime"] = row["mime"]
    view["size"] = row["length"]
    if row.get("filename") and row["kind"] == "file":
        view["name"] = row["filename"]
    if info := row["info"]:
        view.update(orjson.loads(info))
    if variants := row["variants"]:
        view["variants"] = sorted(orjson.loads(variants))
    return view


class MediaService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 settings: Settings, blobs: BlobStore, partials: Partials, work_dir: Path,
                 *,
                 screen: Screen | None = None, hold: Hold | None = None,
                 writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._screen = screen
        self._hold = hold
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._settings = settings
        self._blobs = blobs
        self._partials = partials
        self._work = work_dir
        self._work.mkdir(parents=True, exist_ok=True)
        # Pauses before trying a store that did not answer again (seconds, the last repeats).
        self.retry_pauses = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
        # Times processing waited for the store since start (tests watch it).
        self.storage_waits = 0
        self._limits = Limits(max_pixels=settings.media_max_pixels,
                              max_frames=settings.media_max_frames,
                              max_duration_s=settings.media_max_duration_s,
                              max_video_frames=settings.media_max_video_frames)
        # Each file in a child process of its own, within a deadline and resource limits;
        # the pool's threads bound how many run at once.
        self._bounded = Bounded(timeout_s=settings.media_timeout_s,
                                memory_bytes=settings.media_max_memory_bytes)
        self._pool = ThreadPoolExecutor(max(1, settings.media_workers),
                                        thread_name_prefix="media")
        # Set when an upload this process processes is done (its waiters look at once).
        self._done: dict[str, asyncio.Event] = {}
        # Times each upload waited for the store (its pauses grow), and when a store just
        # back first listed its parts incompletely.
        self._waits: dict[str, int] = {}
        self._late: dict[str, float] = {}
        # Told (kind, seconds) for each file processed, refused or not (the metrics).
        self.on_processed: Callable[[str, float], None] | None = None

    # -- processing (a job: `services/jobs.py`) ---------------------------------------------

    async def process_job(self, payload: dict[str, Any]) -> None:
        """The `media.process` job: decode, screen and store one upload's variants. A store
        that does not answer puts the job back for a while, the row still `processing`."""
        media_id = str(payload["media_id"])
        try:
            await self._process_once(media_id)
        except StorageUnavailable as exc:
            waits = self._waits.get(media_id, 0)
            self._waits[media_id] = waits + 1
            self.storage_waits += 1
            pause = self.retry_pauses[min(waits, len(self.retry_pauses) - 1)]
            log.warning("processing %s waits %.1f s for file storage: %s", media_id, pause, exc)
            raise RetryLater(pause, f"file storage: {exc}") from exc
        self._waits.pop(media_id, None)
        self._late.pop(media_id, None)
        if (done := self._done.pop(media_id, None)) is not None:
            done.set()

    async def give_up_job(self, payload: dict[str, Any], _error: str) -> None:
        """A processing job tried too often (its process died each time): refuse the file."""
        await self._fail(str(payload["media_id"]), "media_invalid",
                         "the file could not be processed")

    def stop(self) -> None:
        """Kill what is decoding (the job runner, stopped first, has put its jobs back)."""
        self._bounded.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    async def _process_once(self, media_id: str) -> None:
        loop = asyncio.get_running_loop()
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, media_id)
        if row is None or row["state"] != "processing":
            return
        path = self._work / media_id
        started = time.perf_counter()
        try:
            try:
                await self._partials.materialise(media_id, row["received"], path)
                result = await loop.run_in_executor(self._pool, self._bounded.run,
                                                    row["kind"], path, self._limits)
                # Checked before anything is stored: a refused file is never served.
                action = (await self._screen(media_id, result.hashes)
                          if self._screen and result.hashes else None)
                if action == "refuse":
                    raise MediaRejected(MediaRefused().message, code=MediaRefused.code)
                variants = await self._store_variants(result, path)
            except MediaRejected as exc:
                await self._fail(media_id, exc.code, exc.message)
            except StorageUnavailable:
                raise
            except PartsMissing as exc:
                first = self._late.setdefault(media_id, time.monotonic())
                if self._waits.get(media_id, 0) and time.monotonic() - first < LATE_LISTING_S:
                    # A store that was just away can list a folder before it shows all of
                    # it again (a restarted SeaweedFS did): wait for it as for the outage.
                    raise StorageUnavailable(f"{exc} (the store is just back)") from exc
                log.warning("processing %s failed", media_id, exc_info=exc)
                await self._fail(media_id, "media_invalid", "the file could not be processed")
            except Exception as exc:
                log.warning("processing %s failed", media_id, exc_info=exc)
                await self._fail(media_id, "media_invalid", "the file could not be processed")
            else:
                await self._finish(media_id, result, variants, held=action == "review")
            if self.on_processed is not None:
                self.on_processed(row["kind"], time.perf_counter() - started)
        finally:
            for leftover in [path, *path.parent.glob(path.name + ".*")]:
                leftover.unlink(missing_ok=True)
        try:
            await self._partials.delete(media_id)
        except StorageUnavailable:  # the blob sweep takes them later
            log.warning("the parts of %s stay until the next sweep", media_id)

    async def _store_variants(self, result: Processed, path: Path) -> dict[str, Any]:
        """Store each variant; a failure part-way leaves blobs no row names (swept later)."""
        stored: dict[str, Any] = {}
        if result.keep_upload:
            key, size = await self._blobs.put_file(path)
            stored["original"] = {"key": key, "size": size, "mime": result.mime}
        for name, variant in result.variants.items():
            if variant.path is not None:
                key, size = await self._blobs.put_file(variant.path, move=True)
            else:
                key, size = await self._blobs.put_bytes(variant.data)
            stored[name] = {"key": key, "size": size, "mime": variant.mime}
        return stored

    async def _finish(self, media_id: str, result: Processed, variants: dict[str, Any], *,
                      held: bool = False) -> None:
        values: MediaFields = {"state": "held" if held else "ready", "mime": result.mime,
                  "info": orjson.dumps(result.info).decode() if result.info else None,
                  "variants": orjson.dumps(variants).decode()}

        async def save(tx: Tx) -> None:
            if await tx.stores.media.update(tx.conn, media_id, values, state="processing"):
                await tx.stores.media.add_hashes(tx.conn, [
                    {"media_id": media_id, "algo": h.algo, "value": h.value,
                     "quality": h.quality, "frame": h.frame, "created_at": tx.now}
                    for h in result.hashes])
                if held and self._hold is not None:
                    row = await tx.stores.media.get(tx.conn, media_id)
                    assert row is not None  # noqa: S101 - updated just above
                    await self._hold(tx, row)

        await self._writer.run(save)

    async def _fail(self, media_id: str, code: str, message: str) -> None:
        error = orjson.dumps({"code": code, "message": message}).decode()
        # Refused uploads stay visible to their owner for a while (to learn why), then go.
        expires = self._clock.now_ms() + self._settings.upload_expiry_s * 1000

        async def save(tx: Tx) -> None:
            await tx.stores.media.update(tx.conn, media_id, {
                "state": "failed", "error": error, "expires_at": expires},
                state="processing")

        await self._writer.run(save)

    async def do_ingest(self, data: bytes, kind: str, owner_id: int | None = None, *,
                        media_id: str | None = None, filename: str | None = None) -> str:
        """Process bytes that came in one piece (the default stickers, Bot API uploads);
        return the media id (`media_id` if given: the Bot API chooses it up front)."""
        if owner_id is not None:
            await self._writes.check("uploads", owner_id)
        media_id = media_id or secrets.token_urlsafe(16)
        await self._partials.put_bytes(media_id, data)

        async def create(tx: Tx) -> None:
            if owner_id is not None:
                await check_quota(tx, owner_id, len(data), self._settings.upload_quota_bytes)
            row: MediaRow = {"id": media_id, "owner_id": owner_id, "kind": kind,
                             "state": "processing", "length": len(data),
                             "received": len(data), "created_at": tx.now}
            if filename:
                row["filename"] = filename[:255]
            await tx.stores.media.insert(tx.conn, row)
            await queue_processing(tx, media_id)

        try:
            await self._writer.run(create)
        except BaseException:
            await self._partials.delete(media_id)
            raise
        await self._until_processed(media_id)
        return media_id

    async def do_ingest_here(self, data: bytes, kind: str, owner_id: int, *,
                             filename: str | None = None) -> MediaRow:
        """Bytes an operator brings in (an import): processed in this process (a one-shot
        command runs no job runner) by the same decoders and the same bank screen as every
        upload, without the owner's rate limit or quota; the row as it ended — ready, held
        for review, or failed (`media_refused` when a bank refused it)."""
        media_id = secrets.token_urlsafe(16)
        await self._partials.put_bytes(media_id, data)

        async def create(tx: Tx) -> None:
            row: MediaRow = {"id": media_id, "owner_id": owner_id, "kind": kind,
                             "state": "processing", "length": len(data),
                             "received": len(data), "created_at": tx.now}
            if filename:
                row["filename"] = filename[:255]
            await tx.stores.media.insert(tx.conn, row)
            # Queued as well, for later: if this process dies, a job runner finishes the
            # file; until then no server takes it from under this one.
            await tx.queue_job(MEDIA_JOB, f"media:{media_id}", {"media_id": media_id},
                               delay_ms=_TAKEN_OVER_MS)

        try:
            await self._writer.run(create)
        except BaseException:
            await self._partials.delete(media_id)
            raise
        await self._process_once(media_id)
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, media_id)
        assert row is not None  # noqa: S101 - made above; only an expiry removes it
        return row

    async def _until_processed(self, media_id: str) -> None:
        """Wait until the job (in this process or another) has processed the file."""
        while True:
            async with self._db.read() as conn:
                row = await self._stores.media.get(conn, media_id)
            if row is None or row["state"] != "processing":
                self._done.pop(media_id, None)
                return
            await self._wait_done(media_id, 0.5)

    async def _wait_done(self, media_id: str, timeout_s: float) -> None:
        done = self._done.setdefault(media_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await done.wait()

    # -- waiting and reading --------------------------------------------------------------

    async def exists(self, media_id: str) -> bool:
        async with self._db.read() as conn:
            return await self._stores.media.get(conn, media_id) is not None

    async def wait_ready(self, user_id: int, media_id: str) -> MediaRow:
        """The caller's own media once processed; 409 to retry if it takes too long.

        Someone else's ready sticker passes too: whether it is in a pack is checked when
        the message is stored."""
        deadline = asyncio.get_running_loop().time() + self._settings.media_send_wait_s
        while True:
            row = await self._own(user_id, media_id)
            if row["state"] != "processing":
                self._done.pop(media_id, None)
            if row["state"] == "ready":
                return row
            check_usable(row)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise MediaNotReady("the media is still being processed; send again shortly")
            # Processing may run in another process: look again now and then.
            await self._wait_done(media_id, min(left, 0.5))

    async def _own(self, user_id: int, media_id: str) -> MediaRow:
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, media_id)
        shared_sticker = (row is not None and row["kind"] == "sticker"
                          and row["state"] == "ready")
        if row is None or (row["owner_id"] != user_id and not shared_sticker):
            raise NotFound("no such media", code="media_not_found")
        return row

    async def get(self, user_id: int, media_id: str) -> dict[str, Any]:
        row = await self.access(user_id, media_id, any_state=True)
        view = media_descriptor(row)
        view["state"] = row["state"]
        if row["state"] == "uploading":
            view["received"] = row["received"]
        if error := row["error"]:
            view["error"] = orjson.loads(error)
        return view

    @staticmethod
    def variant(row: MediaRow, name: str) -> dict[str, Any] | None:
        """A stored variant of ready media (`key`, `size`, `mime`), or None."""
        stored = orjson.loads(row["variants"] or "{}").get(name)
        return dict(stored) if isinstance(stored, dict) else None

    async def open(self, key: str, start: int = 0,
                   end: int | None = None) -> AsyncIterator[bytes]:
        """A stored variant's bytes (found with `access` and `variant` first). A missing blob
        is a 404 and a store that does not answer a 503, both before the first byte."""
        try:
            return await self._blobs.open(key, start, end)
        except FileNotFoundError:
            raise NotFound("the file is gone from storage", code="blob_missing") from None

    async def access(self, user_id: int, media_id: str, *,
                     any_state: bool = False) -> MediaRow:
        """The one door for media: its uploader, or a member of a chat where it appears
        (neither through a message that moderation removed)."""
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, media_id)
            if row is None:
                raise NotFound("no such media", code="media_not_found")
            if row["state"] == "held" and not any_state:
                # Held for review: only moderators see the file, to decide on it.
                user = await self._stores.users.get(conn, user_id)
                if user is not None and role_of(user) in MODERATORS:
                    return row
            # An upload on a message moderation removed is no longer its uploader's to
            # read (they may still see it where a message not removed carries it).
            own = row["owner_id"] == user_id and not await self._stores.media.removed_uploads(
                conn, [media_id])
            allowed = (own or row["owner_id"] is None
                       or await self._stores.media.seen_by(conn, media_id, user_id)
                       or await self._public_elsewhere(conn, row))
        if not allowed or (not any_state and row["state"] != "ready"):
            raise NotFound("no such media", code="media_not_found")
        return row

    async def _public_elsewhere(self, conn: Conn, row: MediaRow) -> bool:
        """Stickers in a pack and profile photos are seen by every signed-in user."""
        return bool(row["kind"] in ("sticker", "avatar") and row["state"] == "ready"
                    and await self._stores.media.is_shared(conn, row["id"], row["kind"]))


def check_usable(row: MediaRow) -> None:
    """Raise for media that will never be ready."""
    if row["state"] == "failed":
        error = orjson.loads(row["error"] or "{}")
        raise MediaRejected(error.get("message", "the media was refused"),
                            code=error.get("code", "media_invalid"))
    if row["state"] == "uploading":
        raise Conflict("the upload is not finished", code="upload_unfinished")
    if row["state"] == "held":
        raise MediaHeld
    if row["state"] == "removed":
        raise Conflict("this file was removed by a moderator", code="media_removed")
