"""Invite links, stored by the hash of their token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.tables.chats import invites

__all__ = ["InviteStore"]

Row = dict[str, Any]


class InviteStore:
    async def create(self, conn: Conn, *, chat_id: int, token_hash: bytes,
                     created_by: int, now: int, expires_at: int | None,
                     max_uses: int | None) -> int:
        result = await conn.execute(insert(invites).values(
            chat_id=chat_id, token_hash=token_hash, created_by=created_by, created_at=now,
            expires_at=expires_at, max_uses=max_uses).returning(invites.c.id))
        return int(result.scalar_one())

    async def by_hash(self, conn: Conn, token_hash: bytes) -> Row | None:
        query = select(invites).where(invites.c.token_hash == token_hash)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def for_chat(self, conn: Conn, chat_id: int) -> list[Row]:
        query = select(invites).where(invites.c.chat_id == chat_id).order_by(invites.c.id)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def revoke(self, conn: Conn, chat_id: int, invite_id: int) -> bool:
        result = await conn.execute(update(invites).where(
            invites.c.id == invite_id, invites.c.chat_id == chat_id).values(revoked=True))
        return bool(result.rowcount)

    async def count_use(self, conn: Conn, invite_id: int) -> None:
        await conn.execute(update(invites).where(invites.c.id == invite_id)
                           .values(uses=invites.c.uses + 1))
