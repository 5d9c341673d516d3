"""The admin log: every admin action in a group or channel, for its owner and admins.

Each action writes its entry with `do_log` inside its own transaction, so the log never
shows an action that did not happen nor misses one that did. Only the chat's owner and
admins read it (`AdminLogService.entries`); members never learn of it.
"""

from __future__ import annotations

from typing import Any

from darbuka.services.access import access_chat, check_admin
from darbuka.services.writer import Tx
from darbuka.storage import Database, Stores

__all__ = ["ADMIN_ACTIONS", "AdminLogService", "do_log"]

# Every action the log records; docs/moderation.md lists them with what `details` holds.
ADMIN_ACTIONS = (
    "member.added", "member.removed", "member.banned", "member.unbanned", "role.changed",
    "rights.changed", "chat.edited", "slow_mode.changed", "join_approval.changed",
    "chat.photo", "message.pinned", "message.deleted",
    "invite.created", "invite.revoked", "join.approved", "join.declined", "report.escalated",
)


async def do_log(tx: Tx, chat_id: int, actor_id: int, action: str, *,
                 target_id: int | None = None, **details: Any) -> None:
    """Record one admin action; call it in the action's transaction."""
    assert action in ADMIN_ACTIONS  # noqa: S101 - a programming error, caught by tests
    await tx.stores.admin_log.add(tx.conn, chat_id=chat_id, actor_id=actor_id, action=action,
                                  target_id=target_id, details=details, now=tx.now)


class AdminLogService:
    def __init__(self, db: Database, stores: Stores) -> None:
        self._db = db
        self._stores = stores

    async def entries(self, user_id: int, chat_id: int, *, before: int | None,
                      limit: int) -> list[dict[str, Any]]:
        """Newest first; page with `before` = the last entry id you got."""
        async with self._db.read() as conn:
            access = await access_chat(conn, self._stores, user_id, chat_id)
            check_admin(access)
            return await self._stores.admin_log.for_chat(conn, chat_id, before=before,
                                                         limit=limit)
