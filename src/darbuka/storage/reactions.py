"""Emoji reactions on messages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, func, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.messages import reactions

__all__ = ["ReactionStore"]

Row = dict[str, Any]


class ReactionStore:
    async def add(self, conn: Conn, *, message_id: int, chat_id: int, user_id: int,
                  emoji: str, now: int) -> bool:
        exists = await conn.execute(select(reactions.c.user_id).where(
            reactions.c.message_id == message_id, reactions.c.user_id == user_id,
            reactions.c.emoji == emoji))
        if exists.first() is not None:
            return False
        await conn.execute(insert(reactions).values(message_id=message_id, chat_id=chat_id,
                                                    user_id=user_id, emoji=emoji,
                                                    created_at=now))
        return True

    async def remove(self, conn: Conn, *, message_id: int, user_id: int,
                     emoji: str) -> bool:
        result = await conn.execute(delete(reactions).where(
            reactions.c.message_id == message_id, reactions.c.user_id == user_id,
            reactions.c.emoji == emoji))
        return bool(result.rowcount)

    async def count_by_user(self, conn: Conn, message_id: int, user_id: int) -> int:
        query = select(func.count()).where(reactions.c.message_id == message_id,
                                           reactions.c.user_id == user_id)
        return int((await conn.execute(query)).scalar_one())

    async def summary(self, conn: Conn, message_ids: list[int],
                      user_id: int) -> dict[int, list[Row]]:
        """message → [{emoji, count, mine}] for the messages that have reactions."""
        if not message_ids:
            return {}
        mine = func.max(case((reactions.c.user_id == user_id, 1), else_=0))
        query = (select(reactions.c.message_id, reactions.c.emoji, func.count().label("n"),
                        mine.label("mine"))
                 .where(reactions.c.message_id.in_(message_ids))
                 .group_by(reactions.c.message_id, reactions.c.emoji)
                 .order_by(reactions.c.message_id, func.count().desc(), reactions.c.emoji))
        found: dict[int, list[Row]] = {}
        for message_id, emoji, n, own in (await conn.execute(query)).all():
            found.setdefault(int(message_id), []).append(
                {"emoji": emoji, "count": int(n), "mine": bool(own)})
        return found
