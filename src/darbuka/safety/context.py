"""What else a moderator sees when they open one item: the person's history with the queue,
every other place the same file appears, and the banks it matched (bank and distance).

Read-only and for staff: the queue's routes check the role before calling this.
"""

from __future__ import annotations

from typing import Any

import orjson

from darbuka.storage import Conn, Stores

__all__ = ["item_media_id", "more_context"]

# Enough to judge a pattern; the item's own page is one click away.
HISTORY = 20
APPEARANCES = 50


async def item_media_id(conn: Conn, stores: Stores, item: dict[str, Any]) -> str | None:
    """The media an item is about: a media item's, or the file on a message item's message
    (or the one a remove_media decision took from it)."""
    if item.get("target_key"):
        return str(item["target_key"])
    if item["target_type"] != "message":
        return None
    message = await stores.messages.get(conn, int(item["target_id"]))
    if message is None or not message["media"]:
        return None
    return str(orjson.loads(message["media"])["id"])


async def more_context(conn: Conn, stores: Stores, item: dict[str, Any],
                       context: dict[str, Any]) -> dict[str, Any]:
    """`history`, `appearances` and `matches` for one item (`context` is what `_context`
    found: it names the person)."""
    extra: dict[str, Any] = {}
    person = _person(context)
    if person is not None:
        rows = await stores.safety.items_about(conn, person, besides=int(item["id"]),
                                               limit=HISTORY)
        extra["history"] = [{k: r[k] for k in ("id", "source", "target_type", "status",
                                               "decision", "created_at", "decided_at")}
                            for r in rows]
    media_id = await item_media_id(conn, stores, item)
    if media_id is not None:
        extra["appearances"] = await _appearances(conn, stores, media_id)
        extra["matches"] = [
            {k: m[k] for k in ("bank_name", "signal", "distance", "outcome", "created_at")}
            for m in await stores.banks.matches_of(conn, f"media:{media_id}")]
    return extra


def _person(context: dict[str, Any]) -> int | None:
    for key in ("sender", "uploader", "user"):
        if context.get(key):
            return int(context[key]["id"])
    return None


async def _appearances(conn: Conn, stores: Stores, media_id: str) -> list[dict[str, Any]]:
    refs = (await stores.media.refs_of(conn, media_id))[:APPEARANCES]
    found = []
    for ref in refs:
        chat = await stores.chats.get(conn, ref["chat_id"])
        found.append({"message_id": ref["message_id"], "chat_id": ref["chat_id"],
                      "chat_title": chat["title"] if chat else None,
                      "chat_kind": chat["kind"] if chat else None,
                      "removed": bool(ref["removed"])})
    return found
