"""Admin rights, as TamTam had them: an admin may hold any of these; the owner holds all.

An admin with no stored rights row has every right but `add_admins` (how admins worked
before rights existed: only the owner made admins). `read_all` and `pin` are kept for the
bot API and pinning: a bot admin without `read_all` is meant to see only messages that
mention it or start with a command.
"""

from __future__ import annotations

from collections.abc import Iterable

from darbuka.errors import Forbidden
from darbuka.services.access import ChatAccess, access_chat, post_refusal
from darbuka.storage import Conn, Stores
from darbuka.storage.rows import MemberRow

__all__ = ["DEFAULT_ADMIN_RIGHTS", "RIGHTS", "check_grantable", "check_over", "check_right",
           "lacking_write", "rights_of"]

RIGHTS = ("read_all", "add_members", "remove_members", "add_admins", "change_info", "pin",
          "write")
DEFAULT_ADMIN_RIGHTS = frozenset(RIGHTS) - {"add_admins"}


async def rights_of(conn: Conn, stores: Stores, access: ChatAccess,
                    user_id: int) -> frozenset[str]:
    if access.role == "owner":
        return frozenset(RIGHTS)
    if access.role != "admin":
        return frozenset()
    stored = await stores.rights.get(conn, [(access.chat["id"], user_id)])
    value = stored.get((access.chat["id"], user_id))
    return DEFAULT_ADMIN_RIGHTS if value is None else frozenset(value)


async def check_may_post(conn: Conn, stores: Stores, user_id: int,
                         chat_id: int) -> ChatAccess:
    """The caller's access if they may post in the chat now; the refusal a send would get
    (404 for outsiders, 403 for subscribers, closed chats, blocks) otherwise."""
    access = await access_chat(conn, stores, user_id, chat_id)
    channel_admin = access.role == "admin" and access.chat["kind"] == "channel"
    has_write = not channel_admin or "write" in await rights_of(conn, stores, access, user_id)
    refusal = post_refusal(access.role, access.chat["kind"], access.closed, has_write=has_write)
    if refusal is not None:
        raise refusal
    return access


async def check_right(conn: Conn, stores: Stores, access: ChatAccess,
                      right: str, user_id: int) -> None:
    """Raise Forbidden unless the caller (`user_id`, who has `access`) holds `right`."""
    if access.role == "owner":
        return
    if access.role != "admin":
        raise Forbidden("only the chat's owner and admins may do this", code="not_admin")
    if right not in await rights_of(conn, stores, access, user_id):
        raise Forbidden(f"you lack the admin right {right}", code="missing_right")


def check_over(access: ChatAccess, user_id: int, target: MemberRow) -> None:
    """Raise Forbidden unless the caller may remove, demote or change the rights of the
    member `target`: nobody acts on the owner or on themselves; the owner acts on everyone
    else; an admin on plain members and on the admins they appointed themselves.

    Which admin right the action needs (`remove_members`, `add_admins`) is checked apart,
    with `check_right`."""
    if target["role"] == "owner":
        raise Forbidden("nobody changes or removes the owner", code="cannot_change_owner")
    if target["user_id"] == user_id:
        raise Forbidden("you do not change your own role or rights", code="cannot_change_self")
    if target["role"] == "admin" and access.role != "owner" \
            and target["promoted_by"] != user_id:
        raise Forbidden("only the owner and the admin who appointed an admin change them",
                        code="not_your_admin")


def check_grantable(held: frozenset[str], before: Iterable[str], after: Iterable[str]) -> None:
    """Nobody grants a right they lack: what `after` adds to `before` must be in `held`
    (taking a right away, or leaving one an admin has, is not granting it)."""
    if missing := (set(after) - set(before)) - held:
        names = ", ".join(sorted(missing, key=RIGHTS.index))
        raise Forbidden(f"you cannot grant rights you lack: {names}", code="missing_right")


async def lacking_write(conn: Conn, stores: Stores,
                        pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    """Of (channel, admin) pairs, those whose rights leave out `write`."""
    stored = await stores.rights.get(conn, pairs)
    return {pair for pair, held in stored.items() if "write" not in held}
