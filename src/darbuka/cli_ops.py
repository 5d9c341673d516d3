"""Operators' commands for the database itself: `darbuka migrate`, `backup` and `restore`.

They work on the database alone (no services, no bus): a migration or a backup needs
nothing else, and a restore runs while every server is stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer

from darbuka.cli_common import DataDir, load_settings

__all__ = ["register"]

T = TypeVar("T")


def register(app: typer.Typer) -> None:
    app.command("migrate")(migrate)
    app.command("backup")(backup)
    app.command("restore")(restore)


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



def backup(path: Annotated[Path, typer.Argument(help="The new backup file.")],
           data_dir: DataDir = None) -> None:
    """A consistent copy of the SQLite database while the server runs (on PostgreSQL use
    pg_dump: see docs/deploy.md). Keep `secret.key` and the `media` folder with it."""
    from darbuka.storage.backup import backup_sqlite

    settings = load_settings(data_dir=data_dir)
    live = _sqlite_file(settings.effective_database_url, "pg_dump -Fc")
    epoch = _refusing_bad_input(lambda: backup_sqlite(live, path))
    typer.echo(f"backed up {live} to {path} (restored, it starts stream epoch {epoch})")


def restore(path: Annotated[Path | None, typer.Argument(
                help="The backup file (SQLite). Leave out on PostgreSQL, after pg_restore.")]
            = None, data_dir: DataDir = None) -> None:
    """Put a backup back, with every server stopped, in a new stream epoch: clients whose
    cursors are newer than the backup get `reset` instead of silently missing events.

    SQLite: replaces the database with PATH (the old one is kept as
    `darbuka.db.before-restore`). PostgreSQL: run it after pg_restore, without PATH."""
    from darbuka.storage.backup import restore_sqlite, sqlite_path, start_epoch

    settings = load_settings(data_dir=data_dir)
    url = settings.effective_database_url
    live = sqlite_path(url)
    if live is None:
        if path is not None:
            _refuse("on PostgreSQL restore with pg_restore, then run `darbuka restore` "
                    "without a file")
        from sqlalchemy.exc import DBAPIError

        try:
            epoch = asyncio.run(start_epoch(url))
        except DBAPIError as err:  # no schema (pg_restore failed?), or no database at all
            _refuse(f"cannot start a new epoch in this database: {err.orig}")
    else:
        if path is None:
            _refuse("give the backup file to restore")
        assert path is not None  # noqa: S101 - _refuse exits
        epoch = _refusing_bad_input(lambda: restore_sqlite(path, live))
    typer.echo(f"restored; the stream is now in epoch {epoch}: clients resume with a reset")


def _sqlite_file(url: str, instead: str) -> Path:
    from darbuka.storage.backup import sqlite_path

    live = sqlite_path(url)
    if live is None:
        _refuse(f"this is not a SQLite database; on PostgreSQL use {instead} "
                "(docs/deploy.md)")
    assert live is not None  # noqa: S101 - _refuse exits
    if not live.exists():
        _refuse(f"{live}: no database there")
    return live


def _refusing_bad_input(work: Callable[[], T]) -> T:
    try:
        return work()
    except ValueError as err:
        _refuse(str(err))
        raise  # unreachable: _refuse exits


def _refuse(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)
