"""Resumable uploads (tus 1.0): create, append from an offset, finish, terminate, expire.

Each PATCH is taken into a local spool file, then stored whole as one part in the shared
object store (`media/partials.py`) before `received` moves on: a PATCH that reaches one
process resumes on any other, and a store that fails leaves the upload where it was (503,
and the client sends the same bytes again). Once the last byte arrives the upload turns
into media that is processed (see `services/media.py`). An upload belongs to its creator:
anyone else gets 404 for it, exactly as for an id that does not exist.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from darbuka.clock import Clock
from darbuka.errors import ApiError, BadRequest, Conflict, NotFound, StorageUnavailable
from darbuka.media.partials import Partials, PartsMissing
from darbuka.media.sniff import HEAD_BYTES, KINDS, accepts, sniff
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MediaFields, MediaRow

__all__ = ["CHECKSUM_ALGORITHMS", "MEDIA_JOB", "ChecksumMismatch", "UploadService",
           "check_quota", "queue_processing", "sanitise_filename"]

log = logging.getLogger(__name__)

CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}


class ChecksumMismatch(ApiError):
    status = 460  # tus checksum extension
    code = "checksum_mismatch"


class TooLarge(ApiError):
    status = 413
    code = "upload_too_large"


class UnsupportedType(ApiError):
    status = 415
    code = "unsupported_media_type"


class UploadLost(ApiError):
    status = 410  # tus: the upload is gone; the client starts a new one
    code = "upload_lost"


class Locked(ApiError):
    status = 423
    code = "upload_busy"


def sanitise_filename(name: str) -> str:
    """A name safe to show and to offer as a download name: no paths, no control characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"\s+", " ", name)
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip(" .")
    if len(name.encode()) > 200:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        name = stem.encode()[:180].decode(errors="ignore") + (f".{ext}" if ext else "")
    return name or "file"


async def check_quota(tx: Tx, user_id: int, length: int, quota: int) -> None:
    """The bytes one user may hold in uploads: every way in (tus, the Bot API) checks here."""
    held = await tx.stores.media.bytes_held(tx.conn, user_id)
    if held + length > quota:
        raise TooLarge("this would exceed your storage quota", code="quota_exceeded")


# The job that turns a whole upload into its variants (`MediaService.process_job`).
MEDIA_JOB = "media.process"


async def queue_processing(tx: Tx, media_id: str) -> None:
    """Queue an upload's processing in the transaction that makes it `processing`."""
    await tx.queue_job(MEDIA_JOB, f"media:{media_id}", {"media_id": media_id})


