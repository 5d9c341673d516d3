"""A member's own settings for one chat: its mute and the draft they are writing there.

Both live on the membership row (see tables/chats.py), so leaving a chat forgets them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, tuple_, update

from darbuka.storage.db import Conn, in_chunks
from darbuka.storage.tables.chats import members

__all__ = ["PreferenceStore"]


class PreferenceStore:
    async def set_mute(self, conn: Conn, chat_id: int, user_id: int, *,
                       until: int | None, mentions: bool) -> None:
        """`until` None: not muted."""
        await conn.execute(update(members).where(
            members.c.chat_id == chat_id, members.c.user_id == user_id).values(
            muted_until=until, mute_mentions=mentions and until is not None))

    async def mutes(self, conn: Conn, chat_id: int,
                    user_ids: Iterable[int]) -> dict[int, tuple[int, bool]]:
        """user id -> (muted_until, mute_mentions), for those of them muting the chat at any
        time (expired or not)."""
        found: dict[int, tuple[int, bool]] = {}
        for part in in_chunks(list(set(user_ids))):
            query = select(members.c.user_id, members.c.muted_until, members.c.mute_mentions
                           ).where(members.c.chat_id == chat_id, members.c.user_id.in_(part),
                                   members.c.muted_until.is_not(None))
            found |= {int(u): (int(t), bool(m)) for u, t, m in (await conn.execute(query)).all()}
        return found

    async def set_draft(self, conn: Conn, chat_id: int, user_id: int, text: str | None,
                        at: int | None) -> None:
        await conn.execute(update(members).where(
            members.c.chat_id == chat_id, members.c.user_id == user_id).values(
            draft=text, draft_at=at))

    async def clear_drafts(self, conn: Conn, pairs: Iterable[tuple[int, int]]) -> None:
        """Forget the drafts of these (chat_id, user_id) memberships."""
        pairs = sorted(set(pairs))
        if pairs:
            await conn.execute(update(members).where(
                tuple_(members.c.chat_id, members.c.user_id).in_(pairs)).values(
                draft=None, draft_at=None))
