"""Users."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Boolean, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from darbuka.kinds import MODERATORS
from darbuka.storage.db import Conn, Query
from darbuka.storage.rows import UserFields, UserRow, typed
from darbuka.storage.tables.accounts import users

__all__ = ["DuplicateKey", "UserStore"]

Row = dict[str, Any]

# Every sign-in and every request that misses the principal cache reads its user.
_GET = Query(select(users).where(users.c.id == bindparam("id")))
_COLUMNS = tuple(c.name for c in users.columns)
_FLAGS = frozenset(c.name for c in users.columns if isinstance(c.type, Boolean))


def _user(row: tuple[Any, ...]) -> UserRow:
    """A row from the driver's cursor, its booleans (0/1 on SQLite) as booleans."""
    found = dict(zip(_COLUMNS, row, strict=True))
    for name in _FLAGS:
        found[name] = bool(found[name])
    return typed(found, UserRow)


class DuplicateKey(Exception):
    """A unique column already holds this value."""


class UserStore:
    async def create(self, conn: Conn, *, phone: str | None, now: int,
                     display_name: str = "", kind: str = "person") -> int:
        result = await conn.execute(
            insert(users).values(phone=phone, display_name=display_name, kind=kind,
                                 created_at=now).returning(users.c.id))
        return int(result.scalar_one())

    async def get(self, conn: Conn, user_id: int) -> UserRow | None:
        rows = await conn.rows(_GET, {"id": user_id})
        return _user(rows[0]) if rows else None

    async def by_username_key(self, conn: Conn, key: str) -> UserRow | None:
        query = select(users).where(users.c.username_key == key)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, UserRow) if row else None

    async def by_phone(self, conn: Conn, phone: str) -> UserRow | None:
        row = (await conn.execute(select(users).where(users.c.phone == phone))).mappings().first()
        return typed(row, UserRow) if row else None

    async def by_ids(self, conn: Conn, ids: Iterable[int]) -> dict[int, UserRow]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = (await conn.execute(select(users).where(users.c.id.in_(wanted)))).mappings()
        return {int(row["id"]): typed(row, UserRow) for row in rows}

    async def existing_ids(self, conn: Conn, ids: Iterable[int]) -> set[int]:
        wanted = list(set(ids))
        if not wanted:
            return set()
        rows = await conn.execute(select(users.c.id).where(users.c.id.in_(wanted)))
        return {int(r) for r in rows.scalars()}

    async def update(self, conn: Conn, user_id: int, values: UserFields) -> None:
        try:
            await conn.execute(update(users).where(users.c.id == user_id).values(**values))
        except IntegrityError as exc:
            raise DuplicateKey(str(exc.orig)) from exc

    async def staff_ids(self, conn: Conn) -> list[int]:
        """Moderators and operators: they get the queue's alerts."""
        query = select(users.c.id).where(users.c.role.in_(sorted(MODERATORS)))
        return [int(i) for i in (await conn.execute(query)).scalars()]

    async def username_taken(self, conn: Conn, key: str, *, by_other_than: int) -> bool:
        query = select(users.c.id).where(users.c.username_key == key, users.c.id != by_other_than)
        return (await conn.execute(query)).first() is not None
