"""Media in the safety work: uploads held by a review bank, removing a media item from every
chat it was shared to, banking its hashes so re-uploads are refused, and undoing that.

The effects run inside the deciding transaction like every other decision. Banking the
hashes needs the stored picture decoded and the live matcher updated, so it runs right after
the decision commits (`MediaBanker.bank`).
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import orjson
from PIL import Image

from darbuka.errors import BadRequest, NotFound
from darbuka.media.blobs import BlobStore
from darbuka.safety import effects
from darbuka.safety.banks import BankService
from darbuka.services.writer import Tx
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MediaRow

__all__ = ["LOCAL_BANK", "MediaBanker", "add_match_item", "hold_media", "media_of_item",
           "release_media", "remove_media", "restore_media"]

log = logging.getLogger(__name__)

# Where removed media's hashes go. Made on first use, refusing re-uploads.
LOCAL_BANK = "local-removals"
HASH_MATCH_PRIORITY = 2  # moderation.PRIORITY["hash_match"]
# The stored picture whose PDQ is banked: the photo as shown, or a video's poster frame.
_PICTURES = ("screen", "poster", "thumb")


async def hold_media(tx: Tx, row: MediaRow) -> None:
    """An upload matched a review bank: queue it for a moderator (it stays `held`)."""
    await add_match_item(tx, row["id"])


async def add_match_item(tx: Tx, media_id: str) -> int:
    """A `hash_match` item in the queue for a media item; its id."""
    return await tx.stores.safety.add_item(
        tx.conn, source="hash_match", priority=HASH_MATCH_PRIORITY, target_type="media",
        target_id=0, target_key=media_id, chat_id=None, created_at=tx.now, report_count=0)


async def media_of_item(tx: Tx, item: dict[str, Any]) -> MediaRow:
    """The media a media item names, or the media a message item's message carries."""
    media_id: str | None = item.get("target_key")
    if media_id is None and item["target_type"] == "message":
        message = await effects.load_message(tx, int(item["target_id"]))
        if media := message["media"]:
            media_id = str(orjson.loads(media)["id"])
    if media_id is None:
        raise BadRequest("remove_media needs a media item or a message with media",
                         code="wrong_target")
    row = await tx.stores.media.get(tx.conn, media_id)
    if row is None:
        raise NotFound("no such media", code="media_not_found")
    return row


async def remove_media(tx: Tx, item: dict[str, Any]) -> MediaRow:
    """Remove the item's media everywhere: every message carrying it is removed for everyone
    (preserved, scrubbed from history, an event to every client) and the file is no longer
    served to anyone. The blobs stay: they are the preserved copy. Returns the media row."""
    row = await media_of_item(tx, item)
    for ref in await tx.stores.media.refs_of(tx.conn, row["id"]):
        message = await tx.stores.messages.get(tx.conn, ref["message_id"])
        if message is not None:
            await effects.remove_message(tx, message, reason=item["source"], item_id=item["id"])
    await tx.stores.media.update(tx.conn, row["id"], {"state": "removed"})
    if item.get("target_key") is None:
        # A message item: remember which media was removed, for an appeal to restore it.
        await tx.stores.safety.update_item(tx.conn, item["id"], target_key=row["id"])
    return row


async def release_media(tx: Tx, item: dict[str, Any]) -> None:
    """A held upload dismissed by a moderator: it is usable again."""
    if item["target_type"] == "media" and item.get("target_key") and \
            await tx.stores.media.update(tx.conn, item["target_key"], {"state": "ready"},
                                         state="held"):
        await effects.set_captions_found(tx, item["target_key"], found=True)


async def restore_media(tx: Tx, item_id: int) -> None:
    """Reverse remove_media (an appeal): the messages this decision removed come back and the
    file is served again. The banked hashes stay in the local bank (see docs/banks.md)."""
    item = await tx.stores.safety.item(tx.conn, item_id)
    if item is None or not item.get("target_key"):
        return
    media_id = str(item["target_key"])
    for ref in await tx.stores.media.refs_of(tx.conn, media_id):
        # Only what this decision removed: another decision's removal stands.
        await effects.reinstate_message(tx, ref["message_id"], item_id=item_id)
    await tx.stores.media.update(tx.conn, media_id, {"state": "ready"}, state="removed")


class MediaBanker:
    """Puts a removed media item's hashes in the local bank: MD5, SHA-256, the PDQ of all
    eight rotations and flips of its picture, and a video's per-second frame PDQs."""

    def __init__(self, db: Database, stores: Stores, banks: BankService,
                 blobs: BlobStore) -> None:
        self._db = db
        self._stores = stores
        self._banks = banks
        self._blobs = blobs

    async def bank(self, media_id: str) -> int:
        async with self._db.read() as conn:
            row = await self._stores.media.get(conn, media_id)
            hashes = await self._stores.media.hashes(conn, media_id)
            exists = await self._stores.banks.by_name(conn, LOCAL_BANK)
        if row is None:
            return 0
        if exists is None:
            try:
                await self._banks.do_create({
                    "name": LOCAL_BANK, "action": "refuse",
                    "source": "media removed by this server's moderators"})
            except Exception:  # made meanwhile by another decision: fine
                log.info("bank %s exists already", LOCAL_BANK)
        md5 = next((h["value"] for h in hashes if h["algo"] == "md5"), None)
        sha256 = next((h["value"] for h in hashes if h["algo"] == "sha256"), None)
        frames = [h["value"] for h in hashes if h["algo"] == "pdq" and h["frame"] is not None]
        image = await self._picture(row)
        if image is None and not (md5 or sha256 or frames):
            return 0
        return await self._banks.do_add_media(LOCAL_BANK, image=image, pdq=frames, md5=md5,
                                              sha256=sha256,
                                              labels={"media": media_id, "kind": row["kind"]})

    async def _picture(self, row: MediaRow) -> Image.Image | None:
        variants = orjson.loads(row["variants"] or "{}")
        for name in _PICTURES:
            if name in variants:
                data = await self._blobs.read_all(variants[name]["key"])
                return await asyncio.to_thread(_decode, data)
        return None


def _decode(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")
