"""The shared @handle namespace (users and chats)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from darbuka.storage.db import Conn
from darbuka.storage.tables.accounts import handles, users

__all__ = ["HandleStore"]

Row = dict[str, Any]


class HandleStore:
    async def get(self, conn: Conn, key: str) -> Row | None:
        row = (await conn.execute(select(handles).where(handles.c.key == key))).mappings().first()
        return dict(row) if row else None

    async def insert(self, conn: Conn, *, key: str, skeleton: str,
                     user_id: int | None, chat_id: int | None, owner_id: int) -> None:
        await conn.execute(insert(handles).values(key=key, skeleton=skeleton, user_id=user_id,
                                                  chat_id=chat_id, owner_id=owner_id))

    async def release(self, conn: Conn, *, user_id: int | None,
                      chat_id: int | None) -> None:
        if user_id is not None:
            await conn.execute(delete(handles).where(handles.c.user_id == user_id))
        if chat_id is not None:
            await conn.execute(delete(handles).where(handles.c.chat_id == chat_id))

    async def verified_lookalike(self, conn: Conn, skeleton: str, *,
                                 other_than: int) -> bool:
        query = (select(handles.c.key).join(users, users.c.id == handles.c.owner_id)
                 .where(handles.c.skeleton == skeleton, users.c.verified.is_(True),
                        handles.c.owner_id != other_than).limit(1))
        return (await conn.execute(query)).first() is not None

    async def is_verified(self, conn: Conn, user_id: int) -> bool:
        query = select(users.c.verified).where(users.c.id == user_id)
        return bool((await conn.execute(query)).scalar())

    async def users_by_keys(self, conn: Conn, keys: set[str]) -> dict[str, int]:
        """@username key → user id, for the keys that are users' handles."""
        if not keys:
            return {}
        query = select(handles.c.key, handles.c.user_id).where(
            handles.c.key.in_(list(keys)), handles.c.user_id.is_not(None))
        return {str(k): int(u) for k, u in (await conn.execute(query)).all()}
