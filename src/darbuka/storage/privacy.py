"""Privacy settings and blocks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select, update

from darbuka.storage.db import Conn, in_chunks
from darbuka.storage.tables.people import blocks, privacy

__all__ = ["PrivacyStore"]

Row = dict[str, Any]


class PrivacyStore:
    async def settings(self, conn: Conn, user_ids: Iterable[int]) -> dict[int, Row]:
        """Stored settings of those users who changed any; others have the defaults."""
        wanted = list(set(user_ids))
        found: dict[int, Row] = {}
        for part in in_chunks(wanted):
            query = select(privacy).where(privacy.c.user_id.in_(part))
            found |= {int(r["user_id"]): dict(r) for r in (await conn.execute(query)).mappings()}
        return found

    async def put(self, conn: Conn, user_id: int, values: Row) -> None:
        result = await conn.execute(update(privacy).where(privacy.c.user_id == user_id)
                                    .values(**values))
        if not result.rowcount:
            await conn.execute(insert(privacy).values(user_id=user_id, **values))

    async def block(self, conn: Conn, user_id: int, blocked_id: int,
                    now: int) -> bool:
        if await self.blocked_pairs(conn, [(user_id, blocked_id)]):
            return False
        await conn.execute(insert(blocks).values(user_id=user_id, blocked_id=blocked_id,
                                                 created_at=now))
        return True

    async def unblock(self, conn: Conn, user_id: int, blocked_id: int) -> bool:
        result = await conn.execute(delete(blocks).where(blocks.c.user_id == user_id,
                                                         blocks.c.blocked_id == blocked_id))
        return bool(result.rowcount)

    async def blocked_pairs(self, conn: Conn,
                            pairs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        """Which (blocker, blocked) pairs are blocks."""
        pairs = list(set(pairs))
        if not pairs:
            return set()
        blockers = {a for a, _ in pairs}
        query = select(blocks.c.user_id, blocks.c.blocked_id).where(
            blocks.c.user_id.in_(blockers), blocks.c.blocked_id.in_({b for _, b in pairs}))
        wanted = set(pairs)
        return {(int(a), int(b)) for a, b in (await conn.execute(query)).all()
                if (a, b) in wanted}

    async def blocked_by(self, conn: Conn, user_id: int) -> list[Row]:
        query = (select(blocks.c.blocked_id, blocks.c.created_at)
                 .where(blocks.c.user_id == user_id).order_by(blocks.c.created_at))
        return [dict(r) for r in (await conn.execute(query)).mappings()]
