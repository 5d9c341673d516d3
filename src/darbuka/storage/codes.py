"""One-time sign-in codes, stored as hashes, with their attempt counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from darbuka.storage.tables.accounts import login_codes

__all__ = ["LoginCodeStore"]

Row = dict[str, Any]


class LoginCodeStore:
    async def put(self, conn: AsyncConnection, *, phone: str, code_hash: bytes,
                  expires_at: int) -> None:
        await conn.execute(delete(login_codes).where(login_codes.c.phone == phone))
        await conn.execute(insert(login_codes).values(
            phone=phone, code_hash=code_hash, expires_at=expires_at, attempts=0))

    async def get(self, conn: AsyncConnection, phone: str) -> Row | None:
        query = select(login_codes).where(login_codes.c.phone == phone)
        row = (await conn.execute(query)).mappings().first()
        return dict(row) if row else None

    async def count_attempt(self, conn: AsyncConnection, phone: str) -> None:
        await conn.execute(update(login_codes).where(login_codes.c.phone == phone)
                           .values(attempts=login_codes.c.attempts + 1))

    async def remove(self, conn: AsyncConnection, phone: str) -> None:
        await conn.execute(delete(login_codes).where(login_codes.c.phone == phone))
