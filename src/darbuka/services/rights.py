"""Admin rights, as TamTam had them: an admin may hold any of these; the owner holds all.

An admin with no stored rights row has every right but `add_admins` (how admins worked
before rights existed: only the owner made admins). `read_all` and `pin` are kept for the
bot API and pinning: a bot admin without `read_all` is meant to see only messages that
mention it or start with a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.errors import BadRequest, Forbidden, NotFound
from darbuka.services.access import ChatAccess, access_chat
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Stores

__all__ = ["DEFAULT_ADMIN_RIGHTS", "RIGHTS", "check_right", "do_set_rights", "lacking_write",
           "rights_of"]

RIGHTS = ("read_all", "add_members", "remove_members", "add_admins", "change_info", "pin",
          "write")
DEFAULT_ADMIN_RIGHTS = frozenset(RIGHTS) - {"add_admins"}


async def rights_of(conn: AsyncConnection, stores: Stores, access: ChatAccess,
                    user_id: int) -> frozenset[str]:
    if access.role == "owner":
        return frozenset(RIGHTS)
    if access.role != "admin":
        return frozenset()
    stored = await stores.rights.get(conn, [(access.chat["id"], user_id)])
    value = stored.get((access.chat["id"], user_id))
    return DEFAULT_ADMIN_RIGHTS if value is None else frozenset(value)


async def check_right(conn: AsyncConnection, stores: Stores, access: ChatAccess,
                      right: str, user_id: int) -> None:
    """Raise Forbidden unless the caller (`user_id`, who has `access`) holds `right`."""
    if access.role == "owner":
        return
    if access.role != "admin":
        raise Forbidden("only the chat's owner and admins may do this", code="not_admin")
    if right not in await rights_of(conn, stores, access, user_id):
        raise Forbidden(f"you lack the admin right {right}", code="missing_right")


async def lacking_write(conn: AsyncConnection, stores: Stores,
                        pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of (channel, admin) pairs, those whose rights leave out `write`."""
    stored = await stores.rights.get(conn, pairs)
    return {pair for pair, held in stored.items() if "write" not in held}


async def do_set_rights(writer: Writer, user_id: int, chat_id: int, member: int,
                        rights: Any) -> list[str]:
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
        await tx.stores.rights.put(tx.conn, chat_id, member, wanted)
        await tx.emit("member.updated", {"chat_id": chat_id, "user_id": member,
                                         "role": "admin", "rights": wanted, "by": user_id},
                      chat_id=chat_id)
        return wanted

    return await writer.run(put)
