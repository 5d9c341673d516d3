"""The `darbuka` command: `serve` and `admin …`. Flags win over DARBUKA_* variables."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any

import typer

from darbuka.client import cli as _client_cli
from darbuka.settings import Settings

__all__ = ["main"]

app = typer.Typer(help="Darbuka: a self-hosted messenger.", no_args_is_help=True,
                  add_completion=False)
admin = typer.Typer(help="Operator commands; they take the same settings as `serve`.",
                    no_args_is_help=True)
app.add_typer(admin, name="admin")
_client_cli.register(app)

DataDir = Annotated[Path | None, typer.Option(help="Where SQLite and files live [./data].")]


def _settings(**flags: Any) -> Settings:
    settings = Settings.from_env(**flags)
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
          data_dir: DataDir = None) -> None:
    """Serve the API, the WebSocket gateway and the web client."""
    import uvicorn

    from darbuka.app import build_app
    from darbuka.gateway.protocol import GatewayProtocol

    settings = _settings(host=host, port=port, data_dir=data_dir)
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, access_log=False, loop="uvloop",
                http="httptools", ws=GatewayProtocol, ws_max_size=65_536,
                ws_ping_interval=None, ws_ping_timeout=None, backlog=4096,
                proxy_headers=settings.trust_proxy_headers, timeout_graceful_shutdown=5)


@admin.command("issue-token")
def issue_token(phone: Annotated[str, typer.Option(help="Phone number, +E.164.")],
                name: Annotated[str | None, typer.Option(help="Display name.")] = None,
                data_dir: DataDir = None) -> None:
    """Create the user if needed and print a new device token (the last line)."""
    settings = _settings(data_dir=data_dir)
    token, user = asyncio.run(_issue_token(settings, phone, name))
    typer.echo(f"user {user['id']} {user['phone']}")
    typer.echo(token)


async def _issue_token(settings: Settings, phone: str, name: str | None) -> tuple[str, Any]:
    from darbuka.app import build_services
    from darbuka.errors import ApiError
    from darbuka.storage.migrate import migrate

    services = build_services(settings)
    await migrate(services.db)
    async with services.db.write() as conn:
        await services.stores.events.ensure_stream(conn)
    services.writer.start()
    try:
        return await services.auth.do_issue_token(phone, name=name)
    except ApiError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from err
    finally:
        await services.writer.stop()
        await services.db.dispose()


@admin.command("create-bot")
def create_bot(name: Annotated[str, typer.Argument(help="The bot's display name.")],
               username: Annotated[str | None, typer.Option(help="@username.")] = None,
               data_dir: DataDir = None) -> None:
    """Create a bot account and print its Bot API token (the last line)."""
    settings = _settings(data_dir=data_dir)
    token, user = asyncio.run(_with_services(
        settings, lambda s: s.bots.do_create_bot(name, username=username)))
    typer.echo(f"bot {user['id']} {user['display_name']}")
    typer.echo(token)


async def _with_services(settings: Settings, job: Any) -> Any:
    from darbuka.app import build_services
    from darbuka.errors import ApiError
    from darbuka.storage.migrate import migrate

    services = build_services(settings)
    await migrate(services.db)
    async with services.db.write() as conn:
        await services.stores.events.ensure_stream(conn)
    services.writer.start()
    try:
        return await job(services)
    except ApiError as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(2) from err
    finally:
        await services.writer.stop()
        await services.db.dispose()


def main() -> None:
    app()
