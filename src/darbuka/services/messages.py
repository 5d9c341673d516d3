"""Sending (group commit, exactly once), editing, deleting, history, read and delivered
markers, typing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson

from darbuka.errors import ApiError, BadRequest, Forbidden, NotFound
from darbuka.services.access import (
    ADMIN_ROLES,
    ChatAccess,
    access_chat,
    access_message,
    is_quiet_pair,
)
from darbuka.services.events import Event
from darbuka.services.media import MediaNotReady, MediaService, media_descriptor
from darbuka.services.mentions import notify_mentions
from darbuka.services.rights import lacking_write
from darbuka.services.views import message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["MAX_CAPTION", "MAX_TEXT", "MEDIA_KINDS", "MessageService", "SendRequest",
           "SendResult", "check_send", "post_system"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CLIENT_ID = 64
MEDIA_KINDS = ("photo", "voice", "video", "sticker", "file")


@dataclass(frozen=True, slots=True)
class SendRequest:
    sender_id: int
    chat_id: int
    client_id: str
    text: str
    reply_to: int | None = None
    forward_of: int | None = None
    # Set for sends over a socket: that socket gets the ack in place of the echo.
    origin: str | None = None
    # A finished upload of the sender's (the text is then its caption), and the kind the
    # client means it to be (checked against what the server found the bytes to be).
    media_id: str | None = None
    kind: str | None = None
    # JSON rows of buttons (bots only; checked by the Bot API).
    keyboard: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    message: dict[str, Any]
    # The event's position; None when this was a repeat of an earlier send.
    pos: int | None

    @property
    def repeated(self) -> bool:
        return self.pos is None


def check_send(sender_id: int, chat_id: Any, client_id: Any, text: Any, reply_to: Any = None,
               forward_of: Any = None, origin: str | None = None, *, media_id: Any = None,
               kind: Any = None) -> SendRequest:
    """Validate the shape of a send before it is queued; raise BadRequest."""
    if not _is_id(chat_id):
        raise BadRequest("chat_id must be a positive integer", code="invalid_chat_id")
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
        raise BadRequest("client_id must be a string of 1 to 64 characters (a UUID is best)",
                         code="invalid_client_id")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadRequest("text must be a string", code="invalid_text")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"text is longer than {MAX_TEXT} characters", code="text_too_long")
    for name, value in (("reply_to", reply_to), ("forward_of", forward_of)):
        if value is not None and not _is_id(value):
            raise BadRequest(f"{name} must be a message id", code=f"invalid_{name}")
    if media_id is not None:
        _check_media(media_id, kind, text)
    elif kind not in (None, "text"):
        raise BadRequest(f"a {kind} message needs media_id", code="media_required")
    elif not text.strip() and forward_of is None:
        raise BadRequest("a message needs text (or forward_of)", code="empty_message")
    return SendRequest(sender_id, chat_id, client_id, text, reply_to, forward_of, origin,
                       media_id, kind)


def _check_media(media_id: Any, kind: Any, text: str) -> None:
    if not isinstance(media_id, str) or not 1 <= len(media_id) <= 32:
        raise BadRequest("media_id must be an upload id", code="invalid_media_id")
    if kind is not None and kind not in MEDIA_KINDS:
        raise BadRequest(f"kind must be one of {', '.join(MEDIA_KINDS)}", code="invalid_kind")
    if len(text) > MAX_CAPTION:
        raise BadRequest(f"a caption has at most {MAX_CAPTION} characters",
                         code="caption_too_long")


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


async def _store_sends(tx: Tx, items: list[SendRequest]) -> list[SendResult | ApiError]:
    """Store a batch of sends in one transaction; results line up with `items`."""
    stores, conn = tx.stores, tx.conn
    refs = await stores.messages.by_ids(
        conn, [i for r in items for i in (r.reply_to, r.forward_of) if i is not None])
    pairs = {(r.chat_id, r.sender_id) for r in items}
    pairs |= {(refs[r.forward_of]["chat_id"], r.sender_id) for r in items
              if r.forward_of in refs}
    roles = await stores.chats.roles(conn, pairs)
    # Channel admins whose rights leave out `write` (no query when no channel admin sends).
    no_write = await lacking_write(conn, stores, [p for p, (role, kind) in roles.items()
                                                  if kind == "channel" and role == "admin"])
    media: dict[str, dict[str, Any]] = {}
    in_packs: set[str] = set()
    if any(r.media_id for r in items):  # text sends (the hot path) skip these queries
        media = await stores.media.by_ids(conn, [r.media_id for r in items if r.media_id])
        in_packs = await stores.stickers.in_packs(conn, [
            m["id"] for m in media.values() if m["kind"] == "sticker"])
    earlier = await stores.messages.by_client_ids(conn, [(r.sender_id, r.client_id)
                                                         for r in items])
    results: list[SendResult | ApiError | None] = [None] * len(items)
    accepted: list[tuple[int, SendRequest, dict[str, Any]]] = []
    first_in_batch: dict[tuple[int, str], int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the first send with its client_id)
    for index, req in enumerate(items):
        key = (req.sender_id, req.client_id)
        if key in earlier:
            results[index] = SendResult(message_view(earlier[key]), None)
        elif key in first_in_batch:
            repeats.append((index, first_in_batch[key]))
        else:
            checked = _check_one(req, roles, refs, no_write, media, in_packs)
            if isinstance(checked, ApiError):
                results[index] = checked
            else:
                first_in_batch[key] = index
                accepted.append((index, req, checked))
    if accepted:
        await _insert_accepted(tx, accepted, results)
    for index, first in repeats:
        original = results[first]
        results[index] = (SendResult(original.message, None)
                          if isinstance(original, SendResult) else original)
    return [r for r in results if r is not None]


def _check_one(req: SendRequest, roles: dict[tuple[int, int], tuple[str, str]],
               refs: dict[int, dict[str, Any]],
               no_write: set[tuple[int, int]], media: dict[str, dict[str, Any]],
               in_packs: set[str]) -> dict[str, Any] | ApiError:
    """The row fields this send adds, or the error it earned."""
    membership = roles.get((req.chat_id, req.sender_id))
    if membership is None:
        return NotFound("no such chat", code="chat_not_found")
    role, kind = membership
    if kind == "closed":
        return Forbidden("this chat was closed by moderation", code="chat_closed")
    if kind == "channel" and (role not in ADMIN_ROLES
                              or (req.chat_id, req.sender_id) in no_write):
        return Forbidden("only the channel's admins post in it", code="cannot_post")
    if role == "blocked":  # the other side of this direct chat blocked the sender
        return Forbidden("this user does not take messages from you", code="cannot_message")
    extra: dict[str, Any] = {"text": req.text}
    if req.reply_to is not None:
        target = refs.get(req.reply_to)
        if target is None or target["chat_id"] != req.chat_id:
            return NotFound("reply_to is not a message of this chat", code="message_not_found")
        extra["reply_to"] = req.reply_to
    if req.forward_of is not None:
        source = refs.get(req.forward_of)
        if source is None or (source["chat_id"], req.sender_id) not in roles or source["deleted"]:
            return NotFound("forward_of is not a message you can see", code="message_not_found")
        extra["forward_of"] = orjson.dumps({"chat_id": source["chat_id"],
                                            "message_id": source["id"],
                                            "sender_id": source["sender_id"]}).decode()
        extra["text"] = req.text or source["text"]
        if source.get("media"):
            extra["kind"], extra["media"] = source["kind"], source["media"]
    if req.media_id is not None:
        attached = _attach(req, media.get(req.media_id), in_packs)
        if isinstance(attached, ApiError):
            return attached
        extra.update(attached)
    return extra


def _attach(req: SendRequest, row: dict[str, Any] | None,
            in_packs: set[str]) -> dict[str, Any] | ApiError:
    """Your own upload, or a sticker from any pack."""
    if row is None or row["kind"] not in MEDIA_KINDS or (
            row["owner_id"] != req.sender_id and row["id"] not in in_packs):
        return NotFound("no such media", code="media_not_found")
    if row["state"] != "ready":
        return MediaNotReady("the media is still being processed; send again shortly")
    if req.kind is not None and req.kind != row["kind"]:
        return BadRequest(f"this upload is a {row['kind']}, not a {req.kind}",
                          code="kind_mismatch")
    return {"kind": row["kind"], "media": orjson.dumps(media_descriptor(row)).decode()}


async def _insert_accepted(tx: Tx, accepted: list[tuple[int, SendRequest, dict[str, Any]]],
                           results: list[Any]) -> None:
    stores, conn = tx.stores, tx.conn
    seqs = await stores.chats.lock_seqs(conn, {req.chat_id for _, req, _ in accepted})
    rows = []
    for _, req, extra in accepted:
        seqs[req.chat_id] += 1
        rows.append({"chat_id": req.chat_id, "seq": seqs[req.chat_id], "sender_id": req.sender_id,
                     "client_id": req.client_id, "kind": "text", "created_at": tx.now,
                     "reply_to": None, "forward_of": None, "keyboard": req.keyboard, **extra})
    ids = await stores.messages.insert_many(conn, rows)
    last: dict[int, dict[str, Any]] = {}
    for row, message_id in zip(rows, ids, strict=True):
        row["id"] = message_id
        last[row["chat_id"]] = {"cid": row["chat_id"], "seq": row["seq"], "mid": message_id}
    await stores.chats.set_last(conn, list(last.values()))
    refs = [{"media_id": orjson.loads(row["media"])["id"], "message_id": row["id"],
             "chat_id": row["chat_id"]} for row in rows if "media" in row]
    if refs:
        await stores.media.add_refs(conn, refs)
    # Your own message is read by you: unread counts only count others' messages.
    await stores.chats.mark_read(conn, [{"cid": r["chat_id"], "uid": r["sender_id"],
                                         "seq": r["seq"]} for r in rows])
    first_pos = await tx.reserve(len(rows))
    for offset, ((index, req, _), row) in enumerate(zip(accepted, rows, strict=True)):
        view = message_view(row)
        tx.add(Event(pos=first_pos + offset, type="message.new", body={"message": view},
                     chat_id=req.chat_id, origin=req.origin))
        results[index] = SendResult(view, first_pos + offset)
    await notify_mentions(tx, rows)


async def post_system(tx: Tx, chat_id: int, body: dict[str, Any]) -> None:
    """A system message (membership or title change) in the chat's history and stream."""
    seq = (await tx.stores.chats.lock_seqs(tx.conn, [chat_id]))[chat_id] + 1
    row = {"chat_id": chat_id, "seq": seq, "sender_id": None, "client_id": None,
           "kind": "system", "text": "", "system": orjson.dumps(body).decode(),
           "created_at": tx.now}
    (message_id,) = await tx.stores.messages.insert_many(tx.conn, [row])
    row["id"] = message_id
    await tx.stores.chats.set_last(tx.conn, [{"cid": chat_id, "seq": seq, "mid": message_id}])
    await tx.emit("message.new", {"message": message_view(row)}, chat_id=chat_id)


