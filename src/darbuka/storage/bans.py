"""Per-chat bans: who may not come back into a group or channel."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.chats import chat_bans

__all__ = ["BanStore"]

Row = dict[str, Any]


class BanStore:
    async def is_banned(self, conn: Conn, chat_id: int, user_id: int) -> bool:
        query = select(chat_bans.c.user_id).where(chat_bans.c.chat_id == chat_id,
                                                  chat_bans.c.user_id == user_id)
        return (await conn.execute(query)).first() is not None

    async def banned_of(self, conn: Conn, chat_id: int, user_ids: list[int]) -> set[int]:
        query = select(chat_bans.c.user_id).where(chat_bans.c.chat_id == chat_id,
                                                  chat_bans.c.user_id.in_(user_ids))
        return {int(u) for u in (await conn.execute(query)).scalars()}

    async def add(self, conn: Conn, chat_id: int, user_id: int, *, by: int, now: int) -> bool:
        """Ban; False when the user was banned already."""
        if await self.is_banned(conn, chat_id, user_id):
            return False
        await conn.execute(insert(chat_bans).values(chat_id=chat_id, user_id=user_id,
                                                    banned_by=by, created_at=now))
        return True

    async def remove(self, conn: Conn, chat_id: int, user_id: int) -> bool:
        result = await conn.execute(delete(chat_bans).where(chat_bans.c.chat_id == chat_id,
                                                            chat_bans.c.user_id == user_id))
        return bool(result.rowcount)

    async def for_chat(self, conn: Conn, chat_id: int, *, after: int, limit: int) -> list[Row]:
        query = (select(chat_bans.c.user_id, chat_bans.c.banned_by, chat_bans.c.created_at)
                 .where(chat_bans.c.chat_id == chat_id, chat_bans.c.user_id > after)
                 .order_by(chat_bans.c.user_id).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]
