"""The one door: every read or change of a chat or message loads it through here, and every
rule about who sees or may do what in a chat is written here once.

- A chat the user is not a member of does not exist for them (404), so ids cannot be probed
  — unless it is public (`is_public_chat`), which non-members may see and join.
- A chat closed by moderation is a state of the chat (`closed`), not a kind: it keeps its
  kind and members, nobody posts in it, and it is no longer public or joinable.
- Who sees who else is in a chat: in a channel only its owner and admins (`sees_members`,
  `member_audience`).
- Who may come in: not someone the chat banned (`check_not_banned`); and who may post how
  often: slow mode holds a member who is not an admin to one message per N seconds
  (`slow_mode_wait`).
- Who may post (`post_refusal`), and how a viewer sees a message: its `client_id` (the
  sender's own idempotency key) only to its sender (`message_for`, `event_frame`,
  `stored_event_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from darbuka.errors import ApiError, Forbidden, NotFound, RateLimited
from darbuka.storage import Conn, Stores
from darbuka.storage.rows import ChatRow, MessageRow
from darbuka.stream import Event, encode_cursor

__all__ = ["ADMIN_ROLES", "PLAIN_ROLE", "ChatAccess", "access_chat", "access_message",
           "access_visible_chat", "check_admin", "check_can_interact", "check_joinable",
           "check_not_banned", "event_frame", "is_public_chat", "is_quiet_pair",
           "member_audience", "message_for", "post_refusal", "sees_members",
           "slow_mode_refusal", "stored_event_for"]

ADMIN_ROLES = frozenset({"owner", "admin"})
# The role a plain member has, by chat kind. In a direct chat a member the other side
# blocked has the role "blocked": still a member (history stays), but refused as a sender.
PLAIN_ROLE = {"direct": "member", "group": "member", "channel": "subscriber"}


@dataclass(frozen=True, slots=True)
class ChatAccess:
    chat: ChatRow
    role: str
    last_read_seq: int
    # Never behind last_read_seq (read implies delivered; own sends move only the read mark).
    last_delivered_seq: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def closed(self) -> bool:
        return bool(self.chat["closed"])


async def access_chat(conn: Conn, stores: Stores, user_id: int,
                      chat_id: int) -> ChatAccess:
    """The chat as its member `user_id` sees it; 404 for everyone else."""
    member = await stores.chats.member(conn, chat_id, user_id)
    if member is None:
        raise NotFound("no such chat", code="chat_not_found")
    chat = await stores.chats.get(conn, chat_id)
    if chat is None:
        raise NotFound("no such chat", code="chat_not_found")
    return ChatAccess(chat=chat, role=member["role"], last_read_seq=member["last_read_seq"],
                      last_delivered_seq=max(member["last_delivered_seq"],
                                             member["last_read_seq"]))


async def access_message(conn: Conn, stores: Stores, user_id: int, chat_id: int,
                         message_id: int) -> tuple[ChatAccess, MessageRow]:
    access = await access_chat(conn, stores, user_id, chat_id)
    message = await stores.messages.get(conn, message_id)
    if message is None or message["chat_id"] != chat_id:
        raise NotFound("no such message", code="message_not_found")
    return access, message


# -- public chats -------------------------------------------------------------------------

def is_public_chat(chat: Mapping[str, Any]) -> bool:
    """Whether non-members may see the chat (its preview, its page, its handle in search)
    and join it: a public group or channel that moderation has not closed."""
    return bool(chat["is_public"]) and chat["kind"] != "direct" and not chat["closed"]


def check_joinable(chat: Mapping[str, Any] | None, *, invited: bool = False) -> None:
    """Raise NotFound unless `chat` takes new members: a public one, or with an invite link
    any group or channel that moderation has not closed."""
    if chat is None or chat["kind"] == "direct" or chat["closed"]:
        raise NotFound("no such chat", code="chat_not_found")
    if not invited and not is_public_chat(chat):
        raise NotFound("no such chat", code="chat_not_found")


async def check_not_banned(conn: Conn, stores: Stores, chat_id: int, user_id: int) -> None:
    """Raise Forbidden if the chat banned `user_id`: no way back in — not by handle, not by
    an invite link, not by an admin adding them — until an admin lifts the ban."""
    if await stores.bans.is_banned(conn, chat_id, user_id):
        raise Forbidden("you are banned from this chat", code="banned")


async def access_visible_chat(conn: Conn, stores: Stores, user_id: int,
                              chat_id: int) -> ChatRow:
    """A chat the user is a member of, or a public one; 404 otherwise."""
    chat = await stores.chats.get(conn, chat_id)
    if chat is not None and is_public_chat(chat):
        return chat
    return (await access_chat(conn, stores, user_id, chat_id)).chat


# -- who may do what ----------------------------------------------------------------------

def post_refusal(role: str, kind: str, closed: bool, *, has_write: bool = True,
                 ) -> ApiError | None:
    """Why a member with `role` may not post in a chat of `kind` (None: they may).

    `has_write` is whether a channel admin holds the `write` right (see rights.py)."""
    if closed:
        return Forbidden("this chat was closed by moderation", code="chat_closed")
    if kind == "channel" and (role not in ADMIN_ROLES or not has_write):
        return Forbidden("only the channel's admins post in it", code="cannot_post")
    if role == "blocked":  # the other side of this direct chat blocked the sender
        return Forbidden("this user does not take messages from you", code="cannot_message")
    return None


def slow_mode_refusal(role: str, slow_mode_s: int, last_post_at: int | None,
                      now: int) -> ApiError | None:
    """Why a send must wait in a chat with slow mode (None: it may go now). The owner and
    admins are not held; everyone else posts at most once per `slow_mode_s` seconds."""
    if not slow_mode_s or role in ADMIN_ROLES or last_post_at is None:
        return None
    wait_ms = last_post_at + slow_mode_s * 1000 - now
    if wait_ms <= 0:
        return None
    wait_s = -(-wait_ms // 1000)
    error = RateLimited(f"slow mode: one message every {slow_mode_s} s; try again in "
                        f"{wait_s} s", retry_after=wait_s)
    error.code = "slow_mode"
    return error


def check_can_interact(access: ChatAccess) -> None:
    """Reactions and button presses are refused where a send would be for any member: in a
    chat closed by moderation, and from someone the other side of a direct chat blocked.
    (Subscribers react in channels; typing follows `post_refusal`, as a send.)"""
    if access.closed:
        raise Forbidden("this chat was closed by moderation", code="chat_closed")
    if access.role == "blocked":
        raise Forbidden("this user does not take messages from you", code="cannot_message")


def sees_members(access: ChatAccess) -> bool:
    """Whether the viewer sees who else is in the chat: everyone in direct chats and groups;
    in a channel only its owner and admins. Subscribers do not learn who else subscribes:
    not from the member list, nor from who joined, left or changed role, nor who reacted."""
    return access.chat["kind"] != "channel" or access.is_admin


async def member_audience(conn: Conn, stores: Stores, chat: ChatRow,
                          member: int) -> list[int] | None:
    """Who hears that `member` joined, left, changed role or reacted: None for everyone in
    the chat (direct chats and groups); in a channel the member and the channel's owner and
    admins, each on their own devices (events scoped to one user: catch-up agrees)."""
    if chat["kind"] != "channel":
        return None
    return sorted({member, *await stores.chats.admin_ids(conn, chat["id"])})


def check_admin(access: ChatAccess) -> None:
    if not access.is_admin:
        raise Forbidden("only the chat's owner and admins may do this", code="not_admin")


async def is_quiet_pair(conn: Conn, stores: Stores, access: ChatAccess) -> bool:
    """Whether one side of this direct chat blocked the other: then typing notices and
    read and delivered marks stay with the side that made them.

    Checked where such a notice starts (here, from a loaded `access`) rather than in the
    hub: the hub routes by chat id alone and would need every block in every process's
    memory, while at the source it costs one small read, and only in direct chats (two
    member rows). Marks are stored events, so keeping them from the chat also keeps them
    out of the other side's catch-up.
    """
    if access.chat["kind"] != "direct":
        return False
    return access.role == "blocked" or await stores.chats.has_blocked_member(
        conn, access.chat["id"])


# -- how a viewer sees a message ----------------------------------------------------------

def _sent_by(message: Any, viewer_id: int | None) -> bool:
    return isinstance(message, dict) and viewer_id is not None \
        and message.get("sender_id") == viewer_id


def message_for(view: dict[str, Any], viewer_id: int | None) -> dict[str, Any]:
    """A message view as `viewer_id` sees it (None: an anonymous reader of a public page):
    the `client_id` stays only for its sender. Changes `view` in place and returns it."""
    if not _sent_by(view, viewer_id):
        view.pop("client_id", None)
    return view


def _without_client_id(body: dict[str, Any]) -> dict[str, Any]:
    message = body.get("message")
    if not isinstance(message, dict) or "client_id" not in message:
        return body
    return {**body, "message": {k: v for k, v in message.items() if k != "client_id"}}


def event_frame(event: Event, viewer_id: int) -> bytes:
    """The wire form of a live event for `viewer_id`, encoded once per kind of viewer."""
    if _sent_by(event.body.get("message"), viewer_id):
        return event.frame("own", lambda: event.body)
    return event.frame("all", lambda: _without_client_id(event.body))


def stored_event_for(pos: int, payload: bytes, viewer_id: int) -> dict[str, Any]:
    """A stored event as `viewer_id` sees it, with its cursor (catch-up and long polls)."""
    data: dict[str, Any] = orjson.loads(payload)
    message = data.get("message")
    if isinstance(message, dict):
        message_for(message, viewer_id)
    return {"type": data.pop("type"), "cursor": encode_cursor(pos), **data}
