"""Requests to join a group or channel that admins approve."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.chats import join_requests

__all__ = ["JoinRequestStore"]

Row = dict[str, Any]


class JoinRequestStore:
    async def get(self, conn: Conn, chat_id: int, user_id: int) -> Row | None:
        query = select(join_requests).where(join_requests.c.chat_id == chat_id,
                                            join_requests.c.user_id == user_id)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def add(self, conn: Conn, chat_id: int, user_id: int, *, now: int) -> None:
        await conn.execute(insert(join_requests).values(chat_id=chat_id, user_id=user_id,
                                                        created_at=now))

    async def remove(self, conn: Conn, chat_id: int, user_id: int) -> bool:
        result = await conn.execute(delete(join_requests).where(
            join_requests.c.chat_id == chat_id, join_requests.c.user_id == user_id))
        return bool(result.rowcount)

    async def for_chat(self, conn: Conn, chat_id: int, *, limit: int) -> list[Row]:
        """Oldest first: the first to ask is the first answered."""
        query = (select(join_requests).where(join_requests.c.chat_id == chat_id)
                 .order_by(join_requests.c.created_at, join_requests.c.user_id).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]
