"""View counters of channel posts: one view per user per post."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.messages import post_stats, post_views

__all__ = ["ViewStore"]

Row = dict[str, Any]


class ViewStore:
    async def record(self, conn: Conn, chat_id: int, user_id: int,
                     message_ids: list[int]) -> list[int]:
        """Count one view per user per post; returns the posts whose count went up."""
        if not message_ids:
            return []
        seen_query = select(post_views.c.message_id).where(
            post_views.c.user_id == user_id, post_views.c.message_id.in_(message_ids))
        seen = {int(m) for m in (await conn.execute(seen_query)).scalars()}
        new = [m for m in message_ids if m not in seen]
        if not new:
            return []
        await conn.execute(insert(post_views), [{"message_id": m, "user_id": user_id}
                                                for m in new])
        have_query = select(post_stats.c.message_id).where(post_stats.c.message_id.in_(new))
        have = {int(m) for m in (await conn.execute(have_query)).scalars()}
        if missing := [m for m in new if m not in have]:
            await conn.execute(insert(post_stats), [{"message_id": m, "chat_id": chat_id,
                                                     "views": 0} for m in missing])
        await conn.execute(update(post_stats).where(post_stats.c.message_id.in_(new))
                           .values(views=post_stats.c.views + 1))
        return new

    async def counts(self, conn: Conn, chat_id: int,
                     message_ids: list[int]) -> dict[int, int]:
        query = select(post_stats.c.message_id, post_stats.c.views).where(
            post_stats.c.chat_id == chat_id, post_stats.c.message_id.in_(message_ids))
        return {int(m): int(v) for m, v in (await conn.execute(query)).all()}
