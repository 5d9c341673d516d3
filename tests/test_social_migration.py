"""Migration 0005 brings usernames made before it into the shared handle namespace."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from darbuka.storage.db import Database
from darbuka.storage.migrate import alembic_config


def test_existing_usernames_enter_the_handle_namespace(tmp_path: Path) -> None:
    async def run() -> list[tuple[object, ...]]:
        db = Database(f"sqlite:///{tmp_path}/old.db")
        try:
            def steps(conn: sa.Connection) -> list[sa.Row[Any]]:
                command.upgrade(alembic_config(conn), "0001")
                conn.execute(sa.text(
                    "INSERT INTO users (phone, username, username_key, created_at) "
                    "VALUES ('+15555550100', 'Brand_1', 'brand_1', 1)"))
                command.upgrade(alembic_config(conn), "head")
                rows = list(conn.execute(sa.text(
                    "SELECT key, skeleton, user_id, chat_id, owner_id FROM handles")).all())
                command.downgrade(alembic_config(conn), "0001")
                return rows

            rows = await db.run_sync(steps)
            return [tuple(r) for r in rows]
        finally:
            await db.dispose()

    assert asyncio.run(run()) == [("brand_1", "brandl", 1, None, 1)]
