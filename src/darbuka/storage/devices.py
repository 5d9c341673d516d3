"""Signed-in devices, each with the hash of its token."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update

from darbuka.storage.db import Conn, Query
from darbuka.storage.rows import DeviceRow, typed
from darbuka.storage.tables.accounts import devices, users

__all__ = ["DeviceStore"]

_COLUMNS = tuple(c.name for c in devices.columns)
# Every authenticated request that misses the principal cache, and every socket sign-in.
_BY_TOKEN_HASH = Query(select(devices).where(devices.c.token_hash == bindparam("hash")))
_BY_ID = Query(select(devices).where(devices.c.id == bindparam("id")))


def _device(row: tuple[object, ...]) -> DeviceRow:
    return typed(dict(zip(_COLUMNS, row, strict=True)), DeviceRow)


class DeviceStore:
    async def create(self, conn: Conn, *, user_id: int, name: str,
                     token_hash: bytes, now: int) -> int:
        result = await conn.execute(
            insert(devices).values(user_id=user_id, name=name, token_hash=token_hash,
                                   created_at=now, last_seen_at=now).returning(devices.c.id))
        return int(result.scalar_one())

    async def by_token_hash(self, conn: Conn, token_hash: bytes) -> DeviceRow | None:
        rows = await conn.rows(_BY_TOKEN_HASH, {"hash": token_hash})
        return _device(rows[0]) if rows else None

    async def get(self, conn: Conn, device_id: int) -> DeviceRow | None:
        rows = await conn.rows(_BY_ID, {"id": device_id})
        return _device(rows[0]) if rows else None

    async def for_user(self, conn: Conn, user_id: int) -> list[DeviceRow]:
        query = select(devices).where(devices.c.user_id == user_id).order_by(devices.c.id)
        return [typed(r, DeviceRow) for r in (await conn.execute(query)).mappings()]

    async def idle_people(self, conn: Conn, *, seen_before: int,
                          limit: int) -> list[DeviceRow]:
        """People's devices (not bots') last seen before `seen_before`."""
        query = (select(devices).join(users, users.c.id == devices.c.user_id)
                 .where(devices.c.last_seen_at < seen_before, users.c.kind != "bot")
                 .order_by(devices.c.last_seen_at).limit(limit))
        return [typed(r, DeviceRow) for r in (await conn.execute(query)).mappings()]

    async def delete(self, conn: Conn, *, user_id: int, device_id: int) -> bool:
        result = await conn.execute(
            delete(devices).where(devices.c.id == device_id, devices.c.user_id == user_id))
        return bool(result.rowcount)

    async def touch(self, conn: Conn, device_id: int, now: int) -> None:
        await conn.execute(
            update(devices).where(devices.c.id == device_id).values(last_seen_at=now))
