"""Admin rights, reactions and post views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.storage.schema import admin_rights, post_stats, post_views, reactions

__all__ = ["ReactionStore", "RightsStore", "ViewStore"]

Row = dict[str, Any]


class RightsStore:
    async def get(self, conn: AsyncConnection,
                  pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
        """(chat, user) → the stored rights, for the pairs that have a row."""
        pairs = list(set(pairs))
        if not pairs:
            return {}
        query = select(admin_rights).where(or_(*(
            and_(admin_rights.c.chat_id == c, admin_rights.c.user_id == u) for c, u in pairs)))
        return {(int(r["chat_id"]), int(r["user_id"])): r["rights"].split(",") if r["rights"]
                else [] for r in (await conn.execute(query)).mappings()}

    async def put(self, conn: AsyncConnection, chat_id: int, user_id: int,
                  rights: list[str]) -> None:
        await conn.execute(delete(admin_rights).where(admin_rights.c.chat_id == chat_id,
                                                      admin_rights.c.user_id == user_id))
        await conn.execute(insert(admin_rights).values(chat_id=chat_id, user_id=user_id,
                                                       rights=",".join(rights)))

    async def drop(self, conn: AsyncConnection, chat_id: int, user_id: int) -> None:
        await conn.execute(delete(admin_rights).where(admin_rights.c.chat_id == chat_id,
                                                      admin_rights.c.user_id == user_id))


class ReactionStore:
    async def add(self, conn: AsyncConnection, *, message_id: int, chat_id: int, user_id: int,
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

    async def remove(self, conn: AsyncConnection, *, message_id: int, user_id: int,
                     emoji: str) -> bool:
        result = await conn.execute(delete(reactions).where(
            reactions.c.message_id == message_id, reactions.c.user_id == user_id,
            reactions.c.emoji == emoji))
        return bool(result.rowcount)

    async def count_by_user(self, conn: AsyncConnection, message_id: int, user_id: int) -> int:
        query = select(func.count()).where(reactions.c.message_id == message_id,
                                           reactions.c.user_id == user_id)
        return int((await conn.execute(query)).scalar_one())

    async def summary(self, conn: AsyncConnection, message_ids: list[int],
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


class ViewStore:
    async def record(self, conn: AsyncConnection, chat_id: int, user_id: int,
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

    async def counts(self, conn: AsyncConnection, chat_id: int,
                     message_ids: list[int]) -> dict[int, int]:
        query = select(post_stats.c.message_id, post_stats.c.views).where(
            post_stats.c.chat_id == chat_id, post_stats.c.message_id.in_(message_ids))
        return {int(m): int(v) for m, v in (await conn.execute(query)).all()}
