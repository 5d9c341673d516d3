"""Chats: direct, group and channel; members, roles, titles. Business rules live here."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from darbuka.errors import BadRequest, Conflict, Forbidden, NotFound
from darbuka.services.access import ChatAccess, access_chat, access_message
from darbuka.services.events import Event
from darbuka.services.handles import check_chat_handle, do_set_chat_handle
from darbuka.services.messages import post_system
from darbuka.services.privacy import PhoneHasher, check_can_add, check_direct_allowed
from darbuka.services.rights import check_right
from darbuka.services.views import chat_view, message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["MAX_ADMINS", "MAX_GROUP_MEMBERS", "ChatService"]

MAX_GROUP_MEMBERS = 20_000
MAX_ADMINS = 50
MAX_TITLE = 128
MAX_DESCRIPTION = 1024
# The role a plain member has, by chat kind.
PLAIN_ROLE = {"direct": "member", "group": "member", "channel": "subscriber"}


def _check_title(title: Any) -> str:
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise BadRequest(f"title must be 1 to {MAX_TITLE} characters", code="invalid_title")
    return title.strip()


def _check_ids(value: Any, name: str) -> list[int]:
    if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value):
        raise BadRequest(f"{name} must be a list of user ids", code=f"invalid_{name}")
    return list(dict.fromkeys(value))


class ChatService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 hasher: Callable[[str], bytes] | None = None) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        # Keyed phone hashes, for "only my contacts may add me" (privacy).
        self._hasher = hasher or PhoneHasher(secrets.token_bytes(32))

    # -- creating -------------------------------------------------------------------------

    async def do_create(self, user_id: int, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create a chat; returns (chat, created). A direct chat that exists is returned."""
        kind = body.get("kind")
        if kind == "direct":
            other = body.get("user_id")
            if not isinstance(other, int) or isinstance(other, bool) or other <= 0:
                raise BadRequest("user_id must be a user id", code="invalid_user_id")
            return await self._writer.run(lambda tx: self._create_direct(tx, user_id, other))
        if kind in ("group", "channel"):
            title = _check_title(body.get("title"))
            description = body.get("description", "")
            if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
                raise BadRequest("description must be text of at most 1024 characters",
                                 code="invalid_description")
            member_ids = _check_ids(body.get("member_ids", []), "member_ids")
            if len(member_ids) >= MAX_GROUP_MEMBERS:
                raise BadRequest("too many members", code="too_many_members")
            public = body.get("public", False)
            if not isinstance(public, bool):
                raise BadRequest("public must be true or false", code="invalid_public")

            async def create(tx: Tx) -> tuple[dict[str, Any], bool]:
                chat = await self._create_shared(tx, user_id, kind, title, description,
                                                 member_ids, public)
                return chat, True

            return await self._writer.run(create)
        raise BadRequest("kind must be direct, group or channel", code="invalid_kind")

    async def _create_direct(self, tx: Tx, user_id: int,
                             other: int) -> tuple[dict[str, Any], bool]:
        low, high = sorted((user_id, other))
        key = f"{low}:{high}"
        existing = await tx.stores.chats.by_direct_key(tx.conn, key)
        if existing is not None:
            return chat_view(existing), False
        if other != user_id and not await tx.stores.users.existing_ids(tx.conn, [other]):
            raise NotFound("no such user", code="user_not_found")
        roles = await check_direct_allowed(tx, user_id, other)
        chat_id = await tx.stores.chats.create(tx.conn, kind="direct", title="", owner_id=None,
                                               now=tx.now, direct_key=key)
        return await self._open(tx, chat_id, roles), True

    async def _create_shared(self, tx: Tx, user_id: int, kind: str, title: str,
                             description: str, member_ids: list[int],
                             public: bool) -> dict[str, Any]:
        others = [m for m in member_ids if m != user_id]
        found = await tx.stores.users.existing_ids(tx.conn, others)
        if missing := [m for m in others if m not in found]:
            raise NotFound(f"no such users: {missing[:10]}", code="user_not_found")
        await check_can_add(tx, self._hasher, user_id, others)
        chat_id = await tx.stores.chats.create(tx.conn, kind=kind, title=title, owner_id=user_id,
                                               now=tx.now, is_public=public,
                                               description=description)
        roles = {user_id: "owner"} | dict.fromkeys(others, PLAIN_ROLE[kind])
        chat = await self._open(tx, chat_id, roles)
        await post_system(tx, chat_id, {"action": "chat.created", "by": user_id, "title": title})
        return chat

    async def _open(self, tx: Tx, chat_id: int, roles: dict[int, str]) -> dict[str, Any]:
        pos = await tx.reserve(1)
        await tx.stores.chats.add_members(tx.conn, chat_id, roles, now=tx.now, pos=pos,
                                          read_seq=0)
        chat = await tx.stores.chats.get(tx.conn, chat_id)
        assert chat is not None  # noqa: S101 - created in this transaction
        tx.add(Event(pos=pos, type="chat.created", body={"chat": chat_view(chat)},
                     chat_id=chat_id, joined=tuple(roles)))
        return chat_view(chat)

    # -- reading --------------------------------------------------------------------------

    async def list_for(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.chats.user_chats(conn, user_id)
            last = await self._stores.messages.by_ids(
                conn, [r["last_message_id"] for r in rows if r["last_message_id"]])
        return [self._listed(r, last.get(r["last_message_id"] or 0), user_id) for r in rows]

    @staticmethod
    def _listed(row: dict[str, Any], last: dict[str, Any] | None,
                user_id: int) -> dict[str, Any]:
        view = chat_view(row)
        view["role"] = row["role"]
        view["last_read_seq"] = row["last_read_seq"]
        view["unread_count"] = max(0, row["last_seq"] - row["last_read_seq"])
        if last is not None:
            message = message_view(last)
            if message.get("sender_id") != user_id:
                message.pop("client_id", None)
            view["last_message"] = message
        return view

    async def get(self, user_id: int, chat_id: int) -> dict[str, Any]:
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
        return self._with_role(access)

    @staticmethod
    def _with_role(access: ChatAccess) -> dict[str, Any]:
        view = chat_view(access.chat)
        view["role"] = access.role
        view["last_read_seq"] = access.last_read_seq
        view["unread_count"] = max(0, access.chat["last_seq"] - access.last_read_seq)
        return view

    async def members(self, user_id: int, chat_id: int, *, after: int,
                      limit: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            if access.chat["kind"] == "channel" and not access.is_admin:
                raise Forbidden("only admins see a channel's subscribers", code="not_admin")
            rows = await self._stores.chats.list_members(conn, chat_id, after_user=after,
                                                         limit=limit)
        return rows

    # -- changing -------------------------------------------------------------------------

    async def do_update(self, user_id: int, chat_id: int, body: dict[str, Any]) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if "title" in body:
            changes["title"] = _check_title(body["title"])
        if "description" in body:
            description = body["description"]
            if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
                raise BadRequest("description must be text of at most 1024 characters",
                                 code="invalid_description")
            changes["description"] = description
        if "sign_posts" in body:
            if not isinstance(body["sign_posts"], bool):
                raise BadRequest("sign_posts must be true or false", code="invalid_sign_posts")
            changes["sign_posts"] = body["sign_posts"]
        handle = check_chat_handle(body["handle"]) if "handle" in body else None
        if not changes and "handle" not in body:
            raise BadRequest("nothing to change: send title, description, handle or "
                             "sign_posts", code="nothing_to_change")

        async def update(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats have no title", code="direct_chat")
            await check_right(tx.conn, tx.stores, access, "change_info", user_id)
            if "handle" in body:
                changes.update(await do_set_chat_handle(tx, access.chat, handle))
            await tx.stores.chats.update(tx.conn, chat_id, changes)
            if changes.get("title", access.chat["title"]) != access.chat["title"]:
                await post_system(tx, chat_id, {"action": "chat.title_changed", "by": user_id,
                                                "title": changes["title"]})
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            assert chat is not None  # noqa: S101 - checked by access_chat
            await tx.emit("chat.updated", {"chat": chat_view(chat)}, chat_id=chat_id)
            return self._with_role(ChatAccess(chat, access.role, access.last_read_seq))

        return await self._writer.run(update)

    async def do_pin(self, user_id: int, chat_id: int,
                     message_id: int | None) -> dict[str, Any]:
        """Pin a message at the top of the chat (None unpins). In groups and channels the
        owner and admins with the `pin` right do it; either side in a direct chat."""
        async def pin(tx: Tx) -> dict[str, Any]:
            if message_id is None:
                access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            else:
                access, message = await access_message(tx.conn, tx.stores, user_id, chat_id,
                                                       message_id)
                if message["deleted"] or message["kind"] != "text":
                    raise NotFound("no such message", code="message_not_found")
            if access.chat["kind"] != "direct":
                await check_right(tx.conn, tx.stores, access, "pin", user_id)
            if access.chat.get("pinned_message_id") == message_id:
                return self._with_role(access)
            await tx.stores.chats.update(tx.conn, chat_id, {"pinned_message_id": message_id})
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            assert chat is not None  # noqa: S101 - checked by access_chat
            await tx.emit("chat.updated", {"chat": chat_view(chat)}, chat_id=chat_id)
            return self._with_role(ChatAccess(chat, access.role, access.last_read_seq))

        return await self._writer.run(pin)

    async def do_add_members(self, user_id: int, chat_id: int, ids: Any) -> list[int]:
        user_ids = _check_ids(ids, "user_ids")
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
            await check_can_add(tx, self._hasher, user_id, new)
            if access.chat["member_count"] + len(new) > MAX_GROUP_MEMBERS:
                raise Conflict("the chat would pass 20,000 members", code="too_many_members")
            for member in new:
                await self._join(tx, access.chat, member, by=user_id)
            return new

        return await self._writer.run(add)

    async def _join(self, tx: Tx, chat: dict[str, Any], member: int, *, by: int) -> None:
        kind, chat_id = chat["kind"], chat["id"]
        role = PLAIN_ROLE[kind]
        pos = await tx.reserve(1)
        await tx.stores.chats.add_members(tx.conn, chat_id, {member: role}, now=tx.now,
                                          pos=pos, read_seq=chat["last_seq"])
        fresh = await tx.stores.chats.get(tx.conn, chat_id)
        assert fresh is not None  # noqa: S101 - the chat exists in this transaction
        tx.add(Event(pos=pos, type="member.joined",
                     body={"chat_id": chat_id, "user_id": member, "role": role, "by": by,
                           "chat": chat_view(fresh)},
                     chat_id=chat_id, joined=(member,)))
        # A channel's subscribers come and go quietly; a group shows who joined.
        if kind == "group":
            await post_system(tx, chat_id, {"action": "member.joined", "user_id": member,
                                            "by": by})

    async def _leave(self, tx: Tx, chat: dict[str, Any], member: int, *, by: int) -> None:
        chat_id = chat["id"]
        if chat["kind"] == "group":
            await post_system(tx, chat_id, {"action": "member.left", "user_id": member,
                                            "by": by})
        pos = await tx.reserve(1)
        await tx.stores.chats.remove_member(tx.conn, chat_id, member, pos=pos)
        tx.add(Event(pos=pos, type="member.left",
                     body={"chat_id": chat_id, "user_id": member, "by": by},
                     chat_id=chat_id, left=(member,)))

    async def do_remove_member(self, user_id: int, chat_id: int, member: int) -> None:
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
            if target["role"] == "owner" or (target["role"] == "admin"
                                             and access.role != "owner"):
                raise Forbidden("only the owner removes admins; nobody removes the owner",
                                code="cannot_remove")
            await self._leave(tx, access.chat, member, by=user_id)
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
        async def leave(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            await self._check_and_leave(tx, access, user_id)

        await self._writer.run(leave)

    async def do_join(self, user_id: int, chat_id: int) -> dict[str, Any]:
        async def join(tx: Tx) -> dict[str, Any]:
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            if (chat is None or not chat["is_public"] or chat["kind"] == "direct"
                    or chat["closed"]):
                raise NotFound("no such chat", code="chat_not_found")
            return await self.admit(tx, chat, user_id)

        return await self._writer.run(join)

    async def admit(self, tx: Tx, chat: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Let `user_id` into a group or channel (a public join or an invite link)."""
        if await tx.stores.chats.member(tx.conn, chat["id"], user_id) is None:
            if chat["member_count"] >= MAX_GROUP_MEMBERS and chat["kind"] == "group":
                raise Conflict("this group is full", code="too_many_members")
            await self._join(tx, chat, user_id, by=user_id)
        return self._with_role(await access_chat(tx.conn, tx.stores, user_id, chat["id"]))

    async def do_set_role(self, user_id: int, chat_id: int, member: int, role: Any) -> None:
        async def set_role(tx: Tx) -> None:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            kind = access.chat["kind"]
            if role not in ("admin", PLAIN_ROLE[kind]) or kind == "direct":
                raise BadRequest(f"role must be admin or {PLAIN_ROLE[kind]}", code="invalid_role")
            # Admins with the add_admins right promote; only the owner demotes an admin.
            if access.role != "owner" and role != "admin":
                raise Forbidden("only the owner changes roles", code="not_owner")
            await check_right(tx.conn, tx.stores, access, "add_admins", user_id)
            target = await tx.stores.chats.member(tx.conn, chat_id, member)
            if target is None:
                raise NotFound("not a member of this chat", code="member_not_found")
            if target["role"] == "owner":
                raise Forbidden("the owner's role does not change", code="cannot_change_owner")
            if target["role"] == role:
                return
            if role == "admin" and await tx.stores.chats.count_role(
                    tx.conn, chat_id, "admin") >= MAX_ADMINS:
                raise Conflict(f"a chat has at most {MAX_ADMINS} admins", code="too_many_admins")
            await tx.stores.chats.set_role(tx.conn, chat_id, member, role)
            await tx.stores.rights.drop(tx.conn, chat_id, member)
            await tx.emit("member.updated", {"chat_id": chat_id, "user_id": member,
                                             "role": role, "by": user_id}, chat_id=chat_id)

        await self._writer.run(set_role)
