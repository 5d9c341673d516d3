"""Messages after sending: editing, deleting, history, read and delivered marks, typing.
Sending itself is `sending.py`; this service queues sends on the writer."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from darbuka.errors import BadRequest, Conflict, Forbidden, NotFound
from darbuka.services.access import (
    ChatAccess,
    access_chat,
    access_message,
    is_quiet_pair,
    message_for,
)
from darbuka.services.adminlog import do_log
from darbuka.services.antispam import Spread
from darbuka.services.links import links_of
from darbuka.services.media import MediaService
from darbuka.services.push import queue_close_push
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import check_may_post
from darbuka.services.sending import (
    MAX_CAPTION,
    MAX_TEXT,
    MEDIA_KINDS,
    LinkCheck,
    SendRequest,
    SendResult,
    markup_json,
    store_sends,
)
from darbuka.services.text import check_no_nul
from darbuka.services.views import message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MessageFields
from darbuka.stream import Ephemeral

__all__ = ["MessageService"]


class MessageService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 publish_ephemeral: Callable[[Ephemeral], None],
                 media: MediaService | None = None, *, writes: WriteLimits,
                 spread: Spread | None = None,
                 hold: Callable[[SendRequest], Awaitable[None]] | None = None,
                 links: LinkCheck | None = None) -> None:
        self._writes = writes
        # Anti-spam: content sent into too many chats is handed to `hold` (the moderation
        # queue), not to the writer.
        self._spread = spread
        self._hold = hold
        self._links = links
        # One batch function for every send: the writer groups sends by it.
        self._store_sends = functools.partial(store_sends, links=links)
        self._db = db
        self._stores = stores
        self._writer = writer
        # Typing notices go straight to the bus: never stored, never through the writer.
        self._publish_ephemeral = publish_ephemeral
        self._media = media

    def submit_send(self, req: SendRequest) -> asyncio.Future[SendResult]:
        """Queue a validated send; the future resolves after its transaction commits.

        A send with media first waits (bounded) for the media to finish processing, so a
        message never shows up with media that cannot be fetched yet.
        """
        return asyncio.ensure_future(self._send(req))

    async def _send(self, req: SendRequest) -> SendResult:
        # Checks of one sender finish in the order made: a socket's sends stay in order.
        await self._writes.check("sends", req.sender_id)
        if self._spread is not None and await self._spread.too_far(req):
            if self._hold is not None:
                await self._hold(req)
            raise Forbidden("this message went into many chats at once: it is held for a "
                            "moderator's review", code="held_for_review")
        if self._media is not None:
            for media_id in req.media_ids:  # an album waits for each of its uploads
                await self._media.wait_ready(req.sender_id, media_id)
        result: SendResult = await self._writer.submit(self._store_sends, req)
        return result

    async def do_send(self, req: SendRequest) -> SendResult:
        result: SendResult = await self.submit_send(req)
        return result

    async def do_edit(self, user_id: int, chat_id: int, message_id: int,
                      text: Any, *, markup: Any = None,
                      keyboard: str | None = None) -> dict[str, Any]:
        """Change a message's text and markup — the new markup replaces the old, whose
        offsets were into the old text — (and, for bots, its keyboard: None keeps it)."""
        await self._writes.check("other", user_id)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise BadRequest(f"text must be 1 to {MAX_TEXT} characters", code="invalid_text")
        check_no_nul(text, "text")
        ranges = markup_json(text, markup)

        async def edit(tx: Tx) -> dict[str, Any]:
            _, message = await access_message(tx.conn, tx.stores, user_id, chat_id, message_id)
            if message["kind"] == "poll" and message["sender_id"] == user_id:
                raise Conflict("a poll is not edited: close it and post a new one",
                               code="cannot_edit_poll")
            if message["sender_id"] != user_id or message["kind"] not in ("text", *MEDIA_KINDS):
                raise Forbidden("you can only edit your own messages", code="not_author")
            if message["deleted"]:
                raise NotFound("that message was deleted", code="message_not_found")
            if message["kind"] != "text" and len(text) > MAX_CAPTION:  # a caption
                raise BadRequest(f"a caption has at most {MAX_CAPTION} characters",
                                 code="caption_too_long")
            if self._links is not None and (found := links_of(text, keyboard)):
                refusal = await self._links.check_edit(tx, message_id, found)
                if refusal is not None:
                    raise refusal
            changes: MessageFields = {"text": text, "markup": ranges, "edited_at": tx.now}
            if keyboard is not None:
                changes["keyboard"] = keyboard or None
            await tx.stores.messages.update(tx.conn, message_id, changes)
            await tx.stores.search.replace(tx.conn, message_id, message["text"], text)
            view = message_view({**message, **changes})
            await tx.emit("message.edited", {"message": view}, chat_id=chat_id)
            return view

        return await self._writer.run(edit)

    async def do_delete(self, user_id: int, chat_id: int, message_id: int) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        async def delete(tx: Tx) -> dict[str, Any]:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            own = message["sender_id"] == user_id
            if not own and not (access.is_admin and access.chat["kind"] != "direct"):
                raise Forbidden("you can delete your own messages, or any as an admin",
                                code="cannot_delete")
            if message["deleted"]:
                return message_for(message_view(message), user_id)
            # Keep the row (and its client_id) so a late retry of the send stays a repeat.
            await tx.stores.messages.update(tx.conn, message_id, {
                "deleted": True, "text": "", "markup": None, "forward_of": None,
                "media": None})
            await tx.stores.media.drop_refs(tx.conn, message_id)
            await tx.stores.search.replace(tx.conn, message_id, message["text"], "")
            view = message_view({**message, "deleted": True})
            # Catch-up from an old cursor must not hand out the deleted text either.
            await tx.stores.events.scrub_message(tx.conn, chat_id, message_id,
                                                 since=message["created_at"], view=view)
            await tx.emit("message.deleted", {"message": view}, chat_id=chat_id)
            if not own:
                await do_log(tx, chat_id, user_id, "message.deleted", target_id=message_id,
                             sender_id=message["sender_id"])
            return message_for(dict(view), user_id)

        return await self._writer.run(delete)

    async def history(self, user_id: int, chat_id: int, *, before: int | None,
                      after: int | None, limit: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            await access_chat(conn, self._stores, user_id, chat_id)
            rows = await self._stores.messages.page(conn, chat_id, before=before, after=after,
                                                    limit=limit)
        return [message_for(message_view(r), user_id) for r in rows]

    async def do_mark_read(self, user_id: int, chat_id: int, seq: Any) -> dict[str, Any]:
        """Move the read marker forward (and the delivered one with it)."""
        await self._writes.check("marks", user_id)
        _check_seq(seq)

        async def mark(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            upto = min(seq, access.chat["last_seq"])
            if upto <= access.last_read_seq:
                return {"chat_id": chat_id, "seq": access.last_read_seq}
            await tx.stores.chats.mark_read(tx.conn, [{"cid": chat_id, "uid": user_id,
                                                       "seq": upto}])
            await _emit_mark(tx, "chat.read", access, user_id, upto)
            await queue_close_push(tx, user_id, chat_id)
            return {"chat_id": chat_id, "seq": upto}

        return await self._writer.run_shared(mark)

    async def do_mark_delivered(self, user_id: int, chat_id: int, seq: Any) -> dict[str, Any]:
        """Move the delivered marker forward: the user's devices have the chat up to `seq`.

        One forward-only UPDATE; a mark at or behind the current one changes nothing and
        tells no one.
        """
        await self._writes.check("marks", user_id)
        _check_seq(seq)

        async def mark(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            upto = min(seq, access.chat["last_seq"])
            if upto <= access.last_delivered_seq:
                return {"chat_id": chat_id, "seq": access.last_delivered_seq}
            await tx.stores.chats.mark_delivered(tx.conn, chat_id, user_id, upto)
            await _emit_mark(tx, "chat.delivered", access, user_id, upto)
            return {"chat_id": chat_id, "seq": upto}

        return await self._writer.run_shared(mark)

    async def do_typing(self, user_id: int, chat_id: int) -> None:
        """Tell the chat's connected members that `user_id` is typing. Never stored.

        Raises for outsiders (404), and where a send would be refused (403, as a send
        would: a channel's subscribers, a closed chat, a user blocked in this direct chat);
        a subscriber typing would tell every subscriber online who else is there. Says
        nothing when the caller blocked the other side (their typing is not the blocked
        user's business either).
        """
        await self._writes.check("typing", user_id)
        async with self._db.read() as conn:
            access = await check_may_post(conn, self._stores, user_id, chat_id)
            if await is_quiet_pair(conn, self._stores, access):
                return
        frame = orjson.dumps({"type": "typing", "chat_id": chat_id, "user_id": user_id})
        self._publish_ephemeral(Ephemeral(chat_id, user_id, frame))


def _check_seq(seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
        raise BadRequest("seq must be a non-negative integer", code="invalid_seq")


async def _emit_mark(tx: Tx, type_: str, access: ChatAccess, user_id: int, seq: int) -> None:
    """A read or delivered mark: to the chat, or only to the marker's own devices in a
    channel (nobody else cares) and in a direct chat with a block (see is_quiet_pair)."""
    body = {"chat_id": access.chat["id"], "user_id": user_id, "seq": seq}
    if access.chat["kind"] == "channel" or await is_quiet_pair(tx.conn, tx.stores, access):
        await tx.emit(type_, body, user_id=user_id)
    else:
        await tx.emit(type_, body, chat_id=access.chat["id"])
