"""Scheduled messages' rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.scheduled import scheduled_messages

__all__ = ["ScheduledStore"]

c = scheduled_messages.c
Row = dict[str, Any]


class ScheduledStore:
    async def add(self, conn: Conn, *, chat_id: int, sender_id: int, client_id: str,
                  text: str, send_at: int, now: int) -> int:
        found = await conn.execute(insert(scheduled_messages).values(
            chat_id=chat_id, sender_id=sender_id, client_id=client_id, text=text,
            send_at=send_at, state="scheduled", created_at=now, updated_at=now,
        ).returning(c.id))
        return int(found.scalar_one())

    async def get(self, conn: Conn, scheduled_id: int) -> Row | None:
        found = (await conn.execute(select(scheduled_messages)
                                    .where(c.id == scheduled_id))).first()
        return dict(found._mapping) if found else None

    async def by_client_id(self, conn: Conn, sender_id: int, client_id: str) -> Row | None:
        found = (await conn.execute(select(scheduled_messages).where(
            c.sender_id == sender_id, c.client_id == client_id))).first()
        return dict(found._mapping) if found else None

    async def waiting_in(self, conn: Conn, chat_id: int, *,
                         sender_id: int | None = None) -> list[Row]:
        """The chat's messages still to be sent, soonest first (one sender's, or all)."""
        query = select(scheduled_messages).where(c.chat_id == chat_id,
                                                 c.state == "scheduled")
        if sender_id is not None:
            query = query.where(c.sender_id == sender_id)
        found = await conn.execute(query.order_by(c.send_at, c.id))
        return [dict(r._mapping) for r in found]

    async def due(self, conn: Conn, now: int, *, stale_ms: int = 60_000,
                  limit: int = 200) -> list[Row]:
        """Rows whose time has come, and rows a stopped process was sending (claimed more
        than `stale_ms` ago: a live sender settles its claim in well under that)."""
        waiting = c.state == "scheduled"
        abandoned = and_(c.state == "sending", c.updated_at < now - stale_ms)
        found = await conn.execute(select(scheduled_messages)
                                   .where(or_(waiting, abandoned), c.send_at <= now)
                                   .order_by(c.send_at, c.id).limit(limit))
        return [dict(r._mapping) for r in found]

    async def change(self, conn: Conn, scheduled_id: int, values: dict[str, Any], *,
                     now: int, state: str = "scheduled") -> bool:
        """Change a row still in `state`; False if it moved on meanwhile (sent, cancelled)."""
        result = await conn.execute(update(scheduled_messages)
                                    .where(c.id == scheduled_id, c.state == state)
                                    .values(**values, updated_at=now))
        return bool(result.rowcount)
