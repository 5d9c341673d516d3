"""Public chats: by handle, search, recent posts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from darbuka.storage.db import Conn
from darbuka.storage.rows import MessageRow, PublicChatRow, typed
from darbuka.storage.tables.accounts import handles, users
from darbuka.storage.tables.chats import chats
from darbuka.storage.tables.messages import messages

__all__ = ["PublicStore"]

Row = dict[str, Any]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PublicStore:
    async def chat_by_handle(self, conn: Conn, key: str) -> PublicChatRow | None:
        query = (select(chats, users.c.verified.label("owner_verified"))
                 .join(handles, handles.c.chat_id == chats.c.id)
                 .outerjoin(users, users.c.id == chats.c.owner_id)
                 .where(handles.c.key == key, chats.c.is_public.is_(True)))
        row = (await conn.execute(query)).mappings().first()
        return typed(row, PublicChatRow) if row else None

    async def recent_posts(self, conn: Conn, chat_id: int,
                           limit: int) -> list[MessageRow]:
        """The newest visible posts, oldest first (system messages and deleted ones left out)."""
        query = (select(messages).where(messages.c.chat_id == chat_id,
                                        messages.c.deleted.is_(False),
                                        messages.c.system.is_(None))
                 .order_by(messages.c.seq.desc()).limit(limit))
        rows = [typed(r, MessageRow) for r in (await conn.execute(query)).mappings()]
        return rows[::-1]

    async def recent_post_ids(self, conn: Conn, chat_id: int,
                              limit: int) -> set[int]:
        """The ids of the posts `recent_posts` answers."""
        query = (select(messages.c.id).where(messages.c.chat_id == chat_id,
                                             messages.c.deleted.is_(False),
                                             messages.c.system.is_(None))
                 .order_by(messages.c.seq.desc()).limit(limit))
        return {int(i) for i in (await conn.execute(query)).scalars()}

    async def search(self, conn: Conn, text: str, key: str | None,
                     limit: int) -> list[PublicChatRow]:
        """Public groups and channels whose title contains `text` or handle starts with `key`."""
        pattern = f"%{_escape_like(text.lower())}%"
        match = [chats.c.title.ilike(pattern, escape="\\")]
        if key:
            match.append(chats.c.handle.ilike(f"{_escape_like(key)}%", escape="\\"))
        query = (select(chats, users.c.verified.label("owner_verified"))
                 .outerjoin(users, users.c.id == chats.c.owner_id)
                 .where(chats.c.is_public.is_(True), chats.c.kind != "direct", or_(*match))
                 .order_by(chats.c.member_count.desc(), chats.c.id).limit(limit))
        return [typed(r, PublicChatRow) for r in (await conn.execute(query)).mappings()]
