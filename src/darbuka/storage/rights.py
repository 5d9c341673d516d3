"""Admin rights of group and channel admins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.chats import admin_rights

__all__ = ["RightsStore"]

Row = dict[str, Any]


class RightsStore:
    async def get(self, conn: Conn,
                  pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[str]]:
        """(chat, user) → the stored rights, for the pairs that have a row."""
        pairs = list(set(pairs))
        if not pairs:
            return {}
        query = select(admin_rights).where(or_(*(
            and_(admin_rights.c.chat_id == c, admin_rights.c.user_id == u) for c, u in pairs)))
        return {(int(r["chat_id"]), int(r["user_id"])): r["rights"].split(",") if r["rights"]
                else [] for r in (await conn.execute(query)).mappings()}

    async def put(self, conn: Conn, chat_id: int, user_id: int,
                  rights: list[str]) -> None:
        await conn.execute(delete(admin_rights).where(admin_rights.c.chat_id == chat_id,
                                                      admin_rights.c.user_id == user_id))
        await conn.execute(insert(admin_rights).values(chat_id=chat_id, user_id=user_id,
                                                       rights=",".join(rights)))

    async def drop(self, conn: Conn, chat_id: int, user_id: int) -> None:
        await conn.execute(delete(admin_rights).where(admin_rights.c.chat_id == chat_id,
                                                      admin_rights.c.user_id == user_id))
