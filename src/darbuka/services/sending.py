"""Sending: the shape check, and the batch function the writer runs for every send that
arrives within one commit window (group commit). Exactly once: `(sender, client_id)` is
unique, and a repeat answers the original message."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol, get_args

import orjson

from darbuka.errors import ApiError, BadRequest, Conflict, NotFound
from darbuka.markup import check_markup
from darbuka.services.access import post_refusal, slow_mode_refusal
from darbuka.services.drafts import clear_sent_drafts
from darbuka.services.links import links_of
from darbuka.services.media import MediaNotReady, media_descriptor
from darbuka.services.mentions import notify_mentions
from darbuka.services.polls import check_poll, poll_send_refusal, queue_poll_close
from darbuka.services.push import queue_message_pushes
from darbuka.services.rights import lacking_write
from darbuka.services.text import MAX_TEXT, check_no_nul
from darbuka.services.views import message_view
from darbuka.services.writer import Tx
from darbuka.storage.rows import MediaRow, Membership, MessageFields, MessageRow
from darbuka.stream import Event

__all__ = ["ALBUM_KINDS", "MAX_ALBUM", "MAX_CAPTION", "MAX_TEXT", "MEDIA_KINDS", "LinkCheck",
           "MediaKind", "SendRequest", "SendResult", "check_send", "markup_json",
           "media_ids_of", "post_system", "store_sends"]

MAX_CAPTION = 1024
MAX_CLIENT_ID = 64
# What a message may carry; the request bodies declare `MediaKind`.
MediaKind = Literal["photo", "voice", "video", "sticker", "file"]
MEDIA_KINDS: tuple[str, ...] = get_args(MediaKind)
# An album: one message of several photos and videos, sent together with one caption. It
# is stored as the first item's descriptor with `album` (every item) beside its keys, so
# the message is a photo (or video) message to anything that knows no albums.
ALBUM_KINDS = ("photo", "video")
MAX_ALBUM = 10


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
    # An album's uploads, in order (2 to MAX_ALBUM); then media_id is None.
    album: tuple[str, ...] = ()
    # JSON of the checked ranges over `text` (darbuka.markup); None for plain text.
    markup: str | None = None
    # JSON of a new poll (services/polls.py); `text` is then its question.
    poll: str | None = None

    @property
    def media_ids(self) -> tuple[str, ...]:
        """Every upload this send attaches."""
        return self.album or ((self.media_id,) if self.media_id is not None else ())


@dataclass(frozen=True, slots=True)
class SendResult:
    message: dict[str, Any]
    # The event's position; None when this was a repeat of an earlier send.
    pos: int | None

    @property
    def repeated(self) -> bool:
        return self.pos is None


class LinkCheck(Protocol):
    """The URL banks' say on a message's links, inside the writing transaction (handed in
    by the composition root: services never import safety). None lets it through."""

    async def check_send(self, tx: Tx, req: SendRequest,
                         links: list[str]) -> ApiError | None: ...

    async def check_edit(self, tx: Tx, message_id: int,
                         links: list[str]) -> ApiError | None: ...


def check_send(sender_id: int, chat_id: Any, client_id: Any, text: Any, reply_to: Any = None,
               forward_of: Any = None, origin: str | None = None, *, media_id: Any = None,
               kind: Any = None, media_ids: Any = None, markup: Any = None,
               poll: Any = None) -> SendRequest:
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
    check_no_nul(text, "text")
    ranges = markup_json(text, markup)
    for name, value in (("reply_to", reply_to), ("forward_of", forward_of)):
        if value is not None and not _is_id(value):
            raise BadRequest(f"{name} must be a message id", code=f"invalid_{name}")
    album: tuple[str, ...] = ()
    if poll is not None or kind == "poll":
        return _check_poll_send(SendRequest(sender_id, chat_id, client_id, text, reply_to,
                                            forward_of, origin, media_id, "poll",
                                            markup=ranges), media_ids, poll)
    if media_ids is not None:
        album = _check_album(media_ids, media_id, kind, text)
    elif media_id is not None:
        _check_media(media_id, kind, text)
    elif kind not in (None, "text"):
        raise BadRequest(f"a {kind} message needs media_id", code="media_required")
    elif not text.strip() and forward_of is None:
        raise BadRequest("a message needs text (or forward_of)", code="empty_message")
    return SendRequest(sender_id, chat_id, client_id, text, reply_to, forward_of, origin,
                       media_id, kind, album=album, markup=ranges)


def _check_poll_send(req: SendRequest, media_ids: Any, poll: Any) -> SendRequest:
    if poll is None:
        raise BadRequest("a poll message needs poll", code="invalid_poll")
    if req.media_id is not None or media_ids is not None or req.forward_of is not None:
        raise BadRequest("a poll carries no media and is no forward", code="invalid_poll")
    return replace(req, poll=check_poll(poll, req.text))


def markup_json(text: str, markup: Any) -> str | None:
    """The markup column for `text`: the checked ranges as JSON, None when there are none."""
    ranges = check_markup(text, markup)
    return orjson.dumps(ranges).decode() if ranges else None


def _check_album(media_ids: Any, media_id: Any, kind: Any, text: str) -> tuple[str, ...]:
    if media_id is not None:
        raise BadRequest("send media_id or media_ids, not both", code="invalid_media_ids")
    if (not isinstance(media_ids, list) or not 2 <= len(media_ids) <= MAX_ALBUM
            or len(set(map(str, media_ids))) != len(media_ids)):
        raise BadRequest(f"media_ids must be 2 to {MAX_ALBUM} different upload ids",
                         code="invalid_media_ids")
    if kind is not None:
        raise BadRequest("an album takes no kind: each upload has its own",
                         code="invalid_kind")
    for one in media_ids:
        _check_media(one, None, text)
    return tuple(media_ids)


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


async def store_sends(tx: Tx, items: list[SendRequest], *,
                      links: LinkCheck | None = None) -> list[SendResult | ApiError]:
    """Store a batch of sends in one transaction; results line up with `items`. `links`:
    every send's links are checked here, the one place each transport's sends pass."""
    stores, conn = tx.stores, tx.conn
    refs = await stores.messages.by_ids(
        conn, [i for r in items for i in (r.reply_to, r.forward_of) if i is not None])
    pairs = {(r.chat_id, r.sender_id) for r in items}
    pairs |= {(refs[r.forward_of]["chat_id"], r.sender_id) for r in items
              if r.forward_of in refs}
    roles = await stores.chats.roles(conn, pairs)
    # Channel admins whose rights leave out `write` (no query when no channel admin sends).
    no_write = await lacking_write(conn, stores, [p for p, m in roles.items()
                                                  if m.kind == "channel" and m.role == "admin"])
    media: dict[str, MediaRow] = {}
    in_packs: set[str] = set()
    removed: set[str] = set()
    if any(r.media_ids for r in items):  # text sends (the hot path) skip these queries
        media = await stores.media.by_ids(conn, [i for r in items for i in r.media_ids])
        in_packs = await stores.stickers.in_packs(conn, [
            m["id"] for m in media.values() if m["kind"] == "sticker"])
        # An upload on a message moderation removed is not attached again (a sticker of
        # a pack stays the pack's).
        removed = await stores.media.removed_uploads(conn, media) - in_packs
    earlier = await stores.messages.by_client_ids(conn, [(r.sender_id, r.client_id)
                                                         for r in items])
    results: list[SendResult | ApiError | None] = [None] * len(items)
    accepted: list[tuple[int, SendRequest, MessageFields]] = []
    first_in_batch: dict[tuple[int, str], int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the first send with its client_id)
    for index, req in enumerate(items):
        key = (req.sender_id, req.client_id)
        if key in earlier:
            results[index] = SendResult(message_view(earlier[key]), None)
        elif key in first_in_batch:
            repeats.append((index, first_in_batch[key]))
        else:
            checked = _check_one(req, roles, refs, no_write, media, in_packs, removed, tx.now)
            if not isinstance(checked, ApiError):
                checked = _check_slow_mode(req, roles, tx.now) or checked
            if links is not None and not isinstance(checked, ApiError) and (
                    found := links_of(checked.get("text", ""), req.keyboard)):
                checked = await links.check_send(tx, req, found) or checked
            if isinstance(checked, ApiError):
                results[index] = checked
            else:
                first_in_batch[key] = index
                accepted.append((index, req, checked))
    if accepted:
        await _insert_accepted(tx, accepted, results)
        await clear_sent_drafts(tx, {(req.chat_id, req.sender_id) for _, req, _ in accepted},
                                roles)
    for index, first in repeats:
        original = results[first]
        results[index] = (SendResult(original.message, None)
                          if isinstance(original, SendResult) else original)
    return [r for r in results if r is not None]


def _check_slow_mode(req: SendRequest, roles: dict[tuple[int, int], Membership],
                     now: int) -> ApiError | None:
    """Slow mode's refusal, if any; an accepted send counts at once as the member's last
    post, so a second send of the same batch waits as it would in the next one."""
    key = (req.chat_id, req.sender_id)
    membership = roles[key]  # _check_one refused a send from a non-member
    refusal = slow_mode_refusal(membership.role, membership.slow_mode_s,
                                membership.last_post_at, now)
    if refusal is None and membership.slow_mode_s:
        roles[key] = membership._replace(last_post_at=now)
    return refusal


def _check_one(req: SendRequest, roles: dict[tuple[int, int], Membership],
               refs: dict[int, MessageRow],
               no_write: set[tuple[int, int]], media: dict[str, MediaRow],
               in_packs: set[str], removed: set[str], now: int) -> MessageFields | ApiError:
    """The row fields this send adds, or the error it earned."""
    membership = roles.get((req.chat_id, req.sender_id))
    if membership is None:
        return NotFound("no such chat", code="chat_not_found")
    refusal = post_refusal(membership.role, membership.kind, membership.closed,
                           has_write=(req.chat_id, req.sender_id) not in no_write)
    if refusal is not None:
        return refusal
    extra: MessageFields = {"text": req.text, "markup": req.markup}
    if req.reply_to is not None:
        target = refs.get(req.reply_to)
        if target is None or target["chat_id"] != req.chat_id:
            return NotFound("reply_to is not a message of this chat", code="message_not_found")
        extra["reply_to"] = req.reply_to
    if req.forward_of is not None:
        source = refs.get(req.forward_of)
        if source is None or (source["chat_id"], req.sender_id) not in roles or source["deleted"]:
            return NotFound("forward_of is not a message you can see", code="message_not_found")
        if source["kind"] == "poll":
            return BadRequest("a poll is not forwarded", code="cannot_forward_poll")
        extra["forward_of"] = orjson.dumps({"chat_id": source["chat_id"],
                                            "message_id": source["id"],
                                            "sender_id": source["sender_id"]}).decode()
        if not req.text:  # a forward without words of its own keeps the original's
            extra["text"], extra["markup"] = source["text"], source["markup"]
        if source["media"]:
            extra["kind"], extra["media"] = source["kind"], source["media"]
    if req.media_id is not None:
        attached = _attach(req, media.get(req.media_id), in_packs, removed)
        if isinstance(attached, ApiError):
            return attached
        extra.update(attached)
    elif req.album:
        album = _attach_album(req, media, removed)
        if isinstance(album, ApiError):
            return album
        extra.update(album)
    elif req.poll is not None:
        refused = poll_send_refusal(req.poll, membership.kind, now)
        if refused is not None:
            return refused
        extra.update({"kind": "poll", "poll": req.poll})
    return extra


def _attach_album(req: SendRequest, media: dict[str, MediaRow],
                  removed: set[str]) -> MessageFields | ApiError:
    """Your own photos and videos, every one ready and none removed by moderation; the
    message takes the first's kind."""
    items: list[dict[str, Any]] = []
    for media_id in req.album:
        row = media.get(media_id)
        if row is None or row["owner_id"] != req.sender_id:
            return NotFound("no such media", code="media_not_found")
        if row["state"] == "removed" or row["id"] in removed:
            return Conflict("this file was removed by a moderator", code="media_removed")
        if row["kind"] not in ALBUM_KINDS:
            return BadRequest("an album holds photos and videos only", code="invalid_album")
        if row["state"] != "ready":
            return MediaNotReady("the media is still being processed; send again shortly")
        items.append(media_descriptor(row))
    stored = {**items[0], "album": items}
    return {"kind": items[0]["kind"], "media": orjson.dumps(stored).decode()}


