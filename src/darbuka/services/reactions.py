"""Emoji reactions on messages, and view counters of channel posts.

In a channel subscribers do not learn who else subscribes: they get each message's
reaction counts (`reaction.counts`), while the owner and admins also hear who reacted.

Views: a client reports the posts it showed, a screenful at a time (one request per batch,
one statement per table per batch). Each user counts once per post; nothing is written for
subscribers who never open a post, so a post to 20,000 subscribers writes no row per
subscriber.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from darbuka.errors import BadRequest, Conflict
from darbuka.services.access import (
    access_chat,
    access_message,
    check_can_interact,
    member_audience,
)
from darbuka.services.push import queue_reaction_push
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import ChatRow

__all__ = ["MAX_REACTIONS_PER_USER", "ReactionService"]

MAX_REACTIONS_PER_USER = 3
MAX_EMOJI_CHARS = 10


def check_emoji(raw: Any) -> str:
    """An emoji (with its modifiers and joiners): no letters, digits or spaces."""
    if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_EMOJI_CHARS:
        raise BadRequest("emoji must be one emoji", code="invalid_emoji")
    if any(unicodedata.category(c)[0] in "LNZC" and c not in "\u200d\ufe0f" for c in raw):
        raise BadRequest("emoji must be one emoji", code="invalid_emoji")
    return raw


class ReactionService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer

    async def do_react(self, user_id: int, chat_id: int, message_id: int, emoji: Any, *,
                       add: bool) -> dict[str, Any]:
        await self._writes.check("reactions", user_id)
        async def react(tx: Tx) -> dict[str, Any]:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            check_can_interact(access)
            emoji_ = check_emoji(emoji)
            if message["deleted"] or message["kind"] == "system":
                raise BadRequest("this message takes no reactions", code="cannot_react")
            store = tx.stores.reactions
            if add:
                if await store.count_by_user(tx.conn, message_id, user_id) >= \
                        MAX_REACTIONS_PER_USER:
                    raise Conflict(f"at most {MAX_REACTIONS_PER_USER} reactions per message",
                                   code="too_many_reactions")
                changed = await store.add(tx.conn, message_id=message_id, chat_id=chat_id,
                                          user_id=user_id, emoji=emoji_, now=tx.now)
            else:
                changed = await store.remove(tx.conn, message_id=message_id, user_id=user_id,
                                             emoji=emoji_)
            summary = (await store.summary(tx.conn, [message_id], user_id)).get(message_id, [])
            if changed:
                await _tell(tx, access.chat, message_id, user_id, emoji_, summary, add=add)
            if changed and add and message["sender_id"] is not None:
                await queue_reaction_push(tx, message["sender_id"], chat_id, user_id, emoji_)
            return {"message_id": message_id, "reactions": summary}

        return await self._writer.run_shared(react)

    async def summary(self, user_id: int, chat_id: int, ids: list[int]) -> dict[str, Any]:
        async with self._db.read() as conn:
            await access_chat(conn, self._stores, user_id, chat_id)
            found = await self._stores.reactions.summary(conn, ids, user_id)
            counts = await self._stores.views.counts(conn, chat_id, ids)
        rows = await self._in_chat(chat_id, ids)
        return {"messages": [{"message_id": m, "reactions": found.get(m, []),
                              "views": counts.get(m, 0)} for m in ids if m in rows]}

    async def _in_chat(self, chat_id: int, ids: list[int]) -> set[int]:
        async with self._db.read() as conn:
            rows = await self._stores.messages.by_ids(conn, ids)
        return {m for m, r in rows.items() if r["chat_id"] == chat_id}

    async def do_view(self, user_id: int, chat_id: int, ids: list[int]) -> dict[str, Any]:
        await self._writes.check("marks", user_id)
        async def view(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] != "channel":
                raise BadRequest("views are counted on channel posts", code="not_a_channel")
            found = await tx.stores.messages.by_ids(tx.conn, ids)
            mine = [m for m in dict.fromkeys(ids)
                    if m in found and found[m]["chat_id"] == chat_id]
            counted = await tx.stores.views.record(tx.conn, chat_id, user_id, mine)
            counts = await tx.stores.views.counts(tx.conn, chat_id, mine)
            return {"counted": counted, "views": {str(m): counts.get(m, 0) for m in mine}}

        return await self._writer.run_shared(view)


async def _tell(tx: Tx, chat: ChatRow, message_id: int, user_id: int, emoji: str,
                summary: list[dict[str, Any]], *, add: bool) -> None:
    """Who reacted goes to the chat; in a channel only to the reacting subscriber's own
    devices and the channel's owner and admins, and every member gets `reaction.counts`
    (the message's counts, nobody named) after it."""
    type_ = "reaction.added" if add else "reaction.removed"
    body = {"chat_id": chat["id"], "message_id": message_id, "user_id": user_id,
            "emoji": emoji}
    audience = await member_audience(tx.conn, tx.stores, chat, user_id)
    if audience is None:
        await tx.emit(type_, body, chat_id=chat["id"])
        return
    for viewer in audience:
        await tx.emit(type_, body, user_id=viewer)
    counts = [{"emoji": r["emoji"], "count": r["count"]} for r in summary]
    await tx.emit("reaction.counts", {"chat_id": chat["id"], "message_id": message_id,
                                      "reactions": counts}, chat_id=chat["id"])
