"""Importing a Telegram export (`services/telegram.py` reads it) as a group or a channel
with its history, by an operator (`darbuka admin import-telegram`).

- Authors: an author the operator matched (`--author user42=+E164` or `=@username`) is that
  person; any other gets a placeholder account of kind `imported` with the author's name —
  no phone, no device, so nobody signs in as it, and every client shows the name as it shows
  any member's. Channel posts are the owner's, as every channel post is.
- Time: each message keeps its Telegram date as its `created_at` (and `edited_at`); `seq`
  follows Telegram's order.
- Media: the same decoders and bank screen as any upload (`MediaService.do_ingest_here`); a
  file a bank refuses is reported and its message is not imported.
- Once: every item of the source is recorded with what it became, in the transaction that
  stores it, so a second run adds nothing and a run that stopped goes on where it stopped.
- Events: each stored message is a `message.new` event, published after commit like any.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from darbuka.errors import BadRequest, NotFound
from darbuka.markup import MAX_MARKUP, InvalidMarkup, check_markup, from_code_points
from darbuka.media.sniff import accepts, sniff
from darbuka.services.access import PLAIN_ROLE
from darbuka.services.auth import normalise_phone
from darbuka.services.chats import ChatService
from darbuka.services.handles import normalise
from darbuka.services.media import MediaService, media_descriptor
from darbuka.services.members import MemberService
from darbuka.services.sending import media_ids_of, new_message
from darbuka.services.telegram import TgChat, TgMessage
from darbuka.services.text import MAX_TEXT
from darbuka.services.uploads import UploadService
from darbuka.services.views import message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import MessageFields, MessageRow, UserRow
from darbuka.stream import Event

__all__ = ["ImportReport", "ImportService"]

log = logging.getLogger(__name__)

# Messages stored per transaction: a stopped run loses at most this many to do again.
BATCH = 100
MAX_NAME = 64


@dataclass
class ImportReport:
    chat_id: int
    created: bool
    imported: int = 0
    already: int = 0  # done by an earlier run
    # (Telegram message id, why): refused by a bank, skipped (service notes, stickers, polls,
    # files the export left out or that are no media Darbuka takes).
    refused: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Ready:
    """One Telegram message turned into a message row's fields (None: not imported)."""
    item: int
    fields: MessageFields | None
    outcome: str
    note: str | None = None
    reply_to: int | None = None  # the Telegram id of the message this one answers