def media_ids_of(stored: str) -> list[str]:
    """Every upload a message's stored `media` names (an album's all, in order)."""
    media = orjson.loads(stored)
    return [str(m["id"]) for m in media.get("album") or [media]]


def _attach(req: SendRequest, row: MediaRow | None, in_packs: set[str],
            removed: set[str]) -> MessageFields | ApiError:
    """Your own upload, or a sticker from any pack; not one whose message moderation
    removed (`removed`)."""
    if row is None or row["kind"] not in MEDIA_KINDS or (
            row["owner_id"] != req.sender_id and row["id"] not in in_packs):
        return NotFound("no such media", code="media_not_found")
    if row["state"] == "removed" or row["id"] in removed:
        return Conflict("this file was removed by a moderator", code="media_removed")
    if row["state"] != "ready":
        return MediaNotReady("the media is still being processed; send again shortly")
    if req.kind is not None and req.kind != row["kind"]:
        return BadRequest(f"this upload is a {row['kind']}, not a {req.kind}",
                          code="kind_mismatch")
    return {"kind": row["kind"], "media": orjson.dumps(media_descriptor(row)).decode()}


def new_message(chat_id: int, seq: int, now: int, *, sender_id: int | None = None,
                client_id: str | None = None, kind: str = "text", system: str | None = None,
                keyboard: str | None = None) -> MessageFields:
    """Every column of a message about to be inserted. The rows of one executemany must
    have the same keys: a key missing from the first row is left out of every row."""
    return {"chat_id": chat_id, "seq": seq, "sender_id": sender_id, "client_id": client_id,
            "kind": kind, "text": "", "reply_to": None, "forward_of": None, "system": system,
            "created_at": now, "edited_at": None, "deleted": False, "removed": False,
            "media": None, "keyboard": keyboard, "markup": None, "poll": None}


