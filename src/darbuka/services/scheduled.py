"""Scheduled messages: written now, held by the server, sent at their time.

A scheduled message is checked as a send would be when it is written (the author may post
in the chat) and again when it goes out, through the ordinary send path — the same door,
the same rights, the same repeat handling: it carries the client id it was scheduled with,
so a send cut short by a crash and made again is answered with the original. The periodic
job `scheduled-posts` (`background.py`) sends what is due, one process at a time; a row
is claimed (`sending`) before its send, so a cancel never races a send that is under way.

Until then the author can list, edit and cancel it; in a channel, every admin who may post
sees, edits and cancels the channel's scheduled posts too (a brand's co-admins share the
calendar).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from darbuka.clock import Clock
from darbuka.errors import ApiError, BadRequest, Conflict, NotFound, RateLimited
from darbuka.services.access import ChatAccess, access_chat
from darbuka.services.messages import MessageService
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import check_may_post
from darbuka.services.sending import check_send
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores

__all__ = ["MAX_AHEAD_MS", "ScheduledService"]

log = logging.getLogger(__name__)

# How far ahead a message may be scheduled.
MAX_AHEAD_MS = 366 * 24 * 3600 * 1000


class ScheduledService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 messages: MessageService, *, writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._messages = messages
        self._writes = writes

    async def do_schedule(self, user_id: int, chat_id: int, client_id: Any, text: Any,
                          send_at: Any) -> tuple[dict[str, Any], bool]:
        """Hold a message until `send_at` (ms); (the view, whether it is new). Scheduling
        again with the same client id returns the first."""
        await self._writes.check("sends", user_id)
        req = check_send(user_id, chat_id, client_id, text)

        async def schedule(tx: Tx) -> tuple[dict[str, Any], bool]:
            # Outsiders learn nothing, not even that their time was wrong.
            await check_may_post(tx.conn, tx.stores, user_id, chat_id)
            when = self._check_time(send_at)
            existing = await tx.stores.scheduled.by_client_id(tx.conn, user_id, req.client_id)
            if existing is not None:
                if existing["chat_id"] != chat_id:
                    raise Conflict("this client_id was used for another chat",
                                   code="client_id_reused")
                return _view(existing), False
            new_id = await tx.stores.scheduled.add(
                tx.conn, chat_id=chat_id, sender_id=user_id, client_id=req.client_id,
                text=req.text, send_at=when, now=tx.now)
            row = await tx.stores.scheduled.get(tx.conn, new_id)
            assert row is not None  # noqa: S101 - added just above
            return _view(row), True

        return await self._writer.run(schedule)

    async def waiting(self, user_id: int, chat_id: int) -> list[dict[str, Any]]:
        """What is still to be sent in the chat: yours, or in a channel you post in, all."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            everyone = await self._shares_calendar(conn, access, user_id)
            rows = await self._stores.scheduled.waiting_in(
                conn, chat_id, sender_id=None if everyone else user_id)
        return [_view(r) for r in rows]

    async def do_edit(self, user_id: int, chat_id: int, scheduled_id: int, *,
                      text: Any = None, send_at: Any = None) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        values: dict[str, Any] = {}
        if text is not None:
            values["text"] = check_send(user_id, chat_id, "edit", text).text
        if send_at is not None:
            values["send_at"] = self._check_time(send_at)
        if not values:
            raise BadRequest("give text or send_at", code="nothing_to_change")

        async def edit(tx: Tx) -> dict[str, Any]:
            await self._own(tx, user_id, chat_id, scheduled_id)
            if not await tx.stores.scheduled.change(tx.conn, scheduled_id, values, now=tx.now):
                raise Conflict("this message was sent or cancelled", code="not_scheduled")
            row = await tx.stores.scheduled.get(tx.conn, scheduled_id)
            assert row is not None  # noqa: S101 - changed just above
            return _view(row)

        return await self._writer.run(edit)

    async def do_cancel(self, user_id: int, chat_id: int, scheduled_id: int) -> None:
        await self._writes.check("other", user_id)

        async def cancel(tx: Tx) -> None:
            await self._own(tx, user_id, chat_id, scheduled_id)
            if not await tx.stores.scheduled.change(tx.conn, scheduled_id,
                                                    {"state": "cancelled"}, now=tx.now):
                raise Conflict("this message was sent or cancelled", code="not_scheduled")

        await self._writer.run(cancel)

    async def do_send_due(self) -> int:
        """Send every scheduled message whose time has come (the periodic job); how many
        were sent. A refused one is `failed` with the refusal; a rate-limited one waits."""
        async with self._db.read() as conn:
            due = await self._stores.scheduled.due(conn, self._clock.now_ms())
        sent = 0
        for row in due:
            if row["state"] == "scheduled" and not await self._claim(row["id"]):
                continue  # cancelled or edited away meanwhile
            try:
                req = check_send(row["sender_id"], row["chat_id"], row["client_id"],
                                 row["text"])
                result = await self._messages.do_send(req)
            except RateLimited:
                await self._settle(row["id"], {"state": "scheduled"})
                continue
            except ApiError as refused:
                log.info("scheduled message %s refused at its time: %s", row["id"],
                         refused.message)
                error = {"code": refused.code, "message": refused.message}
                await self._settle(row["id"], {"state": "failed",
                                               "error": orjson.dumps(error).decode()})
                continue
            await self._settle(row["id"], {"state": "sent",
                                           "message_id": result.message["id"]})
            # A repeat (a claim taken over after its sender stalled) sent nothing new.
            sent += not result.repeated
        return sent

    # -- helpers --------------------------------------------------------------------------

    def _check_time(self, send_at: Any) -> int:
        now = self._clock.now_ms()
        if not isinstance(send_at, int) or isinstance(send_at, bool):
            raise BadRequest("send_at must be a time in ms", code="invalid_send_at")
        if send_at <= now:
            raise BadRequest("send_at must be in the future", code="invalid_send_at")
        if send_at > now + MAX_AHEAD_MS:
            raise BadRequest("send_at is more than a year ahead", code="invalid_send_at")
        return send_at

    async def _shares_calendar(self, conn: Conn, access: ChatAccess, user_id: int) -> bool:
        if access.chat["kind"] != "channel":
            return False
        try:
            await check_may_post(conn, self._stores, user_id, access.chat["id"])
        except ApiError:
            return False
        return True

    async def _own(self, tx: Tx, user_id: int, chat_id: int, scheduled_id: int) -> None:
        """The author's, or a co-admin's of its channel; 404 for anyone else."""
        row = await tx.stores.scheduled.get(tx.conn, scheduled_id)
        access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
        if row is None or row["chat_id"] != chat_id or (
                row["sender_id"] != user_id
                and not await self._shares_calendar(tx.conn, access, user_id)):
            raise NotFound("no such scheduled message", code="scheduled_not_found")

    async def _claim(self, scheduled_id: int) -> bool:
        async def claim(tx: Tx) -> bool:
            return await tx.stores.scheduled.change(tx.conn, scheduled_id,
                                                    {"state": "sending"}, now=tx.now)

        return await self._writer.run(claim)

    async def _settle(self, scheduled_id: int, values: dict[str, Any]) -> None:
        async def settle(tx: Tx) -> None:
            await tx.stores.scheduled.change(tx.conn, scheduled_id, values, now=tx.now,
                                             state="sending")

        await self._writer.run(settle)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    view = {k: row[k] for k in ("id", "chat_id", "sender_id", "client_id", "text", "send_at",
                                "state", "created_at", "updated_at")}
    if row["message_id"] is not None:
        view["message_id"] = row["message_id"]
    if row["error"]:
        view["error"] = orjson.loads(row["error"])
    return view
