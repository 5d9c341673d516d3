"""Join requests: a group or channel with `join_approval` lets nobody in by handle or invite
link at once; each join becomes a request that an admin with `add_members` approves (then
they join, as by an invite) or declines. Admins adding people directly are not asked.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from darbuka.errors import NotFound
from darbuka.services.access import access_chat
from darbuka.services.adminlog import do_log
from darbuka.services.push import queue_action_push
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import check_right
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import ChatRow

__all__ = ["JoinRequestService", "do_request_join"]

# Lets a user in (members.MemberService.let_in): handed in, as members.py calls this module.
LetIn = Callable[[Tx, ChatRow, int, int], Awaitable[None]]


async def do_request_join(tx: Tx, chat: ChatRow, user_id: int) -> dict[str, Any]:
    """Ask to join `chat` (once: asking again answers the same request); its admins hear."""
    request = await tx.stores.join_requests.get(tx.conn, chat["id"], user_id)
    if request is None:
        await tx.stores.join_requests.add(tx.conn, chat["id"], user_id, now=tx.now)
        request = {"chat_id": chat["id"], "user_id": user_id, "created_at": tx.now}
        for admin in await tx.stores.chats.admin_ids(tx.conn, chat["id"]):
            await tx.emit("join_request.new", request, user_id=admin)
            # A call to action: an admin who is away hears of it by push.
            await queue_action_push(tx, admin, chat["id"], user_id, "join_request")
    return {"join_request": request}


class JoinRequestService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, let_in: LetIn, *,
                 writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._let_in = let_in
        self._writes = writes

    async def requests(self, user_id: int, chat_id: int, *, limit: int) -> list[dict[str, Any]]:
        """Waiting requests, oldest first (admins with `add_members`)."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            await check_right(conn, self._stores, access, "add_members", user_id)
            return await self._stores.join_requests.for_chat(conn, chat_id, limit=limit)

    async def do_decide(self, user_id: int, chat_id: int, member: int, *,
                        approve: bool) -> None:
        await self._writes.check("other", user_id)

        async def decide(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            await check_right(tx.conn, tx.stores, access, "add_members", user_id)
            if not await tx.stores.join_requests.remove(tx.conn, chat_id, member):
                raise NotFound("no such join request", code="join_request_not_found")
            if approve:  # a ban deletes the request: whoever is asking is not banned
                await self._let_in(tx, access.chat, member, user_id)
            await do_log(tx, chat_id, user_id, "join.approved" if approve else "join.declined",
                         target_id=member)
            body = {"chat_id": chat_id, "user_id": member, "approved": approve, "by": user_id}
            for told in {member, *await tx.stores.chats.admin_ids(tx.conn, chat_id)}:
                await tx.emit("join_request.decided", body, user_id=told)

        await self._writer.run(decide)
