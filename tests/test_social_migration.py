"""Migration 0005 brings usernames made before it into the shared handle namespace."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from darbuka.storage.db import Database
from darbuka.storage.migrate import alembic_config


def test_existing_usernames_enter_the_handle_namespace(tmp_path: Path) -> None:
    async def run() -> list[tuple[object, ...]]:
        db = Database(f"sqlite:///{tmp_path}/old.db")
        try:
            async with db.write_engine.connect() as conn:
                await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0001"))
                await conn.execute(sa.text(
                    "INSERT INTO users (phone, username, username_key, created_at) "
                    "VALUES ('+15555550100', 'Brand_1', 'brand_1', 1)"))
                await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "head"))
                rows = (await conn.execute(sa.text(
                    "SELECT key, skeleton, user_id, chat_id, owner_id FROM handles"))).all()
                await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0001"))
                await conn.commit()
            return [tuple(r) for r in rows]
        finally:
            await db.dispose()

    assert asyncio.run(run()) == [("brand_1", "brandl", 1, None, 1)]
