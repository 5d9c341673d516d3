"""What every `darbuka admin …` command shares: settings as `serve` reads them, and the
services on the configured database for the length of one command."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from darbuka.settings import Settings

__all__ = ["DataDir", "load_settings", "services_for"]

DataDir = Annotated[Path | None, typer.Option(help="Where SQLite and files live [./data].")]


def load_settings(**flags: Any) -> Settings:
    settings = Settings.from_env(**flags)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@asynccontextmanager
async def services_for(settings: Settings) -> AsyncIterator[Any]:
    """Migrated, with a running writer. One-shot commands change the database; running
    servers pick bank changes up by polling, so this process does not poll."""
    from darbuka.app import build_services
    from darbuka.storage.migrate import migrate

    services = build_services(settings.replace(safety_bank_poll_s=0))
    await migrate(services.db)
    async with services.db.write() as conn:
        await services.stores.events.ensure_stream(conn)
    services.writer.start()
    try:
        yield services
    finally:
        await services.writer.stop()
        await services.db.dispose()
