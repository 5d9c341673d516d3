"""@mentions: a message that names a member by @username notifies that member.

The notice is an event for the mentioned user's devices only (`mention`), so a client can
badge it even in a muted or busy chat. Costs nothing for messages without "@".
"""

from __future__ import annotations

import re

from darbuka.services.writer import Tx
from darbuka.storage.rows import MessageRow

__all__ = ["MENTION", "notify_mentions"]

MENTION = re.compile(r"(?<![\w@])@([A-Za-z][A-Za-z0-9_]{3,31})\b")
# Most users one message can notify (a wall of @names is spam, not conversation).
MAX_PER_MESSAGE = 20


async def notify_mentions(tx: Tx, rows: list[MessageRow]) -> None:
    wanted: list[tuple[MessageRow, set[str]]] = []
    for row in rows:
        if "@" in row["text"] and row["sender_id"] is not None:
            names = {m.lower() for m in MENTION.findall(row["text"])}
            if names:
                wanted.append((row, set(list(names)[:MAX_PER_MESSAGE])))
    senders = {row["id"]: row["sender_id"] or 0 for row, _ in wanted}
    if not wanted:
        return
    keys = set().union(*(names for _, names in wanted))
    owners = await tx.stores.handles.users_by_keys(tx.conn, keys)
    pairs = {(row["chat_id"], owners[n]) for row, names in wanted for n in names if n in owners}
    members = await tx.stores.chats.roles(tx.conn, pairs)
    blocked = await tx.stores.privacy.blocked_pairs(
        tx.conn, {(owners[n], senders[row["id"]]) for row, names in wanted for n in names
                  if n in owners})
    for row, names in wanted:
        for user_id in sorted({owners[n] for n in names if n in owners}):
            if (user_id == row["sender_id"] or (row["chat_id"], user_id) not in members
                    or (user_id, row["sender_id"]) in blocked):
                continue
            await tx.emit("mention", {"chat_id": row["chat_id"], "message_id": row["id"],
                                      "seq": row["seq"], "by": row["sender_id"]},
                          user_id=user_id)
