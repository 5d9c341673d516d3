"""Signed-in devices, each with the hash of its token."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from darbuka.storage.db import Conn
from darbuka.storage.rows import DeviceRow, typed
from darbuka.storage.tables.accounts import devices, users

__all__ = ["DeviceStore"]


class DeviceStore:
    async def create(self, conn: Conn, *, user_id: int, name: str,
                     token_hash: bytes, now: int) -> int:
        result = await conn.execute(
            insert(devices).values(user_id=user_id, name=name, token_hash=token_hash,
                                   created_at=now, last_seen_at=now).returning(devices.c.id))
        return int(result.scalar_one())

    async def by_token_hash(self, conn: Conn, token_hash: bytes) -> DeviceRow | None:
        query = select(devices).where(devices.c.token_hash == token_hash)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, DeviceRow) if row else None

    async def get(self, conn: Conn, device_id: int) -> DeviceRow | None:
        query = select(devices).where(devices.c.id == device_id)
        row = (await conn.execute(query)).mappings().first()
        return typed(row, DeviceRow) if row else None

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