async def _insert_accepted(tx: Tx, accepted: list[tuple[int, SendRequest, MessageFields]],
                           results: list[Any]) -> None:
    stores, conn = tx.stores, tx.conn
    seqs = await stores.chats.lock_seqs(conn, {req.chat_id for _, req, _ in accepted})
    new: list[MessageFields] = []
    for _, req, extra in accepted:
        seqs[req.chat_id] += 1
        new.append({**new_message(req.chat_id, seqs[req.chat_id], tx.now,
                                  sender_id=req.sender_id, client_id=req.client_id,
                                  keyboard=req.keyboard), **extra})
    ids = await stores.messages.insert_many(conn, new)
    rows: list[MessageRow] = [{**row, "id": message_id}
                              for row, message_id in zip(new, ids, strict=True)]
    last = {row["chat_id"]: {"cid": row["chat_id"], "seq": row["seq"], "mid": row["id"]}
            for row in rows}
    await stores.chats.set_last(conn, list(last.values()))
    refs = [{"media_id": media_id, "message_id": row["id"], "chat_id": row["chat_id"]}
            for row in rows if (media := row["media"]) for media_id in media_ids_of(media)]
    if refs:
        await stores.media.add_refs(conn, refs)
    # Your own message is read by you: unread counts only count others' messages. The same
    # UPDATE keeps when you posted, for slow mode.
    await stores.chats.mark_sent(conn, [{"cid": r["chat_id"], "uid": r["sender_id"],
                                         "seq": r["seq"], "at": tx.now} for r in rows])
    positions = await tx.reserve(len(rows))
    for pos, (index, req, _), row in zip(positions, accepted, rows, strict=True):
        view = message_view(row)
        tx.add(Event(pos=pos, type="message.new", body={"message": view},
                     chat_id=req.chat_id, origin=req.origin))
        results[index] = SendResult(view, pos)
    await stores.search.add(conn, [
        {"message_id": row["id"], "chat_id": row["chat_id"], "pos": pos, "text": row["text"]}
        for pos, row in zip(positions, rows, strict=True)])
    await notify_mentions(tx, rows)
    await queue_message_pushes(tx, rows)
    await queue_poll_close(tx, rows)


async def post_system(tx: Tx, chat_id: int, body: dict[str, Any]) -> None:
    """A system message (membership or title change) in the chat's history and stream."""
    seq = (await tx.stores.chats.lock_seqs(tx.conn, [chat_id]))[chat_id] + 1
    new = new_message(chat_id, seq, tx.now, kind="system", system=orjson.dumps(body).decode())
    (message_id,) = await tx.stores.messages.insert_many(tx.conn, [new])
    await tx.stores.chats.set_last(tx.conn, [{"cid": chat_id, "seq": seq, "mid": message_id}])
    await tx.emit("message.new", {"message": message_view({**new, "id": message_id})},
                  chat_id=chat_id)


