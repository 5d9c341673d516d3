"""Sends held by anti-spam (`services/antispam.Spread`): each waits in the moderation queue,
on one open item about its sender (source `spam`), until a moderator decides it. Dismissing
the item posts the held sends, as they were asked for; any other decision (suspending or
banning the sender) leaves them undelivered.
"""

from __future__ import annotations

from typing import Any

from darbuka.services.sending import SendRequest, store_sends
from darbuka.services.writer import Tx, Writer

__all__ = ["SPAM_PRIORITY", "HeldSends", "held_view", "release_held"]

SPAM_PRIORITY = 3  # as a user report: below orders, referrals and hash matches


class HeldSends:
    def __init__(self, writer: Writer) -> None:
        self._writer = writer

    async def hold(self, req: SendRequest) -> None:
        """Keep `req` for review, on its sender's open spam item (opened if need be)."""

        async def hold(tx: Tx) -> None:
            item = await tx.stores.safety.open_item_for(tx.conn, "user", req.sender_id)
            if item is None or item["source"] != "spam":
                item_id = await tx.stores.safety.add_item(
                    tx.conn, source="spam", priority=SPAM_PRIORITY, target_type="user",
                    target_id=req.sender_id, chat_id=req.chat_id, created_at=tx.now,
                    report_count=0)
            else:
                item_id = int(item["id"])
            await tx.stores.held.add(
                tx.conn, item_id=item_id, sender_id=req.sender_id, chat_id=req.chat_id,
                client_id=req.client_id, now=tx.now, request={
                    "text": req.text, "media_ids": list(req.media_ids), "kind": req.kind,
                    "reply_to": req.reply_to, "forward_of": req.forward_of})

        await self._writer.run(hold)


def held_view(row: dict[str, Any]) -> dict[str, Any]:
    """A held send as a moderator sees it on the queue item."""
    return {"chat_id": row["chat_id"], "created_at": row["created_at"], **row["request"]}


async def release_held(tx: Tx, item: dict[str, Any]) -> None:
    """Post the sends held on `item` (it was dismissed): each as its sender asked, through
    the send path's own checks (one who has left the chat since posts nothing there)."""
    rows = await tx.stores.held.of_item(tx.conn, item["id"])
    if not rows:
        return
    requests = []
    for row in rows:
        asked = row["request"]
        media = asked["media_ids"]
        requests.append(SendRequest(
            row["sender_id"], row["chat_id"], row["client_id"], asked["text"],
            asked["reply_to"], asked["forward_of"], media_id=media[0] if len(media) == 1
            else None, kind=asked["kind"], album=tuple(media) if len(media) > 1 else ()))
    await store_sends(tx, requests)
    await tx.stores.held.drop_item(tx.conn, item["id"])
