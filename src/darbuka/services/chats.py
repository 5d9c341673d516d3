"""Chats: creating direct chats, groups and channels; the chat list; titles, handles, pins.
Who is in a chat and what they may do there is `members.py`."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from darbuka.clock import Clock
from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.services.access import PLAIN_ROLE, ChatAccess, access_chat, access_message, message_for
from darbuka.services.adminlog import do_log
from darbuka.services.antispam import NewAccountLimits
from darbuka.services.drafts import draft_view
from darbuka.services.handles import check_chat_handle, do_set_chat_handle
from darbuka.services.members import MAX_GROUP_MEMBERS, check_user_ids, member_chat_view
from darbuka.services.mutes import mute_view
from darbuka.services.privacy import PhoneHasher, check_can_add, check_direct_allowed
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.rights import RIGHTS, check_right, rights_of
from darbuka.services.sending import post_system
from darbuka.services.text import check_no_nul, clean_name
from darbuka.services.views import chat_view, message_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores
from darbuka.storage.rows import ChatFields, MessageRow, UserChatRow
from darbuka.stream import Event

__all__ = ["ChatService"]

MAX_TITLE = 128
MAX_DESCRIPTION = 1024
MAX_SLOW_MODE_S = 3600
# The settings an admin changes beside the title, each with its own admin log action.
_OWN_ACTIONS = {"slow_mode_s": "slow_mode.changed", "join_approval": "join_approval.changed"}


def _check_title(title: Any) -> str:
    name = clean_name(title) if isinstance(title, str) else ""
    if not name or len(name) > MAX_TITLE:
        raise BadRequest(f"title must be 1 to {MAX_TITLE} characters", code="invalid_title")
    return name


def _check_description(description: Any) -> str:
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise BadRequest("description must be text of at most 1024 characters",
                         code="invalid_description")
    check_no_nul(description, "description")
    return description


def _check_flag(body: dict[str, Any], name: str) -> bool:
    if not isinstance(body[name], bool):
        raise BadRequest(f"{name} must be true or false", code=f"invalid_{name}")
    return bool(body[name])


def _check_slow_mode(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) \
            or not 0 <= value <= MAX_SLOW_MODE_S:
        raise BadRequest(f"slow_mode_s must be 0 (off) to {MAX_SLOW_MODE_S} seconds",
                         code="invalid_slow_mode_s")
    return value


async def _log_changes(tx: Tx, access: ChatAccess, user_id: int, changes: ChatFields) -> None:
    """One admin log entry per setting that changed (slow mode, join approval) and one for
    the rest together (title, description, handle, signed posts)."""
    chat = access.chat
    changed: dict[str, Any] = {k: v for k, v in changes.items() if chat.get(k) != v}
    for key, action in _OWN_ACTIONS.items():
        if key in changed:
            await do_log(tx, chat["id"], user_id, action, value=changed.pop(key))
    if changed:
        await do_log(tx, chat["id"], user_id, "chat.edited", **changed)


class ChatService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 hasher: Callable[[str], bytes] | None = None, *, writes: WriteLimits,
                 new_accounts: NewAccountLimits) -> None:
        self._writes = writes
        self._clock = clock
        self._new_accounts = new_accounts
        self._db = db
        self._stores = stores
        self._writer = writer
        # Keyed phone hashes, for "only my contacts may add me" (privacy).
        self._hasher = hasher or PhoneHasher(secrets.token_bytes(32))

    # -- creating -------------------------------------------------------------------------

    async def do_create(self, user_id: int, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create a chat; returns (chat, created). A direct chat that exists is returned."""
        await self._writes.check("chats", user_id)
        kind = body.get("kind")
        if kind == "direct":
            other = body.get("user_id")
            if not isinstance(other, int) or isinstance(other, bool) or other <= 0:
                raise BadRequest("user_id must be a user id", code="invalid_user_id")
            return await self._writer.run(lambda tx: self._create_direct(tx, user_id, other))
        if kind in ("group", "channel"):
            title = _check_title(body.get("title"))
            description = _check_description(body.get("description", ""))
            member_ids = check_user_ids(body.get("member_ids", []), "member_ids")
            if len(member_ids) >= MAX_GROUP_MEMBERS:
                raise BadRequest("too many members", code="too_many_members")
            public = body.get("public", False)
            if not isinstance(public, bool):
                raise BadRequest("public must be true or false", code="invalid_public")
            # A handle at creation: public at once, with its /c/<handle> page.
            handle = check_chat_handle(body.get("handle"))

            async def create(tx: Tx) -> tuple[dict[str, Any], bool]:
                chat = await self._create_shared(tx, user_id, kind, title, description,
                                                 member_ids, public, handle)
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
        await self._new_accounts.check_create(tx, user_id, direct=True)
        chat_id = await tx.stores.chats.create(tx.conn, kind="direct", title="", owner_id=None,
                                               now=tx.now, direct_key=key, created_by=user_id)
        return await self._open(tx, chat_id, roles), True

    async def _create_shared(self, tx: Tx, user_id: int, kind: str, title: str,
                             description: str, member_ids: list[int], public: bool,
                             handle: tuple[str, str] | None) -> dict[str, Any]:
        others = [m for m in member_ids if m != user_id]
        found = await tx.stores.users.existing_ids(tx.conn, others)
        if missing := [m for m in others if m not in found]:
            raise NotFound(f"no such users: {missing[:10]}", code="user_not_found")
        await check_can_add(tx, self._hasher, user_id, others)
        await self._new_accounts.check_create(tx, user_id, direct=False)
        chat_id = await tx.stores.chats.create(tx.conn, kind=kind, title=title, owner_id=user_id,
                                               now=tx.now, is_public=public,
                                               description=description, created_by=user_id)
        if handle is not None:  # before the chat is announced, so chat.created has it
            row = await tx.stores.chats.get(tx.conn, chat_id)
            assert row is not None  # noqa: S101 - created in this transaction
            await tx.stores.chats.update(tx.conn, chat_id,
                                         await do_set_chat_handle(tx, row, handle))
        roles = {user_id: "owner"} | dict.fromkeys(others, PLAIN_ROLE[kind])
        chat = await self._open(tx, chat_id, roles)
        await post_system(tx, chat_id, {"action": "chat.created", "by": user_id, "title": title})
        return chat

    async def do_open_imported(self, tx: Tx, owner_id: int, kind: str, title: str,
                               roles: dict[int, str]) -> int:
        """A group or channel an operator's import makes (`services/imports.py`), with every
        author a member at once: no "joined" note for each, and none of the limits of a
        person creating chats."""
        name = clean_name(title)[:MAX_TITLE] or "Imported chat"
        chat_id = await tx.stores.chats.create(tx.conn, kind=kind, title=name,
                                               owner_id=owner_id, now=tx.now,
                                               created_by=owner_id)
        await self._open(tx, chat_id, {owner_id: "owner"} | roles)
        return chat_id

    async def _open(self, tx: Tx, chat_id: int, roles: dict[int, str]) -> dict[str, Any]:
        pos = await tx.reserve_one()
        await tx.stores.chats.add_members(tx.conn, chat_id, roles, now=tx.now, pos=pos,
                                          read_seq=0)
        chat = await tx.stores.chats.get(tx.conn, chat_id)
        assert chat is not None  # noqa: S101 - created in this transaction
        tx.add(Event(pos=pos, type="chat.created", body={"chat": chat_view(chat)},
                     chat_id=chat_id, joined=tuple(roles)))
        return chat_view(chat)

    # -- reading --------------------------------------------------------------------------

    async def list_for(self, user_id: int) -> list[dict[str, Any]]:
        """The chat list, with the caller's own mute and draft of each chat (every device
        shows them; later changes come as `mute.updated` and `draft.updated`)."""
        async with self._db.read() as conn:
            rows = await self._stores.chats.user_chats(conn, user_id)
            last = await self._stores.messages.by_ids(
                conn, [r["last_message_id"] for r in rows if r["last_message_id"]])
        now = self._clock.now_ms()
        return [self._listed(r, last.get(r["last_message_id"] or 0), user_id, now)
                for r in rows]

    @staticmethod
    def _listed(row: UserChatRow, last: MessageRow | None, user_id: int,
                now: int) -> dict[str, Any]:
        view = member_chat_view(row, row["role"], row["last_read_seq"])
        if last is not None:
            view["last_message"] = message_for(message_view(last), user_id)
        if mute := mute_view(row["muted_until"], row["mute_mentions"], now):
            view["mute"] = mute
        if draft := draft_view(row["draft"], row["draft_at"]):
            view["draft"] = draft
        return view

    async def get(self, user_id: int, chat_id: int) -> dict[str, Any]:
        """The chat with the caller's role; owners and admins also get their `rights`."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            view = self._with_role(access)
            if access.is_admin and access.chat["kind"] != "direct":
                held = await rights_of(conn, self._stores, access, user_id)
                view["rights"] = sorted(held, key=RIGHTS.index)
        return view

    @staticmethod
    def _with_role(access: ChatAccess) -> dict[str, Any]:
        return member_chat_view(access.chat, access.role, access.last_read_seq)

    # -- changing -------------------------------------------------------------------------

    async def do_update(self, user_id: int, chat_id: int, body: dict[str, Any]) -> dict[str, Any]:
        await self._writes.check("other", user_id)
        changes: ChatFields = {}
        if "title" in body:
            changes["title"] = _check_title(body["title"])
        if "description" in body:
            changes["description"] = _check_description(body["description"])
        if "sign_posts" in body:
            changes["sign_posts"] = _check_flag(body, "sign_posts")
        if "join_approval" in body:
            changes["join_approval"] = _check_flag(body, "join_approval")
        if "slow_mode_s" in body:
            changes["slow_mode_s"] = _check_slow_mode(body["slow_mode_s"])
        handle = check_chat_handle(body["handle"]) if "handle" in body else None
        if not changes and "handle" not in body:
            raise BadRequest("nothing to change: send title, description, handle, "
                             "sign_posts, slow_mode_s or join_approval",
                             code="nothing_to_change")

        async def update(tx: Tx) -> dict[str, Any]:
            access = await access_chat(tx.conn, tx.stores, user_id, chat_id)
            if access.chat["kind"] == "direct":
                raise Forbidden("direct chats have no title", code="direct_chat")
            await check_right(tx.conn, tx.stores, access, "change_info", user_id)
            if "handle" in body:
                changes.update(await do_set_chat_handle(tx, access.chat, handle))
            await tx.stores.chats.update(tx.conn, chat_id, changes)
            await _log_changes(tx, access, user_id, changes)
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
        await self._writes.check("other", user_id)
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
            if access.chat["kind"] != "direct":
                await do_log(tx, chat_id, user_id, "message.pinned", target_id=message_id)
            chat = await tx.stores.chats.get(tx.conn, chat_id)
            assert chat is not None  # noqa: S101 - checked by access_chat
            await tx.emit("chat.updated", {"chat": chat_view(chat)}, chat_id=chat_id)
            return self._with_role(ChatAccess(chat, access.role, access.last_read_seq))

        return await self._writer.run(pin)
