"""Uploaded contacts (as keyed hashes), blocks and privacy settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.storage.schema import blocks, contacts, privacy, users

__all__ = ["ContactStore", "PrivacyStore"]

Row = dict[str, Any]
# Keeps every IN (...) list well under SQLite's and asyncpg's parameter limits.
CHUNK = 500


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class ContactStore:
    async def known(self, conn: AsyncConnection, owner_id: int,
                    hashes: list[bytes]) -> set[bytes]:
        """Which of `hashes` the owner uploaded before."""
        found: set[bytes] = set()
        for part in _chunks(hashes):
            query = select(contacts.c.phone_hash).where(contacts.c.owner_id == owner_id,
                                                        contacts.c.phone_hash.in_(part))
            found |= {bytes(h) for h in (await conn.execute(query)).scalars()}
        return found

    async def count(self, conn: AsyncConnection, owner_id: int, *, since: int = 0) -> int:
        query = select(func.count()).where(contacts.c.owner_id == owner_id,
                                           contacts.c.created_at >= since)
        return int((await conn.execute(query)).scalar_one())

    async def add(self, conn: AsyncConnection, owner_id: int, hashes: list[bytes],
                  now: int) -> None:
        for part in _chunks(hashes):
            await conn.execute(insert(contacts), [
                {"owner_id": owner_id, "phone_hash": h, "created_at": now} for h in part])

    async def owners_of(self, conn: AsyncConnection, phone_hash: bytes) -> list[int]:
        query = select(contacts.c.owner_id).where(contacts.c.phone_hash == phone_hash)
        return [int(o) for o in (await conn.execute(query)).scalars()]

    async def owners_having(self, conn: AsyncConnection, owner_ids: list[int],
                            phone_hash: bytes) -> set[int]:
        """Which of `owner_ids` uploaded this number."""
        found: set[int] = set()
        for part in _chunks(owner_ids):
            query = select(contacts.c.owner_id).where(contacts.c.owner_id.in_(part),
                                                      contacts.c.phone_hash == phone_hash)
            found |= {int(o) for o in (await conn.execute(query)).scalars()}
        return found

    async def users_by_phone(self, conn: AsyncConnection, phones: list[str]) -> list[Row]:
        found: list[Row] = []
        for part in _chunks(phones):
            query = select(users).where(users.c.phone.in_(part))
            found += [dict(r) for r in (await conn.execute(query)).mappings()]
        return found


class PrivacyStore:
    async def settings(self, conn: AsyncConnection, user_ids: Iterable[int]) -> dict[int, Row]:
        """Stored settings of those users who changed any; others have the defaults."""
        wanted = list(set(user_ids))
        found: dict[int, Row] = {}
        for part in _chunks(wanted):
            query = select(privacy).where(privacy.c.user_id.in_(part))
            found |= {int(r["user_id"]): dict(r) for r in (await conn.execute(query)).mappings()}
        return found

    async def put(self, conn: AsyncConnection, user_id: int, values: Row) -> None:
        result = await conn.execute(update(privacy).where(privacy.c.user_id == user_id)
                                    .values(**values))
        if not result.rowcount:
            await conn.execute(insert(privacy).values(user_id=user_id, **values))

    async def block(self, conn: AsyncConnection, user_id: int, blocked_id: int,
                    now: int) -> bool:
        if await self.blocked_pairs(conn, [(user_id, blocked_id)]):
            return False
        await conn.execute(insert(blocks).values(user_id=user_id, blocked_id=blocked_id,
                                                 created_at=now))
        return True

    async def unblock(self, conn: AsyncConnection, user_id: int, blocked_id: int) -> bool:
        result = await conn.execute(delete(blocks).where(blocks.c.user_id == user_id,
                                                         blocks.c.blocked_id == blocked_id))
        return bool(result.rowcount)

    async def blocked_pairs(self, conn: AsyncConnection,
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

    async def blocked_by(self, conn: AsyncConnection, user_id: int) -> list[Row]:
        query = (select(blocks.c.blocked_id, blocks.c.created_at)
                 .where(blocks.c.user_id == user_id).order_by(blocks.c.created_at))
        return [dict(r) for r in (await conn.execute(query)).mappings()]
