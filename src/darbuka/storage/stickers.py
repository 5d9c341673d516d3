"""Sticker packs, their stickers, and which packs each user has installed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, or_, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.media import sticker_packs, stickers, user_sticker_packs

__all__ = ["StickerStore"]

Row = dict[str, Any]


class StickerStore:
    async def create_pack(self, conn: Conn, row: Row) -> int:
        result = await conn.execute(insert(sticker_packs).values(**row)
                                    .returning(sticker_packs.c.id))
        return int(result.scalar_one())

    async def pack(self, conn: Conn, pack_id: int) -> Row | None:
        query = select(sticker_packs).where(sticker_packs.c.id == pack_id)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def default_pack(self, conn: Conn) -> Row | None:
        query = select(sticker_packs).where(sticker_packs.c.is_default.is_(True))
        row = (await conn.execute(query.limit(1))).mappings().first()
        return dict(row) if row else None

    async def items(self, conn: Conn, pack_ids: Iterable[int]) -> list[Row]:
        query = select(stickers).where(stickers.c.pack_id.in_(list(pack_ids)))
        rows = await conn.execute(query.order_by(stickers.c.pack_id, stickers.c.position))
        return [dict(r) for r in rows.mappings()]

    async def add(self, conn: Conn, pack_id: int, media_id: str, emoji: str) -> None:
        count = select(func.count()).where(stickers.c.pack_id == pack_id)
        position = int((await conn.execute(count)).scalar_one())
        await conn.execute(insert(stickers).values(pack_id=pack_id, media_id=media_id,
                                                   emoji=emoji, position=position))

    async def count(self, conn: Conn, pack_id: int) -> int:
        query = select(func.count()).where(stickers.c.pack_id == pack_id)
        return int((await conn.execute(query)).scalar_one())

    async def in_packs(self, conn: Conn, media_ids: Iterable[str]) -> set[str]:
        wanted = list(set(media_ids))
        if not wanted:
            return set()
        query = select(stickers.c.media_id).where(stickers.c.media_id.in_(wanted))
        return {str(m) for m in (await conn.execute(query)).scalars()}

    async def installed(self, conn: Conn, user_id: int) -> list[Row]:
        """The default pack first, then the user's installed packs in install order."""
        mine = select(user_sticker_packs.c.pack_id).where(
            user_sticker_packs.c.user_id == user_id)
        query = select(sticker_packs).where(or_(sticker_packs.c.is_default.is_(True),
                                                sticker_packs.c.id.in_(mine)))
        rows = await conn.execute(query.order_by(sticker_packs.c.is_default.desc(),
                                                 sticker_packs.c.id))
        return [dict(r) for r in rows.mappings()]

    async def install(self, conn: Conn, user_id: int, pack_id: int, now: int) -> None:
        exists = select(user_sticker_packs.c.pack_id).where(
            user_sticker_packs.c.user_id == user_id, user_sticker_packs.c.pack_id == pack_id)
        if (await conn.execute(exists)).first() is None:
            await conn.execute(insert(user_sticker_packs).values(
                user_id=user_id, pack_id=pack_id, installed_at=now))

    async def uninstall(self, conn: Conn, user_id: int, pack_id: int) -> None:
        await conn.execute(delete(user_sticker_packs).where(
            user_sticker_packs.c.user_id == user_id, user_sticker_packs.c.pack_id == pack_id))
