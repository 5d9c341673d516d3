"""The admin log: every admin action in a chat, newest first for its admins."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.chats import admin_log

__all__ = ["AdminLogStore"]

Row = dict[str, Any]


class AdminLogStore:
    async def add(self, conn: Conn, *, chat_id: int, actor_id: int, action: str,
                  target_id: int | None, details: dict[str, Any], now: int) -> None:
        await conn.execute(insert(admin_log).values(
            chat_id=chat_id, actor_id=actor_id, action=action, target_id=target_id,
            details=orjson.dumps(details).decode(), created_at=now))

    async def for_chat(self, conn: Conn, chat_id: int, *, before: int | None,
                       limit: int) -> list[Row]:
        query = select(admin_log).where(admin_log.c.chat_id == chat_id)
        if before is not None:
            query = query.where(admin_log.c.id < before)
        rows = (await conn.execute(query.order_by(admin_log.c.id.desc()).limit(limit))).mappings()
        return [{**r, "details": orjson.loads(r["details"])} for r in rows]