class MessageService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 media: MediaService | None = None) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._media = media

    def submit_send(self, req: SendRequest) -> asyncio.Future[SendResult]:
        """Queue a validated send; the future resolves after its transaction commits.

        A send with media first waits (bounded) for the media to finish processing, so a
        message never shows up with media that cannot be fetched yet.
        """
        if req.media_id is not None and self._media is not None:
            return asyncio.ensure_future(self._send_with_media(req, self._media))
        return self._writer.submit(_store_sends, req)

    async def _send_with_media(self, req: SendRequest, media: MediaService) -> SendResult:
        assert req.media_id is not None  # noqa: S101 - only called with media
        await media.wait_ready(req.sender_id, req.media_id)
        result: SendResult = await self._writer.submit(_store_sends, req)
        return result

    async def do_send(self, req: SendRequest) -> SendResult:
        result: SendResult = await self.submit_send(req)
        return result

    async def do_edit(self, user_id: int, chat_id: int, message_id: int,
                      text: Any, *, keyboard: str | None = None) -> dict[str, Any]:
        """Change a message's text (and, for bots, its keyboard: None keeps it)."""
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise BadRequest(f"text must be 1 to {MAX_TEXT} characters", code="invalid_text")

        async def edit(tx: Tx) -> dict[str, Any]:
            _, message = await access_message(tx.conn, tx.stores, user_id, chat_id, message_id)
            if message["sender_id"] != user_id or message["kind"] not in ("text", *MEDIA_KINDS):
                raise Forbidden("you can only edit your own messages", code="not_author")
            if message["deleted"]:
                raise NotFound("that message was deleted", code="message_not_found")
            if message["kind"] != "text" and len(text) > MAX_CAPTION:  # a caption
                raise BadRequest(f"a caption has at most {MAX_CAPTION} characters",
                                 code="caption_too_long")
            changes: dict[str, Any] = {"text": text, "edited_at": tx.now}
            if keyboard is not None:
                changes["keyboard"] = keyboard or None
            await tx.stores.messages.update(tx.conn, message_id, changes)
            view = message_view({**message, **changes})
            await tx.emit("message.edited", {"message": view}, chat_id=chat_id)
            return view

        return await self._writer.run(edit)

    async def do_delete(self, user_id: int, chat_id: int, message_id: int) -> dict[str, Any]:
        async def delete(tx: Tx) -> dict[str, Any]:
            access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                   message_id)
            own = message["sender_id"] == user_id
            if not own and not (access.is_admin and access.chat["kind"] != "direct"):
                raise Forbidden("you can delete your own messages, or any as an admin",
                                code="cannot_delete")
            if message["deleted"]:
                return message_view(message)
            # Keep the row (and its client_id) so a late retry of the send stays a repeat.
            await tx.stores.messages.update(tx.conn, message_id, {
                "deleted": True, "text": "", "forward_of": None, "media": None})
            await tx.stores.media.drop_refs(tx.conn, message_id)
            view = message_view({**message, "deleted": True})
            # Catch-up from an old cursor must not hand out the deleted text either.
            await tx.stores.events.scrub_message(tx.conn, chat_id, message_id,
                                                 since=message["created_at"], view=view)
            await tx.emit("message.deleted", {"message": view}, chat_id=chat_id)
            return view

        return await self._writer.run(delete)

    async def history(self, user_id: int, chat_id: int, *, before: int | None,
                      after: int | None, limit: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            await access_chat(conn, self._stores, user_id, chat_id)
            rows = await self._stores.messages.page(conn, chat_id, before=before, after=after,
                                                    limit=limit)
        views = [message_view(r) for r in rows]
        for view in views:
            if view.get("sender_id") != user_id:
                view.pop("client_id", None)
        return views

    async def do_mark_read(self, user_id: int, chat_id: int, seq: Any) -> dict[str, Any]:
        """Move the read marker forward (and the delivered one with it)."""
        _check_seq(seq)

        async def mark(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            upto = min(seq, access.chat["last_seq"])
            if upto <= access.last_read_seq:
                return {"chat_id": chat_id, "seq": access.last_read_seq}
            await tx.stores.chats.mark_read(tx.conn, [{"cid": chat_id, "uid": user_id,
                                                       "seq": upto}], delivered=True)
            await _emit_mark(tx, "chat.read", access, user_id, upto)
            return {"chat_id": chat_id, "seq": upto}

        return await self._writer.run(mark)

    async def do_mark_delivered(self, user_id: int, chat_id: int, seq: Any) -> dict[str, Any]:
        """Move the delivered marker forward: the user's devices have the chat up to `seq`.

        One forward-only UPDATE; a mark at or behind the current one changes nothing and
        tells no one.
        """
        _check_seq(seq)

        async def mark(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            upto = min(seq, access.chat["last_seq"])
            if upto <= access.last_delivered_seq:
                return {"chat_id": chat_id, "seq": access.last_delivered_seq}
            await tx.stores.chats.mark_delivered(tx.conn, chat_id, user_id, upto)
            await _emit_mark(tx, "chat.delivered", access, user_id, upto)
            return {"chat_id": chat_id, "seq": upto}

        return await self._writer.run(mark)

    async def check_typing(self, user_id: int, chat_id: int) -> bool:
        """Whether a typing notice of `user_id` may go to the chat's other members.

        Raises for outsiders (404) and for a user blocked in this direct chat (403, as a
        send would); False when the caller blocked the other side (their typing is not
        the blocked user's business either).
        """
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            if access.role == "blocked":
                raise Forbidden("this user does not take messages from you",
                                code="cannot_message")
            return not await is_quiet_pair(conn, self._stores, access)


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
