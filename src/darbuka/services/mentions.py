"""@mentions: a message that names a member by @username, or marks a range of its text as a
`user_mention` of their id (markup), notifies that member.

The notice is an event for the mentioned user's devices only (`mention`), so a client can
badge it even in a muted or busy chat. Costs nothing for messages without "@" or markup.
"""

from __future__ import annotations

import re

import orjson

from darbuka.services.writer import Tx
from darbuka.storage.rows import MessageRow

__all__ = ["MENTION", "notify_mentions"]

MENTION = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
# Most users one message can notify (a wall of @names is spam, not conversation).
MAX_PER_MESSAGE = 20


def _by_id(row: MessageRow) -> set[int]:
    """The users the message's markup mentions by id."""
    markup = row.get("markup")
    if not markup or "user_mention" not in markup:
        return set()
    return {int(m["user_id"]) for m in orjson.loads(markup) if m["type"] == "user_mention"}


async def notify_mentions(tx: Tx, rows: list[MessageRow]) -> None:
    wanted: list[tuple[MessageRow, set[str], set[int]]] = []
    for row in rows:
        if row["sender_id"] is None:
            continue
        names = ({m.lower() for m in MENTION.findall(row["text"])} if "@" in row["text"]
                 else set())
        ids = _by_id(row)
        if names or ids:
            wanted.append((row, set(list(names)[:MAX_PER_MESSAGE]), ids))
    if not wanted:
        return
    keys = set().union(*(names for _, names, _ in wanted))
    owners = await tx.stores.handles.users_by_keys(tx.conn, keys)
    targets = [(row, set(sorted({owners[n] for n in names if n in owners} | ids)
                         [:MAX_PER_MESSAGE])) for row, names, ids in wanted]
    members = await tx.stores.chats.roles(tx.conn, {(row["chat_id"], u) for row, users in targets
                                                    for u in users})
    blocked = await tx.stores.privacy.blocked_pairs(
        tx.conn, {(u, row["sender_id"] or 0) for row, users in targets for u in users})
    for row, users in targets:
        for user_id in sorted(users):
            if (user_id == row["sender_id"] or (row["chat_id"], user_id) not in members
                    or (user_id, row["sender_id"]) in blocked):
                continue
            await tx.emit("mention", {"chat_id": row["chat_id"], "message_id": row["id"],
                                      "seq": row["seq"], "by": row["sender_id"]},
                          user_id=user_id)
