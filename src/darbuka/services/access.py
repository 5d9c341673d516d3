"""The one door: every read or change of a chat or message loads it through here.

A chat the user is not a member of does not exist for them (404), so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.errors import Forbidden, NotFound
from darbuka.storage import Stores

__all__ = ["ADMIN_ROLES", "ChatAccess", "access_chat", "access_message", "check_admin",
           "is_quiet_pair"]

ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class ChatAccess:
    chat: dict[str, Any]
    role: str
    last_read_seq: int
    # Never behind last_read_seq (read implies delivered; own sends move only the read mark).
    last_delivered_seq: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def can_post(self) -> bool:
        return self.chat["kind"] != "channel" or self.is_admin


async def access_chat(conn: AsyncConnection, stores: Stores, user_id: int,
                      chat_id: int) -> ChatAccess:
    member = await stores.chats.member(conn, chat_id, user_id)
    if member is None:
        raise NotFound("no such chat", code="chat_not_found")
    chat = await stores.chats.get(conn, chat_id)
    if chat is None:
        raise NotFound("no such chat", code="chat_not_found")
    return ChatAccess(chat=chat, role=member["role"], last_read_seq=member["last_read_seq"],
                      last_delivered_seq=max(member["last_delivered_seq"],
                                             member["last_read_seq"]))


async def access_message(conn: AsyncConnection, stores: Stores, user_id: int, chat_id: int,
                         message_id: int) -> tuple[ChatAccess, dict[str, Any]]:
    access = await access_chat(conn, stores, user_id, chat_id)
    message = await stores.messages.get(conn, message_id)
    if message is None or message["chat_id"] != chat_id:
        raise NotFound("no such message", code="message_not_found")
    return access, message


async def is_quiet_pair(conn: AsyncConnection, stores: Stores, access: ChatAccess) -> bool:
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


def check_admin(access: ChatAccess) -> None:
    if not access.is_admin:
        raise Forbidden("only the chat's owner and admins may do this", code="not_admin")
