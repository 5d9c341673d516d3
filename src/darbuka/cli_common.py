"""What every `darbuka admin …` command shares: settings as `serve` reads them, and the
runtime on the configured database for the length of one command."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from darbuka.logs import configure_logging
from darbuka.settings import Settings

if TYPE_CHECKING:  # imported late at run time: `darbuka --help` stays quick
    from darbuka.container import Runtime

__all__ = ["DataDir", "load_settings", "run_admin", "runtime_for"]

T = TypeVar("T")

DataDir = Annotated[Path | None, typer.Option(help="Where SQLite and files live [./data].")]


def load_settings(*, serving: bool = False, **flags: Any) -> Settings:
    """Settings from flags and DARBUKA_*. A one-shot command logs only warnings unless
    DARBUKA_LOG_LEVEL asks for more: what it prints (a token, a count) is the answer, and
    the libraries' start-up chatter (migrations, the vector index) would bury it."""
    settings = Settings.from_env(**flags)
    asked = "DARBUKA_LOG_LEVEL" in os.environ
    level = settings.log_level if serving or asked else "warning"
    try:
        configure_logging(level, settings.log_format)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
    return settings


@asynccontextmanager
async def runtime_for(settings: Settings) -> AsyncIterator[Runtime]:
    """Migrated, with a running writer. One-shot commands change the database; running
    servers pick bank changes up by polling, so this process does not poll. The bus runs
    too: with Redis, the events a command makes (a revoked token, a changed account) reach
    the live sessions on running servers."""
    from darbuka.container import build_runtime, open_storage

    runtime = build_runtime(settings.replace(safety_bank_poll_s=0))
    await open_storage(runtime)
    await runtime.bus.start()
    runtime.writer.start()
    try:
        yield runtime
    finally:
        await runtime.writer.stop()
        await runtime.bus.stop()  # after the writer: what it published goes out first
        await runtime.db.dispose()


def run_admin(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run one command's `work` against the configured database, as `serve` would see it;
    a refusal (ApiError) is printed and exits with status 2."""
    from darbuka.errors import ApiError
    from darbuka.secret import SecretMismatch

    async def main() -> T:
        async with runtime_for(settings) as runtime:
            return await work(runtime)

    try:
        return asyncio.run(main())
    except ApiError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from err
    except SecretMismatch as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err
