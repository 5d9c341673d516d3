"""Bring a database to the newest schema with Alembic (numbered, append-only migrations)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from darbuka.storage.db import Database

__all__ = ["alembic_config", "migrate"]

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: Any = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(db: Database) -> None:
    await db.run_sync(lambda conn: command.upgrade(alembic_config(conn), "head"))
