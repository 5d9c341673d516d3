"""Sends that anti-spam holds for a moderator's review."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import delete, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.safety import held_sends

__all__ = ["HeldStore"]

Row = dict[str, Any]


class HeldStore:
    async def add(self, conn: Conn, *, item_id: int, sender_id: int, chat_id: int,
                  client_id: str, request: dict[str, Any], now: int) -> bool:
        """Hold a send; False when this (sender, client_id) is held already (a retry)."""
        query = select(held_sends.c.id).where(held_sends.c.sender_id == sender_id,
                                              held_sends.c.client_id == client_id)
        if (await conn.execute(query)).first() is not None:
            return False
        await conn.execute(insert(held_sends).values(
            item_id=item_id, sender_id=sender_id, chat_id=chat_id, client_id=client_id,
            request=orjson.dumps(request).decode(), created_at=now))
        return True

    async def of_item(self, conn: Conn, item_id: int) -> list[Row]:
        query = select(held_sends).where(held_sends.c.item_id == item_id).order_by(
            held_sends.c.id)
        return [{**r, "request": orjson.loads(r["request"])}
                for r in (await conn.execute(query)).mappings()]

    async def drop_item(self, conn: Conn, item_id: int) -> None:
        await conn.execute(delete(held_sends).where(held_sends.c.item_id == item_id))
