"""Public chats (by handle, search, recent posts) and invite links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.storage.schema import chats, handles, invites, messages, users

__all__ = ["InviteStore", "PublicStore"]

Row = dict[str, Any]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PublicStore:
    async def chat_by_handle(self, conn: AsyncConnection, key: str) -> Row | None:
        query = (select(chats, users.c.verified.label("owner_verified"))
                 .join(handles, handles.c.chat_id == chats.c.id)
                 .outerjoin(users, users.c.id == chats.c.owner_id)
                 .where(handles.c.key == key, chats.c.is_public.is_(True)))
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def recent_posts(self, conn: AsyncConnection, chat_id: int, limit: int) -> list[Row]:
        """The newest visible posts, oldest first (system messages and deleted ones left out)."""
        query = (select(messages).where(messages.c.chat_id == chat_id,
                                        messages.c.deleted.is_(False),
                                        messages.c.system.is_(None))
                 .order_by(messages.c.seq.desc()).limit(limit))
        rows = [dict(r) for r in (await conn.execute(query)).mappings()]
        return rows[::-1]

    async def recent_post_ids(self, conn: AsyncConnection, chat_id: int,
                              limit: int) -> set[int]:
        """The ids of the posts `recent_posts` answers."""
        query = (select(messages.c.id).where(messages.c.chat_id == chat_id,
                                             messages.c.deleted.is_(False),
                                             messages.c.system.is_(None))
                 .order_by(messages.c.seq.desc()).limit(limit))
        return {int(i) for i in (await conn.execute(query)).scalars()}

    async def search(self, conn: AsyncConnection, text: str, key: str | None,
                     limit: int) -> list[Row]:
        """Public groups and channels whose title contains `text` or handle starts with `key`."""
        pattern = f"%{_escape_like(text.lower())}%"
        match = [chats.c.title.ilike(pattern, escape="\\")]
        if key:
            match.append(chats.c.handle.ilike(f"{_escape_like(key)}%", escape="\\"))
        query = (select(chats, users.c.verified.label("owner_verified"))
                 .outerjoin(users, users.c.id == chats.c.owner_id)
                 .where(chats.c.is_public.is_(True), chats.c.kind != "direct", or_(*match))
                 .order_by(chats.c.member_count.desc(), chats.c.id).limit(limit))
        return [dict(r) for r in (await conn.execute(query)).mappings()]


class InviteStore:
    async def create(self, conn: AsyncConnection, *, chat_id: int, token_hash: bytes,
                     created_by: int, now: int, expires_at: int | None,
                     max_uses: int | None) -> int:
        result = await conn.execute(insert(invites).values(
            chat_id=chat_id, token_hash=token_hash, created_by=created_by, created_at=now,
            expires_at=expires_at, max_uses=max_uses).returning(invites.c.id))
        return int(result.scalar_one())

    async def by_hash(self, conn: AsyncConnection, token_hash: bytes) -> Row | None:
        query = select(invites).where(invites.c.token_hash == token_hash)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def for_chat(self, conn: AsyncConnection, chat_id: int) -> list[Row]:
        query = select(invites).where(invites.c.chat_id == chat_id).order_by(invites.c.id)
        return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def revoke(self, conn: AsyncConnection, chat_id: int, invite_id: int) -> bool:
        result = await conn.execute(update(invites).where(
            invites.c.id == invite_id, invites.c.chat_id == chat_id).values(revoked=True))
        return bool(result.rowcount)

    async def count_use(self, conn: AsyncConnection, invite_id: int) -> None:
        await conn.execute(update(invites).where(invites.c.id == invite_id)
                           .values(uses=invites.c.uses + 1))