class UploadService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 settings: Settings, partials: Partials, spool_dir: Path, *,
                 writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._settings = settings
        self._partials = partials
        self._spool = spool_dir
        self._spool.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, asyncio.Lock] = {}
        # Payload bytes taken in by PATCH requests since start (tests count resends with it).
        self.bytes_received = 0

    def limit_for(self, kind: str) -> int:
        s = self._settings
        return {"photo": s.upload_max_photo_bytes, "sticker": s.upload_max_photo_bytes,
                "avatar": s.upload_max_photo_bytes, "voice": s.upload_max_voice_bytes,
                "video": s.upload_max_video_bytes}.get(kind, s.upload_max_file_bytes)

    @property
    def max_size(self) -> int:
        return max(self.limit_for(k) for k in KINDS)

    async def stored_parts(self, upload_id: str) -> int:
        """How many parts of the upload the store holds (tests look)."""
        return len((await self._partials.stored()).get(upload_id, []))

    async def do_create(self, user_id: int, length: int, meta: dict[str, str]) -> MediaRow:
        await self._writes.check("uploads", user_id)
        kind = meta.get("kind", "file")
        if kind not in KINDS:
            raise BadRequest(f"metadata kind must be one of {', '.join(KINDS)}",
                             code="invalid_kind")
        if length <= 0:
            raise BadRequest("an upload needs at least one byte", code="empty_upload")
        if length > self.limit_for(kind):
            raise TooLarge(f"a {kind} may have at most {self.limit_for(kind)} bytes")
        upload_id = secrets.token_urlsafe(16)
        now = self._clock.now_ms()
        row: MediaRow = {"id": upload_id, "owner_id": user_id, "kind": kind, "state": "uploading",
               "length": length, "received": 0,
               "filename": sanitise_filename(meta.get("filename", "")),
               "created_at": now, "expires_at": now + self._settings.upload_expiry_s * 1000}

        async def create(tx: Tx) -> None:
            await check_quota(tx, user_id, length, self._settings.upload_quota_bytes)
            await tx.stores.media.insert(tx.conn, row)

        await self._writer.run(create)
        return row

    async def get(self, user_id: int, upload_id: str) -> MediaRow:
        """The caller's own unexpired upload; waits while a PATCH on it is finishing."""
        lock = self._locks.get(upload_id)
        if lock is not None and lock.locked():
            try:
                async with asyncio.timeout(5):
                    await lock.acquire()
                lock.release()
            except TimeoutError:
                pass
        return await self._load(user_id, upload_id)

    async def _load(self, user_id: int, upload_id: str) -> MediaRow:
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, upload_id)
        if row is None or row["owner_id"] != user_id or self._expired(row):
            raise NotFound("no such upload", code="upload_not_found")
        return row

    def _expired(self, row: MediaRow) -> bool:
        expires = row["expires_at"]
        return expires is not None and expires < self._clock.now_ms()

    async def do_append(self, user_id: int, upload_id: str, offset: int,
                        body: AsyncIterator[bytes], checksum: str | None) -> int:
        """Write the body at `offset`; return the new offset. On a dropped link, what arrived
        is kept (and the exception goes on to the caller)."""
        hasher = _checksum_hasher(checksum)
        lock = self._locks.setdefault(upload_id, asyncio.Lock())
        if lock.locked():
            raise Locked("another request is writing to this upload; retry shortly")
        async with lock:
            try:
                return await self._append_locked(user_id, upload_id, offset, body, checksum,
                                                 hasher)
            finally:
                self._locks.pop(upload_id, None)

    async def _append_locked(self, user_id: int, upload_id: str, offset: int,
                             body: AsyncIterator[bytes], checksum: str | None,
                             hasher: Any) -> int:
        row = await self._load(user_id, upload_id)
        if row["state"] != "uploading" or offset != row["received"]:
            raise Conflict(f"the upload is at offset {row['received']}",
                           code="offset_mismatch")
        length = row["length"]
        written = offset
        need = min(HEAD_BYTES, length)  # the type is judged once this many bytes are in
        spool = self._spool / f"{upload_id}.{secrets.token_hex(4)}"
        try:
            try:
                with spool.open("wb") as file:
                    async for chunk in body:
                        if written + len(chunk) > length:
                            raise BadRequest("the body goes past Upload-Length",
                                             code="upload_overflow")
                        file.write(chunk)
                        if written < need <= written + len(chunk):
                            file.flush()
                            await self._check_head(row, offset, spool, need)
                        written += len(chunk)
                        self.bytes_received += len(chunk)
                        if hasher is not None:
                            hasher.update(chunk)
            except (UnsupportedType, UploadLost):
                # Refused at its first bytes (or what came before is lost): the rest is
                # never taken in, the upload is gone.
                await self.do_terminate(user_id, upload_id, lock_free=True)
                raise
            except BaseException:
                # Keep what arrived (tus resumes from it) unless a checksum must vouch for it.
                if hasher is None and written > offset:
                    await self._keep_quietly(upload_id, offset, written, spool)
                raise
            if hasher is not None and not _checksum_matches(hasher, checksum):
                raise ChecksumMismatch("Upload-Checksum does not match the body")
            if written > offset:
                await self._keep(upload_id, offset, spool, complete=written == length)
        finally:
            spool.unlink(missing_ok=True)
        return written

    async def _check_head(self, row: MediaRow, offset: int, spool: Path, need: int) -> None:
        try:
            stored = await self._partials.read(row["id"], offset, min(offset, need))
        except PartsMissing:
            raise UploadLost("the bytes stored so far are gone; start the upload again") \
                from None
        with spool.open("rb") as file:
            head = stored + file.read(need - len(stored))
        _check_type(row["kind"], head)

    async def _keep(self, upload_id: str, offset: int, spool: Path, *,
                    complete: bool = False) -> None:
        """Store the spooled bytes as a part, then move `received` on: in that order, so a
        failed store changes nothing the client can see."""
        end = await self._partials.put(upload_id, offset, spool)
        await self._record(upload_id, offset, end, complete=complete)

    async def _keep_quietly(self, upload_id: str, offset: int, written: int,
                            spool: Path) -> None:
        """After a dropped link: keep what arrived if the store takes it."""
        try:
            await self._keep(upload_id, offset, spool, complete=False)
        except (StorageUnavailable, Conflict) as exc:
            log.info("the bytes of %s up to %d were not kept: %s", upload_id, written, exc)

    async def _record(self, upload_id: str, offset: int, received: int, *,
                      complete: bool = False) -> None:
        values: MediaFields = {"received": received}
        if complete:
            values |= {"state": "processing", "expires_at": None}

        async def save(tx: Tx) -> bool:
            # Only from where this PATCH began: another process may have moved it meanwhile.
            moved = await tx.stores.media.update(tx.conn, upload_id, values,
                                                 state="uploading", received=offset)
            if moved and complete:
                await queue_processing(tx, upload_id)
            return moved

        if not await self._writer.run(save):
            raise Conflict("another request wrote to this upload meanwhile; ask HEAD for "
                           "the offset", code="offset_mismatch")

    async def do_terminate(self, user_id: int, upload_id: str, *,
                           lock_free: bool = False) -> None:
        await self._writes.check("other", user_id)
        if not lock_free:
            lock = self._locks.get(upload_id)
            if lock is not None and lock.locked():
                raise Locked("the upload is being written; retry shortly")
        row = await self._load(user_id, upload_id)
        if row["state"] not in ("uploading", "failed"):
            raise Conflict("a finished upload is removed with the messages that use it",
                           code="upload_finished")

        async def remove(tx: Tx) -> None:
            await tx.stores.media.delete(tx.conn, upload_id)

        await self._writer.run(remove)
        await self._drop_parts(upload_id)

    async def _drop_parts(self, upload_id: str) -> None:
        try:
            await self._partials.delete(upload_id)
        except StorageUnavailable:  # the blob sweep takes them later
            log.warning("the parts of upload %s stay until the next sweep", upload_id)

    async def do_expire(self) -> int:
        """Delete unfinished uploads past their expiry (and refused ones); return how many."""
        async with self._db.read() as conn:
            rows = await self._stores.media.expired(conn, self._clock.now_ms())
        for row in rows:
            if (lock := self._locks.get(row["id"])) is not None and lock.locked():
                continue

            async def remove(tx: Tx, media_id: str = row["id"]) -> None:
                await tx.stores.media.delete(tx.conn, media_id)

            await self._writer.run(remove)
            await self._drop_parts(row["id"])
        return len(rows)


def _check_type(kind: str, head: bytes) -> None:
    """Refuse a wrong type as soon as its first bytes are in, not after 2 GB."""
    mime = sniff(head)
    if not accepts(kind, mime):
        raise UnsupportedType(f"this is {mime}, which a {kind} cannot be")


def _checksum_hasher(header: str | None) -> Any:
    if header is None:
        return None
    algo, _, _value = header.strip().partition(" ")
    factory = CHECKSUM_ALGORITHMS.get(algo.lower())
    if factory is None:
        raise BadRequest(f"checksum algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}",
                         code="checksum_algorithm")
    return factory()


def _checksum_matches(hasher: Any, header: str | None) -> bool:
    assert header is not None  # noqa: S101 - a hasher exists only with a header
    value = header.strip().partition(" ")[2].strip()
    try:
        expected = base64.b64decode(value, validate=True)
    except ValueError:
        return False
    return secrets.compare_digest(hasher.digest(), expected)
