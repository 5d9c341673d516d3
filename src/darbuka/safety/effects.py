"""What a safety decision does, inside the deciding transaction: hide or restore a message,
restrict or restore an account, close or reopen a chat, and keep a preserved copy.

Each effect reaches clients as an ordinary event after commit, so every client — web, SDK,
bots, live sockets and catch-up — sees a removal and a reinstatement the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from darbuka.errors import NotFound
from darbuka.services.auth import sign_out_devices
from darbuka.services.views import chat_view, message_view
from darbuka.services.writer import Tx
from darbuka.storage.rows import MessageFields, MessageRow

__all__ = [
    "PRESERVE_MS",
    "close_chat",
    "preserve_message",
    "reinstate_message",
    "remove_message",
    "reopen_chat",
    "restore_account",
    "restrict_account",
]

# Regulation 2021/784 Art. 6: six months, longer on request.
PRESERVE_MS = 183 * 24 * 3600 * 1000


async def preserve_message(tx: Tx, message: MessageRow, *, reason: str,
                           item_id: int | None, keep_ms: int = PRESERVE_MS) -> int:
    """Keep the message and its related data (chat, sender) for the preservation period."""
    chat = await tx.stores.chats.get(tx.conn, message["chat_id"])
    content = {"message": _plain(message), "chat": _plain(chat) if chat else {},
               "sender_id": message["sender_id"]}
    return await _keep(tx, message["id"], orjson.dumps(content).decode(), reason=reason,
                       item_id=item_id, keep_ms=keep_ms)


async def _keep(tx: Tx, message_id: int, content: str, *, reason: str, item_id: int | None,
                keep_ms: int = PRESERVE_MS) -> int:
    return await tx.stores.safety.preserve(
        tx.conn, target_type="message", target_id=message_id, content=content, reason=reason,
        item_id=item_id, preserved_at=tx.now, keep_until=tx.now + keep_ms)


def _plain(row: Mapping[str, Any]) -> dict[str, Any]:
    # Column names may be str subclasses, which orjson refuses as keys.
    return {str(k): (v.decode("latin-1") if isinstance(v, bytes) else v) for k, v in row.items()}


async def load_message(tx: Tx, message_id: int) -> MessageRow:
    message = await tx.stores.messages.get(tx.conn, message_id)
    if message is None:
        raise NotFound("no such message", code="message_not_found")
    return message


async def remove_message(tx: Tx, message: MessageRow, *, reason: str,
                         item_id: int | None) -> bool:
    """Hide a message from everyone, everywhere, and its media with it: the message's media
    refs let nobody download it and its upload cannot be attached again (a forward of it
    elsewhere is a message of its own, removed by its own decision or by `remove_media`).

    Each item that removes the message gets its preserved copy, also when the message was
    hidden already (then False): a message stays removed while any removal stands, so
    undoing one decision or order never brings back what another removed.
    """
    if message["removed"]:
        standing = await tx.stores.safety.standing_removals(tx.conn, "message", message["id"])
        if item_id is not None and all(c["item_id"] != item_id for c in standing):
            # The row is scrubbed already: this removal keeps the first one's content.
            earlier = await tx.stores.safety.preserved_for(tx.conn, "message", message["id"])
            if earlier is not None:
                await _keep(tx, message["id"], earlier["content"], reason=reason,
                            item_id=item_id)
        return False
    await preserve_message(tx, message, reason=reason, item_id=item_id)
    await tx.stores.messages.update(tx.conn, message["id"], {
        "removed": True, "deleted": True, "text": "", "markup": None,
        "forward_of": None})
    # Its media is no longer served through it, nor attachable again by its uploader.
    await tx.stores.media.set_refs_removed(tx.conn, message["id"], True)
    await tx.stores.search.replace(tx.conn, message["id"], message["text"], "")
    view = message_view({**message, "removed": True, "deleted": True})
    await tx.stores.events.scrub_message(tx.conn, message["chat_id"], message["id"],
                                         since=message["created_at"], view=view)
    await tx.emit("message.deleted", {"message": view}, chat_id=message["chat_id"])
    return True


async def set_captions_found(tx: Tx, media_id: str, *, found: bool) -> None:
    """Media held for review is served to nobody, so the captions of the messages carrying
    it are found by nobody either (in the holding transaction); released, they are again."""
    refs = await tx.stores.media.refs_of(tx.conn, media_id)
    messages = await tx.stores.messages.by_ids(tx.conn, [r["message_id"] for r in refs])
    for message in messages.values():
        if not message["deleted"] and message["text"]:
            old, new = ("", message["text"]) if found else (message["text"], "")
            await tx.stores.search.replace(tx.conn, message["id"], old, new)


async def reinstate_message(tx: Tx, message_id: int, *, item_id: int) -> bool:
    """Undo the removal item `item_id` made; when no other removal of the message stands,
    put it back from its preserved copy, with its media: every client gets it again.

    False when that item removed nothing here, or the message stays removed by another."""
    message = await load_message(tx, message_id)
    copy = await tx.stores.safety.removal_by(tx.conn, "message", message_id, item_id)
    if copy is None:
        return False
    await tx.stores.safety.mark_reinstated(tx.conn, copy["id"], tx.now)
    if not message["removed"] or await tx.stores.safety.standing_removals(
            tx.conn, "message", message_id):
        return False
    original = orjson.loads(copy["content"])["message"]
    restored: MessageFields = {"removed": False, "deleted": bool(original.get("deleted")),
                               "text": original.get("text", ""),
                               "markup": original.get("markup"),
                               "forward_of": original.get("forward_of")}
    await tx.stores.messages.update(tx.conn, message_id, restored)
    await tx.stores.media.set_refs_removed(tx.conn, message_id, False)
    if not restored["deleted"]:
        await tx.stores.search.replace(tx.conn, message_id, "", restored["text"])
    view = message_view({**message, **restored})
    await tx.emit("message.restored", {"message": view}, chat_id=message["chat_id"])
    return True


async def restrict_account(tx: Tx, user_id: int, *, status: str, until: int | None,
                           statement_id: int) -> None:
    """Suspend (until a time) or ban. Live sockets get the event and are closed; tokens
    stop working; a ban also signs every device out for good, ending its long polls too."""
    await tx.stores.users.update(tx.conn, user_id, {"status": status,
                                                     "restricted_until": until})
    await tx.emit("account.restricted", {"status": status, "until": until,
                                         "statement_id": statement_id}, user_id=user_id)
    if status == "banned":
        devices = await tx.stores.devices.for_user(tx.conn, user_id)
        await sign_out_devices(tx, user_id, [d["id"] for d in devices], reason="banned")


async def restore_account(tx: Tx, user_id: int) -> None:
    await tx.stores.users.update(tx.conn, user_id, {"status": "active",
                                                     "restricted_until": None})


async def close_chat(tx: Tx, chat_id: int) -> dict[str, Any]:
    return await _set_closed(tx, chat_id, closed=True)


async def reopen_chat(tx: Tx, chat_id: int) -> dict[str, Any]:
    return await _set_closed(tx, chat_id, closed=False)


async def _set_closed(tx: Tx, chat_id: int, *, closed: bool) -> dict[str, Any]:
    chat = await tx.stores.chats.get(tx.conn, chat_id)
    if chat is None:
        raise NotFound("no such chat", code="chat_not_found")
    await tx.stores.chats.update(tx.conn, chat_id, {"closed": closed})
    view = chat_view({**chat, "closed": closed})
    await tx.emit("chat.updated", {"chat": view}, chat_id=chat_id)
    return view
