"""The one door: every read or change of a chat or message loads it through here.

A chat the user is not a member of does not exist for them (404), so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.errors import Forbidden, NotFound
from darbuka.storage import Stores

__all__ = ["ADMIN_ROLES", "ChatAccess", "access_chat", "access_message", "check_admin"]

ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class ChatAccess:
    chat: dict[str, Any]
    role: str
    last_read_seq: int

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
    return ChatAccess(chat=chat, role=member["role"], last_read_seq=member["last_read_seq"])


async def access_message(conn: AsyncConnection, stores: Stores, user_id: int, chat_id: int,
                         message_id: int) -> tuple[ChatAccess, dict[str, Any]]:
    access = await access_chat(conn, stores, user_id, chat_id)
    message = await stores.messages.get(conn, message_id)
    if message is None or message["chat_id"] != chat_id:
        raise NotFound("no such message", code="message_not_found")
    return access, message


def check_admin(access: ChatAccess) -> None:
    if not access.is_admin:
        raise Forbidden("only the chat's owner and admins may do this", code="not_admin")
