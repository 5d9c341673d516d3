"""The blob sweep: delete stored files that nothing refers to and no preservation hold covers.

Blobs are kept when a media row names them (as a variant) and that media is not `removed`;
a removed item's files are the preserved copy of what a moderator took down (Regulation
2021/784 Art. 6), so they stay while a hold covers them — the item is open, was decided less
than the preservation period ago, or a preserved copy of its decision remains (an authority
may extend one). Parts of uploads whose row is gone or no longer uploading go too.

What may be about to be recorded is spared: objects younger than `grace_ms` (a process may
have stored a variant and not yet committed its row; storing bytes again renews their age,
see `media/blobs.py`), and each candidate's age is looked at again just before it goes.

A plain async function over the database and the object store, so anything may run it: the
server's periodic task (`blob_sweep_interval_s`) or `darbuka admin sweep-blobs`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import orjson

from darbuka.media.blobs import BlobStore, name_of
from darbuka.media.objects import ObjectStore
from darbuka.media.partials import Partials
from darbuka.safety.effects import PRESERVE_MS
from darbuka.storage import Database, Stores

__all__ = ["SweepReport", "sweep_blobs"]

log = logging.getLogger(__name__)

_LIVE_UPLOADS = ("uploading", "processing")


@dataclass(frozen=True, slots=True)
class SweepReport:
    blobs_deleted: int
    blobs_kept: int
    parts_deleted: int


async def sweep_blobs(db: Database, stores: Stores, objects: ObjectStore, *, now_ms: int,
                      grace_ms: int, preserve_ms: int = PRESERVE_MS) -> SweepReport:
    """One sweep. `now_ms` is the server's clock (for holds); ages are by the wall clock,
    which is what the store stamps objects with."""
    keep, live = await _in_use(db, stores, now_ms - preserve_ms)
    young = int(time.time() * 1000) - grace_ms
    blobs = BlobStore(objects)
    deleted = kept = 0
    async for key, info in blobs.stored():
        if key in keep or info.modified_ms >= young:
            kept += 1
            continue
        again = await objects.head(name_of(key))
        if again is not None and again.modified_ms < young:
            await blobs.delete(key)
            deleted += 1
    parts = 0
    for upload_id, infos in (await Partials(objects).stored()).items():
        if upload_id in live or any(i.modified_ms >= young for i in infos):
            continue
        for info in infos:
            await objects.delete(info.name)
            parts += 1
    report = SweepReport(blobs_deleted=deleted, blobs_kept=kept, parts_deleted=parts)
    if deleted or parts:
        log.info("blob sweep: %s", report)
    return report


async def _in_use(db: Database, stores: Stores,
                  decided_since: int) -> tuple[set[str], set[str]]:
    """The blob keys to keep, and the ids of uploads still going."""
    async with db.read() as conn:
        rows = await stores.media.blob_uses(conn)
        held = await stores.safety.media_on_hold(conn, decided_since)
        exports = await stores.exports.blob_keys(conn)
    keep: set[str] = set(exports)
    live: set[str] = set()
    for media_id, state, variants in rows:
        if state in _LIVE_UPLOADS:
            live.add(media_id)
        if state != "removed" or media_id in held:
            keep.update(str(v["key"]) for v in orjson.loads(variants or "{}").values())
    return keep, live
