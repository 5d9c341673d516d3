"""One-time sign-in codes, stored as hashes, and the count of checks against each number.

The count lives beside the code but outlives it: a new code keeps it, so asking for codes
again and again buys no more guesses. A number that never asked for a code gets a row too
when someone guesses at it, so a guess says nothing about whether a code was asked for.
"""

from __future__ import annotations

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from darbuka.storage.db import Conn
from darbuka.storage.rows import LoginCodeRow, typed
from darbuka.storage.tables.accounts import login_codes

__all__ = ["LoginCodeStore"]


class LoginCodeStore:
    async def put(self, conn: Conn, *, phone: str, code_hash: bytes,
                  expires_at: int) -> None:
        """A new code for `phone`, replacing any before it; the count of checks stays."""
        await self._ensure(conn, phone)
        await conn.execute(update(login_codes).where(login_codes.c.phone == phone)
                           .values(code_hash=code_hash, expires_at=expires_at))

    async def count_check(self, conn: Conn, phone: str, *, now: int,
                          window_ms: int) -> LoginCodeRow:
        """Count one check against `phone` and return the row as counted: the count starts
        over once `window_ms` has passed since it began.

        One UPDATE: on PostgreSQL it locks the row until commit, so checks from several
        processes count one after another, each seeing the others' counts.
        """
        await self._ensure(conn, phone)
        c = login_codes.c
        fresh = c.attempts_reset_at <= now
        query = (update(login_codes).where(c.phone == phone)
                 .values(attempts=case((fresh, 1), else_=c.attempts + 1),
                         attempts_reset_at=case((fresh, now + window_ms),
                                                else_=c.attempts_reset_at))
                 .returning(*login_codes.c))
        return typed((await conn.execute(query)).mappings().one(), LoginCodeRow)

    async def remove(self, conn: Conn, phone: str) -> None:
        await conn.execute(delete(login_codes).where(login_codes.c.phone == phone))

    async def purge(self, conn: Conn, now: int) -> int:
        """Forget rows whose code expired and whose count has started over."""
        result = await conn.execute(delete(login_codes).where(
            login_codes.c.expires_at < now, login_codes.c.attempts_reset_at <= now))
        return int(result.rowcount)

    @staticmethod
    async def _ensure(conn: Conn, phone: str) -> None:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        await conn.execute(dialect.insert(login_codes).values(
            phone=phone, code_hash=b"", expires_at=0, attempts=0, attempts_reset_at=0,
        ).on_conflict_do_nothing(index_elements=[login_codes.c.phone]))
