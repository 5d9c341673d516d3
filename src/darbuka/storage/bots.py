"""Bots: their markers, webhook subscriptions and pending callback presses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.bots import bot_callbacks, bot_subscriptions, bots

__all__ = ["BotStore"]

Row = dict[str, Any]


class BotStore:
    async def create(self, conn: Conn, *, user_id: int, marker: int,
                     now: int) -> None:
        await conn.execute(insert(bots).values(user_id=user_id, marker=marker, created_at=now))

    async def get(self, conn: Conn, user_id: int) -> Row | None:
        row = (await conn.execute(select(bots).where(bots.c.user_id == user_id))).first()
        return dict(row._mapping) if row else None

    async def update(self, conn: Conn, user_id: int, values: Row) -> None:
        await conn.execute(update(bots).where(bots.c.user_id == user_id).values(**values))

    async def set_marker(self, conn: Conn, user_id: int, marker: int) -> None:
        await conn.execute(update(bots).where(bots.c.user_id == user_id).values(marker=marker))

    # -- subscriptions --------------------------------------------------------------------

    async def subscriptions(self, conn: Conn, bot_id: int | None = None) -> list[Row]:
        query = select(bot_subscriptions).order_by(bot_subscriptions.c.id)
        if bot_id is not None:
            query = query.where(bot_subscriptions.c.bot_id == bot_id)
        return [dict(r._mapping) for r in await conn.execute(query)]

    async def subscribe(self, conn: Conn, *, bot_id: int, url: str,
                        update_types: str, version: str, now: int) -> None:
        # One subscription per bot: a new URL replaces the old one (as TamTam does).
        await conn.execute(delete(bot_subscriptions).where(bot_subscriptions.c.bot_id == bot_id))
        await conn.execute(insert(bot_subscriptions).values(
            bot_id=bot_id, url=url, update_types=update_types, version=version, created_at=now))

    async def unsubscribe_all(self, conn: Conn, *, bot_id: int) -> int:
        result = await conn.execute(delete(bot_subscriptions).where(
            bot_subscriptions.c.bot_id == bot_id))
        return int(result.rowcount)

    async def unsubscribe(self, conn: Conn, *, bot_id: int, url: str) -> bool:
        result = await conn.execute(delete(bot_subscriptions).where(
            bot_subscriptions.c.bot_id == bot_id, bot_subscriptions.c.url == url))
        return bool(result.rowcount)

    # -- callbacks ------------------------------------------------------------------------

    async def add_callback(self, conn: Conn, row: Row) -> None:
        await conn.execute(insert(bot_callbacks).values(**row))

    async def callback(self, conn: Conn, callback_id: str) -> Row | None:
        row = (await conn.execute(select(bot_callbacks).where(
            bot_callbacks.c.id == callback_id))).first()
        return dict(row._mapping) if row else None
