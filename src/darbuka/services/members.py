"""Membership of groups and channels: who is in, joining and leaving, roles and admin rights.

Admin rights follow TamTam (see rights.py): the owner holds every right; an admin holds
what the owner (or an admin with `add_admins`) gave them. An admin who appoints admins gives
at most their own rights, and changes only the admins they appointed (`check_over`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from darbuka.errors import BadRequest, Conflict, Forbidden, NotFound
from darbuka.services.access import (
    PLAIN_ROLE,
    ChatAccess,
    access_chat,
    check_joinable,
    check_not_banned,
    member_audience,
    sees_members,
)
from darbuka.services.adminlog import do_log
from darbuka.services.joinrequests import do_request_join
from darbuka.services.privacy import PhoneHasher, check_can_add
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import (
    DEFAULT_ADMIN_RIGHTS,
    RIGHTS,
    check_grantable,
    check_over,
    check_right,
    rights_of,
)
from darbuka.services.sending import post_system
from darbuka.services.views import chat_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import ChatRow
from darbuka.stream import Event

__all__ = ["MAX_ADMINS", "MAX_GROUP_MEMBERS", "MemberService", "check_user_ids",
           "member_chat_view"]

MAX_GROUP_MEMBERS = 20_000
MAX_ADMINS = 50


def check_user_ids(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise BadRequest(f"{name} must be a list of user ids", code=f"invalid_{name}")
    return list(dict.fromkeys(value))


def member_chat_view(chat: ChatRow, role: str, last_read_seq: int) -> dict[str, Any]:
    """A chat as one member sees it: with their role, read mark and unread count."""
    view = chat_view(chat)
    view["role"] = role
    view["last_read_seq"] = last_read_seq
    view["unread_count"] = max(0, chat["last_seq"] - last_read_seq)
    return view


def _for(access: ChatAccess) -> dict[str, Any]:
    return member_chat_view(access.chat, access.role, access.last_read_seq)


class MemberService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 hasher: Callable[[str], bytes] | None = None, *, writes: WriteLimits) -> None:
        self._writes = writes
        self._db = db
        self._stores = stores
        self._writer = writer
        # Keyed phone hashes, for "only my contacts may add me" (privacy).
        self._hasher = hasher or PhoneHasher(secrets.token_bytes(32))

    async def members(self, user_id: int, chat_id: int, *, after: int,
                      limit: int) -> list[dict[str, Any]]:
        """Members by user id; owners and admins with their `rights` (everyone who may list
        the members sees them: the rights editor reads them)."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            if not sees_members(access):
                raise Forbidden("only admins see a channel's subscribers", code="not_admin")
            rows = await self._stores.chats.list_members(conn, chat_id, after_user=after,
                                                         limit=limit)
            admins = [(chat_id, r["user_id"]) for r in rows if r["role"] == "admin"]
            stored = await self._stores.rights.get(conn, admins) if admins else {}
        views: list[dict[str, Any]] = []
        for row in rows:
            view: dict[str, Any] = dict(row)
            if row["role"] == "owner":
                view["rights"] = list(RIGHTS)
            elif row["role"] == "admin":
                held = stored.get((chat_id, row["user_id"]), DEFAULT_ADMIN_RIGHTS)
                view["rights"] = sorted(held, key=RIGHTS.index)
            views.append(view)
        return views

    # -- changing -------------------------------------------------------------------------

    async def do_add_members(self, user_id: int, chat_id: int, ids: Any) -> list[int]:
        await self._writes.check("other", user_id)
        user_ids = check_user_ids(ids, "user_ids")
        if not user_ids:
            raise BadRequest("user_ids is empty", code="invalid_user_ids")

        async def add(tx: Tx) -> list[int]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats have two members", code="direct_chat")
            await check_right(tx.conn, tx.stores, access, "add_members", user_id)
            found = await tx.stores.users.existing_ids(tx.conn, user_ids)
            if missing := [u for u in user_ids if u not in found]:
                raise NotFound(f"no such users: {missing[:10]}", code="user_not_found")
            present = await tx.stores.chats.roles(tx.conn, [(chat_id, u) for u in user_ids])
            new = [u for u in user_ids if (chat_id, u) not in present]
            if banned := sorted(await tx.stores.bans.banned_of(tx.conn, chat_id, new)):
                raise Forbidden(f"banned from this chat (lift the ban first): {banned[:10]}",
                                code="banned")
            await check_can_add(tx, self._hasher, user_id, new)
            if access.chat["member_count"] + len(new) > MAX_GROUP_MEMBERS:
                raise Conflict("the chat would pass 20,000 members", code="too_many_members")
            for member in new:
                await self._join(tx, access.chat, member, by=user_id)
                await do_log(tx, chat_id, user_id, "member.added", target_id=member)
            return new

        return await self._writer.run(add)

    async def _join(self, tx: Tx, chat: ChatRow, member: int, *, by: int) -> None:
        kind, chat_id = chat["kind"], chat["id"]
        role = PLAIN_ROLE[kind]
        pos = await tx.reserve_one()
        await tx.stores.chats.add_members(tx.conn, chat_id, {member: role}, now=tx.now,
                                          pos=pos, read_seq=chat["last_seq"])
        fresh = await tx.stores.chats.get(tx.conn, chat_id)
        assert fresh is not None  # noqa: S101 - the chat exists in this transaction
        await _tell(tx, fresh, member, "member.joined",
                    {"chat_id": chat_id, "user_id": member, "role": role, "by": by,
                     "chat": chat_view(fresh)}, pos=pos, joined=True)
        # A channel's subscribers come and go quietly; a group shows who joined.
        if kind == "group":
            await post_system(tx, chat_id, {"action": "member.joined", "user_id": member,
                                            "by": by})

    async def let_in(self, tx: Tx, chat: ChatRow, member: int, by: int) -> None:
        """Add `member` now (a join request approved by `by`), if not in yet."""
        if await tx.stores.chats.member(tx.conn, chat["id"], member) is None:
            await self._join(tx, chat, member, by=by)

    async def drop(self, tx: Tx, chat: ChatRow, member: int, by: int) -> None:
        """Remove `member` (a ban by `by`); the caller checked who may."""
        await self._leave(tx, chat, member, by=by)

    async def _leave(self, tx: Tx, chat: ChatRow, member: int, *, by: int) -> None:
        chat_id = chat["id"]
        if chat["kind"] == "group":
            await post_system(tx, chat_id, {"action": "member.left", "user_id": member,
                                            "by": by})
        pos = await tx.reserve_one()
        await tx.stores.chats.remove_member(tx.conn, chat_id, member, pos=pos)
        await _tell(tx, chat, member, "member.left",
                    {"chat_id": chat_id, "user_id": member, "by": by}, pos=pos, left=True)

    async def do_remove_member(self, user_id: int, chat_id: int, member: int) -> None:
        await self._writes.check("other", user_id)
        async def remove(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if member == user_id:
                return await self._check_and_leave(tx, access, user_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats have two members", code="direct_chat")
            await check_right(tx.conn, tx.stores, access, "remove_members", user_id)
            target = await tx.stores.chats.member(tx.conn, chat_id, member)
            if target is None:
                raise NotFound("not a member of this chat", code="member_not_found")
            check_over(access, user_id, target)
            await self._leave(tx, access.chat, member, by=user_id)
            await do_log(tx, chat_id, user_id, "member.removed", target_id=member)
            return None

        await self._writer.run(remove)

    async def _check_and_leave(self, tx: Tx, access: ChatAccess, user_id: int) -> None:
        if access.chat["kind"] == "direct":
            raise Conflict("you cannot leave a direct chat", code="direct_chat")
        if access.role == "owner":
            raise Conflict("the owner cannot leave; make another admin owner first",
                           code="owner_cannot_leave")
        await self._leave(tx, access.chat, user_id, by=user_id)

    async def do_leave(self, user_id: int, chat_id: int) -> None:
        await self._writes.check("other", user_id)
        async def leave(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            await self._check_and_leave(tx, access, user_id)

        await self._writer.run(leave)

    async def do_join(self, user_id: int, chat_id: int) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        async def join(tx: Tx) -> dict[str, Any]:
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            check_joinable(chat)
            assert chat is not None  # noqa: S101 - check_joinable refuses None
            return await self.admit(tx, chat, user_id)

        return await self._writer.run(join)

    async def admit(self, tx: Tx, chat: ChatRow, user_id: int) -> dict[str, Any]:
        """Let `user_id` into a group or channel (a public join or an invite link): not if
        the chat banned them; as a join request when the chat wants approval."""
        if await tx.stores.chats.member(tx.conn, chat["id"], user_id) is None:
            await check_not_banned(tx.conn, tx.stores, chat["id"], user_id)
            if chat["join_approval"]:
                return await do_request_join(tx, chat, user_id)
            if chat["member_count"] >= MAX_GROUP_MEMBERS and chat["kind"] == "group":
                raise Conflict("this group is full", code="too_many_members")
            await self._join(tx, chat, user_id, by=user_id)
        return _for(await access_chat(tx.conn, tx.stores, user_id, chat["id"]))

    async def do_set_role(self, user_id: int, chat_id: int, member: int, role: Any) -> None:
        """Make a member admin, or back. The owner, or an admin with `add_admins`: such an
        admin gives at most the rights they hold, and demotes only admins they appointed."""
        await self._writes.check("other", user_id)
        async def set_role(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            kind = access.chat["kind"]
            if role not in ("admin", PLAIN_ROLE[kind]) or kind == "direct":
                raise BadRequest(f"role must be admin or {PLAIN_ROLE[kind]}", code="invalid_role")
            await check_right(tx.conn, tx.stores, access, "add_admins", user_id)
            target = await tx.stores.chats.member(tx.conn, chat_id, member)
            if target is None:
                raise NotFound("not a member of this chat", code="member_not_found")
            check_over(access, user_id, target)
            if target["role"] == role:
                return
            if role == "admin" and await tx.stores.chats.count_role(
                    tx.conn, chat_id, "admin") >= MAX_ADMINS:
                raise Conflict(f"a chat has at most {MAX_ADMINS} admins", code="too_many_admins")
            promoted_by = user_id if role == "admin" else None
            await tx.stores.chats.set_role(tx.conn, chat_id, member, role,
                                           promoted_by=promoted_by)
            await tx.stores.rights.drop(tx.conn, chat_id, member)
            body: dict[str, Any] = {"chat_id": chat_id, "user_id": member, "role": role,
                                    "by": user_id}
            if role == "admin" and access.role != "owner":
                held = await rights_of(tx.conn, tx.stores, access, user_id)
                body["rights"] = sorted(DEFAULT_ADMIN_RIGHTS & held, key=RIGHTS.index)
                await tx.stores.rights.put(tx.conn, chat_id, member, body["rights"])
            await _tell(tx, access.chat, member, "member.updated", body)
            await do_log(tx, chat_id, user_id, "role.changed", target_id=member, role=role)

        await self._writer.run(set_role)

    async def do_set_rights(self, user_id: int, chat_id: int, member: int,
                            rights: Any) -> list[str]:
        """Set an admin's rights: the owner, or the admin with `add_admins` who appointed
        them; nobody their own, and nobody grants a right they lack."""
        await self._writes.check("other", user_id)
        if not isinstance(rights, list) or any(r not in RIGHTS for r in rights):
            raise BadRequest(f"rights must be a list of: {', '.join(RIGHTS)}",
                             code="invalid_rights")
        wanted = sorted(set(rights), key=RIGHTS.index)

        async def put(tx: Tx) -> list[str]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            await check_right(tx.conn, tx.stores, access, "add_admins", user_id)
            target = await tx.stores.chats.member(tx.conn, chat_id, member)
            if target is None or target["role"] != "admin":
                raise NotFound("not an admin of this chat", code="member_not_found")
            check_over(access, user_id, target)
            stored = await tx.stores.rights.get(tx.conn, [(chat_id, member)])
            check_grantable(await rights_of(tx.conn, tx.stores, access, user_id),
                            stored.get((chat_id, member), DEFAULT_ADMIN_RIGHTS), wanted)
            await tx.stores.rights.put(tx.conn, chat_id, member, wanted)
            await _tell(tx, access.chat, member, "member.updated",
                        {"chat_id": chat_id, "user_id": member, "role": "admin",
                         "rights": wanted, "by": user_id})
            await do_log(tx, chat_id, user_id, "rights.changed", target_id=member,
                         rights=wanted)
            return wanted

        return await self._writer.run(put)


async def _tell(tx: Tx, chat: ChatRow, member: int, type_: str, body: dict[str, Any], *,
                pos: int | None = None, joined: bool = False, left: bool = False) -> None:
    """A membership event about `member` (at `pos` when the caller reserved it, for the
    membership span), for those who may hear of it: the chat; or in a channel the member —
    whose copy carries `joined` / `left`, for routing — and, each on their own devices, the
    channel's owner and admins (see `member_audience`)."""
    ins: tuple[int, ...] = (member,) if joined else ()
    outs: tuple[int, ...] = (member,) if left else ()
    pos = await tx.reserve_one() if pos is None else pos
    audience = await member_audience(tx.conn, tx.stores, chat, member)
    if audience is None:
        tx.add(Event(pos=pos, type=type_, body=body, chat_id=chat["id"], joined=ins, left=outs))
        return
    tx.add(Event(pos=pos, type=type_, body=body, user_id=member, joined=ins, left=outs))
    for admin in audience:
        if admin != member:
            await tx.emit(type_, body, user_id=admin)