class ImportService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, chats: ChatService,
                 members: MemberService, media: MediaService, uploads: UploadService, *,
                 workers: int = 1) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._chats = chats
        self._members = members
        self._media = media
        self._uploads = uploads
        # Files read and decoded at once (as many as the media workers): each is in memory
        # while it is decoded.
        self._workers = max(1, workers)

    async def do_import_telegram(self, export: TgChat, *, kind: str, owner_phone: str,
                                 authors: dict[str, str] | None = None,
                                 on_progress: Callable[[int], None] | None = None
                                 ) -> ImportReport:
        """Import `export` as a `kind` (group or channel) owned by the account of
        `owner_phone`; `authors` maps Telegram author ids to +E164 or @username."""
        if kind not in ("group", "channel"):
            raise BadRequest("an import makes a group or a channel", code="invalid_kind")
        owner = await self._person(owner_phone)
        matched = {author: (await self._person(who))["id"]
                   for author, who in (authors or {}).items()}
        chat_id, created, people = await self._writer.run(
            lambda tx: self._chat(tx, export, kind, owner, matched))
        async with self._db.read() as conn:
            done = await self._stores.imports.items(conn, export.source)
        report = ImportReport(chat_id, created)
        todo = [m for m in export.messages if m.id not in done]
        report.already = len(export.messages) - len(todo)
        if on_progress is not None and report.already:
            on_progress(report.already)
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            files = asyncio.Semaphore(self._workers)
            ready = list(await asyncio.gather(*(
                self._prepare(m, kind, owner["id"], people, files) for m in batch)))

            async def store(tx: Tx, ready: list[_Ready] = ready) -> dict[int, int]:
                return await self._store(tx, export.source, chat_id, owner["id"], ready,
                                         done)

            done.update(await self._writer.run(store))  # known once committed
            for one in ready:
                if one.outcome == "imported":
                    report.imported += 1
                elif one.outcome == "refused":
                    report.refused.append((one.item, one.note or ""))
                else:
                    report.skipped.append((one.item, one.note or ""))
            if on_progress is not None:
                on_progress(len(batch))
        return report

    async def _person(self, who: str) -> UserRow:
        """The account of a +E164 number or an @username; NotFound otherwise."""
        async with self._db.read() as conn:
            if who.startswith("@"):
                user = await self._stores.users.by_username_key(conn, normalise(who))
            else:
                user = await self._stores.users.by_phone(conn, normalise_phone(who))
        if user is None or user["kind"] in ("bot", "imported"):
            raise NotFound(f"no account {who} here (they sign up first)",
                           code="user_not_found")
        return user

    # -- the chat and its authors ------------------------------------------------------

    async def _chat(self, tx: Tx, export: TgChat, kind: str, owner: UserRow,
                    matched: dict[str, int]) -> tuple[int, bool, dict[str, int]]:
        """The chat of this source (made on the first run) and the account of each author,
        every one a member (placeholders made for those nobody matched)."""
        source, conn = export.source, tx.conn
        people = await tx.stores.imports.authors(conn, source)
        names = {m.author: m.author_name for m in export.messages if m.author}
        if kind == "group":
            for author, name in names.items():
                if author in people:
                    continue
                user_id = matched.get(author) or await tx.stores.users.create(
                    conn, phone=None, now=tx.now, display_name=name.strip()[:MAX_NAME]
                    or "Telegram user", kind="imported")
                await tx.stores.imports.add_author(conn, source, author, user_id)
                people[author] = user_id
        chat_id = await tx.stores.imports.chat_of(conn, source)
        others = {u: PLAIN_ROLE[kind] for u in people.values() if u != owner["id"]}
        if chat_id is not None:
            chat = await tx.stores.chats.get(conn, chat_id)
            if chat is None:
                raise NotFound(f"chat {chat_id}, which an earlier run of this import made, "
                               "was deleted", code="chat_not_found")
            for user_id in others:  # authors new in this export
                await self._members.let_in(tx, chat, user_id, by=owner["id"])
            return chat_id, False, people
        chat_id = await self._chats.do_open_imported(tx, owner["id"], kind, export.name,
                                                     others)
        await tx.stores.imports.add_chat(conn, source, chat_id, now=tx.now)
        return chat_id, True, people

    # -- one message -------------------------------------------------------------------

    async def _prepare(self, message: TgMessage, kind: str, owner_id: int,
                       people: dict[str, int], files: asyncio.Semaphore) -> _Ready:
        """The row fields of one message, its media processed first (outside any
        transaction: decoding takes a while)."""
        if message.service:
            return _Ready(message.id, None, "skipped", "a service note")
        if message.skipped:
            return _Ready(message.id, None, "skipped", message.skipped)
        sender = owner_id if kind == "channel" else people.get(message.author or "", owner_id)
        text = message.text[:MAX_TEXT]
        fields: MessageFields = {"sender_id": sender, "text": text,
                                 "markup": await self._markup(text, message, people),
                                 "created_at": message.date_ms, "edited_at": message.edited_ms}
        if message.media is not None:
            media = message.media
            if media.path is None:  # never exported: the words (if any) come alone
                if not text.strip():
                    return _Ready(message.id, None, "skipped", media.missing)
            else:
                async with files:
                    data = await asyncio.to_thread(media.path.read_bytes)
                    attached = await self._ingest(data, media.kind, sender, media.filename)
                if isinstance(attached, _Ready):
                    return _Ready(message.id, None, attached.outcome, attached.note)
                fields.update(attached)
        elif not text.strip():
            return _Ready(message.id, None, "skipped", "no text and no media")
        return _Ready(message.id, fields, "imported", reply_to=message.reply_to)

    async def _ingest(self, data: bytes, kind: str, owner_id: int,
                      filename: str | None) -> MessageFields | _Ready:
        mime = sniff(data[:4096])
        if not accepts(kind, mime):  # a "photo" that is a GIF, say: kept as a file
            kind = "file"
        if not data or len(data) > self._uploads.limit_for(kind):
            return _Ready(0, None, "skipped", f"a {kind} of {len(data)} bytes (too large "
                                              "or empty)")
        row = await self._media.do_ingest_here(data, kind, owner_id, filename=filename)
        if row["state"] == "failed":
            error = orjson.loads(row["error"] or "{}")
            outcome = "refused" if error.get("code") == "media_refused" else "skipped"
            return _Ready(0, None, outcome, error.get("message", "the file was refused"))
        if row["state"] != "ready":  # held for a moderator's review
            return _Ready(0, None, "refused", "held for review by a moderator")
        return {"kind": row["kind"], "media": orjson.dumps(media_descriptor(row)).decode()}

    async def _markup(self, text: str, message: TgMessage,
                      people: dict[str, int]) -> str | None:
        """The checked ranges as JSON; mentions of people nobody here is dropped, and
        markup Darbuka would refuse (crossing ranges) is dropped whole: the words stay."""
        ranges: list[dict[str, Any]] = []
        for item in message.markup[:MAX_MARKUP]:
            if item["from"] + item["length"] > len(text):
                continue
            if item["type"] == "user_mention":
                user_id = await self._mentioned(item, people)
                if user_id is None:
                    continue
                item = {"type": "user_mention", "from": item["from"],
                        "length": item["length"], "user_id": user_id}
            ranges.append(item)
        try:
            checked = check_markup(text, from_code_points(text, ranges))
        except InvalidMarkup as err:
            log.info("message %d keeps its text without markup: %s", message.id, err.message)
            return None
        return orjson.dumps(checked).decode() if checked else None

    async def _mentioned(self, item: dict[str, Any], people: dict[str, int]) -> int | None:
        if "author" in item:
            return people.get(item["author"])
        async with self._db.read() as conn:
            user = await self._stores.users.by_username_key(conn, normalise(item["username"]))
        return None if user is None else user["id"]

    # -- storing a batch ---------------------------------------------------------------

    async def _store(self, tx: Tx, source: str, chat_id: int, owner_id: int,
                     ready: Sequence[_Ready], done: dict[int, int | None]) -> dict[int, int]:
        """Store a batch (and what each item became); the message ids it made. `done`:
        what earlier batches and runs made, for replies to point at."""
        conn = tx.conn
        ids: dict[int, int] = {}
        last_seq = 0
        segment: list[tuple[_Ready, MessageFields]] = []
        for one in [r for r in ready if r.fields is not None]:
            assert one.fields is not None  # noqa: S101 - kept for having fields
            reply = one.reply_to
            if reply is not None and any(r.item == reply for r, _ in segment):
                # A reply to a message not inserted yet: that one goes in first.
                last_seq = await self._insert(tx, chat_id, segment, ids) or last_seq
                segment = []
            target = None if reply is None else ids.get(reply) or done.get(reply)
            segment.append((one, {**one.fields, "reply_to": target}))
        last_seq = await self._insert(tx, chat_id, segment, ids) or last_seq
        await tx.stores.imports.add_items(conn, [
            {"source": source, "item": r.item, "message_id": ids.get(r.item),
             "outcome": r.outcome, "note": r.note} for r in ready])
        if last_seq:
            await tx.stores.chats.mark_read(conn, [{"cid": chat_id, "uid": owner_id,
                                                    "seq": last_seq}])
        return ids

    async def _insert(self, tx: Tx, chat_id: int,
                      segment: Sequence[tuple[_Ready, MessageFields]],
                      ids: dict[int, int]) -> int:
        """Insert in Telegram's order; return the last seq (0: nothing to insert)."""
        if not segment:
            return 0
        conn = tx.conn
        seq = (await tx.stores.chats.lock_seqs(conn, [chat_id]))[chat_id]
        new: list[MessageFields] = [
            {**new_message(chat_id, seq + n, fields["created_at"]), **fields}
            for n, (_, fields) in enumerate(segment, start=1)]
        message_ids = await tx.stores.messages.insert_many(conn, new)
        rows: list[MessageRow] = [{**row, "id": i}
                                  for row, i in zip(new, message_ids, strict=True)]
        for (one, _), row in zip(segment, rows, strict=True):
            ids[one.item] = row["id"]
        last = rows[-1]
        await tx.stores.chats.set_last(conn, [{"cid": chat_id, "seq": last["seq"],
                                               "mid": last["id"]}])
        refs = [{"media_id": m, "message_id": r["id"], "chat_id": chat_id}
                for r in rows if r["media"] for m in media_ids_of(r["media"])]
        if refs:
            await tx.stores.media.add_refs(conn, refs)
        positions = await tx.reserve(len(rows))
        for pos, row in zip(positions, rows, strict=True):
            tx.add(Event(pos=pos, type="message.new",
                         body={"message": message_view(row)}, chat_id=chat_id))
        await tx.stores.search.add(conn, [
            {"message_id": r["id"], "chat_id": chat_id, "pos": pos, "text": r["text"]}
            for pos, r in zip(positions, rows, strict=True)])
        return int(last["seq"])
