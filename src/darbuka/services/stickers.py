"""Sticker packs: create, add, list, install per user; the default pack is drawn at start-up.

A pack is public by its id (like a link to it): anyone signed in may look at it, install it
and send its stickers; only its creator adds to it.
"""

from __future__ import annotations

import io
from typing import Any

from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.media.drawn_stickers import DEFAULT_PACK_TITLE, drawn_stickers
from darbuka.services.media import MediaService, check_usable, media_descriptor
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.text import clean_name
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores

__all__ = ["MAX_PACK_STICKERS", "StickerService"]

MAX_PACK_STICKERS = 120


class StickerService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 media: MediaService, *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        self._media = media
        self._default_ready = False

    async def ensure_default_pack(self) -> None:
        """Draw and store the default pack the first time anyone looks at packs."""
        if self._default_ready:
            return
        async with self._db.read() as conn:
            if await self._stores.stickers.default_pack(conn) is not None:
                self._default_ready = True
                return
        made = []
        for emoji, picture in drawn_stickers():
            out = io.BytesIO()
            picture.save(out, "PNG")
            made.append((emoji, await self._media.do_ingest(out.getvalue(), "sticker")))

        async def create(tx: Tx) -> None:
            if await tx.stores.stickers.default_pack(tx.conn) is not None:
                return  # another process was first
            pack_id = await tx.stores.stickers.create_pack(tx.conn, {
                "owner_id": None, "title": DEFAULT_PACK_TITLE, "is_default": True,
                "created_at": tx.now})
            for emoji, media_id in made:
                await tx.stores.stickers.add(tx.conn, pack_id, media_id, emoji)

        await self._writer.run(create)
        self._default_ready = True

    async def do_create(self, user_id: int, title: Any) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        if not isinstance(title, str) or not 1 <= len(clean_name(title)) <= 64:
            raise BadRequest("title must be 1 to 64 characters", code="invalid_title")
        title = clean_name(title)

        async def create(tx: Tx) -> int:
            pack_id = await tx.stores.stickers.create_pack(tx.conn, {
                "owner_id": user_id, "title": title.strip(), "created_at": tx.now})
            await tx.stores.stickers.install(tx.conn, user_id, pack_id, tx.now)
            return pack_id

        return await self.get(await self._writer.run(create))

    async def do_add(self, user_id: int, pack_id: int, media_id: str,
                     emoji: str) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        row = await self._media.wait_ready(user_id, media_id)
        if row["kind"] != "sticker" or row["owner_id"] != user_id:
            raise BadRequest("upload the picture with kind sticker first", code="not_a_sticker")
        check_usable(row)

        async def add(tx: Tx) -> None:
            pack = await tx.stores.stickers.pack(tx.conn, pack_id)
            if pack is None:
                raise NotFound("no such sticker pack", code="pack_not_found")
            if pack["owner_id"] != user_id:
                raise Forbidden("only the pack's creator adds stickers", code="not_pack_owner")
            if await tx.stores.stickers.count(tx.conn, pack_id) >= MAX_PACK_STICKERS:
                raise BadRequest(f"a pack holds at most {MAX_PACK_STICKERS} stickers",
                                 code="pack_full")
            if media_id in await tx.stores.stickers.in_packs(tx.conn, [media_id]):
                raise BadRequest("that sticker is already in a pack", code="already_in_pack")
            await tx.stores.stickers.add(tx.conn, pack_id, media_id, emoji)

        await self._writer.run(add)
        return await self.get(pack_id)

    async def get(self, pack_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            pack = await self._stores.stickers.pack(conn, pack_id)
            if pack is None:
                raise NotFound("no such sticker pack", code="pack_not_found")
            return (await self._views(conn, [pack]))[0]

    async def installed(self, user_id: int) -> list[dict[str, Any]]:
        await self.ensure_default_pack()
        async with self._db.read() as conn:
            packs = await self._stores.stickers.installed(conn, user_id)
            return await self._views(conn, packs)

    async def do_install(self, user_id: int, pack_id: int, *, install: bool) -> None:
        await self._writes.check("other", user_id)
        async def change(tx: Tx) -> None:
            if await tx.stores.stickers.pack(tx.conn, pack_id) is None:
                raise NotFound("no such sticker pack", code="pack_not_found")
            if install:
                await tx.stores.stickers.install(tx.conn, user_id, pack_id, tx.now)
            else:
                await tx.stores.stickers.uninstall(tx.conn, user_id, pack_id)

        await self._writer.run(change)

    async def _views(self, conn: Conn,
                     packs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items = await self._stores.stickers.items(conn, [p["id"] for p in packs])
        media = await self._stores.media.by_ids(conn, [i["media_id"] for i in items])
        views = {p["id"]: {"id": p["id"], "title": p["title"], "owner_id": p["owner_id"],
                           "default": bool(p["is_default"]), "stickers": []} for p in packs}
        for item in items:
            row = media.get(item["media_id"])
            if row is not None and row["state"] == "ready":
                views[item["pack_id"]]["stickers"].append(
                    {"emoji": item["emoji"], "media": media_descriptor(row)})
        return [views[p["id"]] for p in packs]
