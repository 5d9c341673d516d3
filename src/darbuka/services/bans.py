"""Per-chat bans. A ban removes the person from a group or channel and keeps them out: they
cannot come back by handle, invite link, join request or an admin adding them, until an
admin lifts it (`access.check_not_banned` is the check at every way in). Banning needs the
`remove_members` right and follows the rule of removing (`rights.check_over`); someone who
is not a member can be banned too, so they never come in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from darbuka.errors import Forbidden, NotFound
from darbuka.services.access import ChatAccess, access_chat
from darbuka.services.adminlog import do_log
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import check_over, check_right
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import ChatRow

__all__ = ["BanService"]

# Removes a member (members.MemberService.drop), handed in by the composition root.
Drop = Callable[[Tx, ChatRow, int, int], Awaitable[None]]


class BanService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, drop: Drop, *,
                 writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._drop = drop
        self._writes = writes

    async def bans(self, user_id: int, chat_id: int, *, after: int,
                   limit: int) -> list[dict[str, Any]]:
        """Who is banned, by user id (admins with `remove_members`)."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            await check_right(conn, self._stores, access, "remove_members", user_id)
            return await self._stores.bans.for_chat(conn, chat_id, after=after, limit=limit)

    async def _check(self, tx: Tx, user_id: int, chat_id: int) -> ChatAccess:
        access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
        if access.chat["kind"] == "direct":
            raise Forbidden("direct chats have no bans; block the person instead",
                            code="direct_chat")
        await check_right(tx.conn, tx.stores, access, "remove_members", user_id)
        return access

    async def do_ban(self, user_id: int, chat_id: int, member: int) -> None:
        await self._writes.check("other", user_id)

        async def ban(tx: Tx) -> None:
            access = await self._check(tx, user_id, chat_id)
            target = await tx.stores.chats.member(tx.conn, chat_id, member)
            if target is not None:
                check_over(access, user_id, target)
                await self._drop(tx, access.chat, member, user_id)
            elif member == user_id:
                raise Forbidden("you do not ban yourself", code="cannot_change_self")
            elif not await tx.stores.users.existing_ids(tx.conn, [member]):
                raise NotFound("no such user", code="user_not_found")
            await tx.stores.join_requests.remove(tx.conn, chat_id, member)
            if await tx.stores.bans.add(tx.conn, chat_id, member, by=user_id, now=tx.now):
                await do_log(tx, chat_id, user_id, "member.banned", target_id=member,
                             removed=target is not None)

        await self._writer.run(ban)

    async def do_unban(self, user_id: int, chat_id: int, member: int) -> None:
        await self._writes.check("other", user_id)

        async def unban(tx: Tx) -> None:
            await self._check(tx, user_id, chat_id)
            if not await tx.stores.bans.remove(tx.conn, chat_id, member):
                raise NotFound("this user is not banned here", code="ban_not_found")
            await do_log(tx, chat_id, user_id, "member.unbanned", target_id=member)

        await self._writer.run(unban)
