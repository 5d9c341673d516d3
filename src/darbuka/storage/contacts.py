"""Uploaded address books, as keyed hashes of phone numbers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from darbuka.storage.db import Conn, in_chunks
from darbuka.storage.rows import UserRow, typed
from darbuka.storage.tables.accounts import users
from darbuka.storage.tables.people import contacts

__all__ = ["ContactStore"]

Row = dict[str, Any]


class ContactStore:
    async def known(self, conn: Conn, owner_id: int,
                    hashes: list[bytes]) -> set[bytes]:
        """Which of `hashes` the owner uploaded before."""
        found: set[bytes] = set()
        for part in in_chunks(hashes):
            query = select(contacts.c.phone_hash).where(contacts.c.owner_id == owner_id,
                                                        contacts.c.phone_hash.in_(part))
            found |= {bytes(h) for h in (await conn.execute(query)).scalars()}
        return found

    async def count(self, conn: Conn, owner_id: int, *, since: int = 0) -> int:
        query = select(func.count()).where(contacts.c.owner_id == owner_id,
                                           contacts.c.created_at >= since)
        return int((await conn.execute(query)).scalar_one())

    async def add(self, conn: Conn, owner_id: int, hashes: list[bytes],
                  now: int) -> None:
        for part in in_chunks(hashes):
            await conn.execute(insert(contacts), [
                {"owner_id": owner_id, "phone_hash": h, "created_at": now} for h in part])

    async def owners_of(self, conn: Conn, phone_hash: bytes) -> list[int]:
        query = select(contacts.c.owner_id).where(contacts.c.phone_hash == phone_hash)
        return [int(o) for o in (await conn.execute(query)).scalars()]

    async def owners_having(self, conn: Conn, owner_ids: list[int],
                            phone_hash: bytes) -> set[int]:
        """Which of `owner_ids` uploaded this number."""
        found: set[int] = set()
        for part in in_chunks(owner_ids):
            query = select(contacts.c.owner_id).where(contacts.c.owner_id.in_(part),
                                                      contacts.c.phone_hash == phone_hash)
            found |= {int(o) for o in (await conn.execute(query)).scalars()}
        return found

    async def users_by_phone(self, conn: Conn, phones: list[str]) -> list[UserRow]:
        found: list[UserRow] = []
        for part in in_chunks(phones):
            query = select(users).where(users.c.phone.in_(part))
            found += [typed(r, UserRow) for r in (await conn.execute(query)).mappings()]
        return found
