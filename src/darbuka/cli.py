"""The `darbuka` command: `serve` and `admin …`. Flags win over DARBUKA_* variables."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from darbuka.cli_common import DataDir, load_settings, services_for
from darbuka.cli_safety import safety
from darbuka.client import cli as _client_cli
from darbuka.settings import Settings

__all__ = ["main"]

app = typer.Typer(help="Darbuka: a self-hosted messenger.", no_args_is_help=True,
                  add_completion=False)
admin = typer.Typer(help="Operator commands; they take the same settings as `serve`.",
                    no_args_is_help=True)
app.add_typer(admin, name="admin")
admin.add_typer(safety, name="safety")
_client_cli.register(app)

_settings = load_settings


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
    async def issue(services: Any) -> tuple[str, Any]:
        result: tuple[str, Any] = await services.auth.do_issue_token(phone, name=name)
        return result

    result: tuple[str, Any] = await _with_services(settings, issue)
    return result


async def _with_services(settings: Settings, work: Any) -> Any:
    """Run `work(services)` against the configured database, as `serve` would see it."""
    from darbuka.errors import ApiError

    async with services_for(settings) as services:
        try:
            return await work(services)
        except ApiError as err:
            typer.echo(f"error: {err.message}", err=True)
            raise typer.Exit(2) from err


@admin.command("set-role")
def set_role(phone: Annotated[str, typer.Option(help="The user's phone number, +E.164.")],
             role: Annotated[str, typer.Option(help="user, moderator or operator.")],
             data_dir: DataDir = None) -> None:
    """Make a user a moderator or an operator (or a plain user again)."""
    from darbuka.safety.accounts import do_set_staff_role

    settings = _settings(data_dir=data_dir)
    user = asyncio.run(_with_services(
        settings, lambda svc: do_set_staff_role(svc, phone, role=role)))
    typer.echo(f"user {user['id']} {user['phone']} is now {role}")


@admin.command("set-kind")
def set_kind(phone: Annotated[str, typer.Option(help="The account's phone number, +E.164.")],
             kind: Annotated[str, typer.Option(help="person, blogger, brand or authority.")],
             trusted_flagger: Annotated[bool | None, typer.Option(
                 help="Reports from this account go ahead (DSA Art. 22).")] = None,
             data_dir: DataDir = None) -> None:
    """Set an account's kind; `authority` accounts may submit removal orders."""
    from darbuka.safety.accounts import do_set_kind

    settings = _settings(data_dir=data_dir)
    user = asyncio.run(_with_services(
        settings, lambda svc: do_set_kind(svc, phone, kind=kind, trusted=trusted_flagger)))
    typer.echo(f"user {user['id']} {user['phone']} is now a {kind}")


audit = typer.Typer(help="The audit log of safety actions.", no_args_is_help=True)
admin.add_typer(audit, name="audit")


@audit.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Check the hash chain; name the first record that was changed, removed or inserted."""
    from darbuka.safety.audit import verify_chain

    async def verify(services: Any) -> Any:
        async with services.db.read() as conn:
            return await verify_chain(conn, services.stores)

    settings = _settings(data_dir=data_dir)
    check = asyncio.run(_with_services(settings, verify))
    if check.ok:
        typer.echo(f"audit chain intact: {check.records} records")
        return
    typer.echo(f"audit chain BROKEN at record {check.first_broken}: {check.why} "
               f"({check.records} records before it verified)")
    raise typer.Exit(1)
@admin.command("verify")
def verify(username: Annotated[str | None, typer.Option(help="@username of the account.")] = None,
           phone: Annotated[str | None, typer.Option(help="Phone number, +E.164.")] = None,
           kind: Annotated[str | None, typer.Option(help="Also set: person, blogger, brand.")]
           = None,
           revoke: Annotated[bool, typer.Option(help="Take the mark away.")] = False,
           data_dir: DataDir = None) -> None:
    """Mark an account verified (a real blogger or brand). Handles that look like a
    verified account's can then be taken only by verified accounts."""
    if (username is None) == (phone is None):
        typer.echo("error: give exactly one of --username and --phone", err=True)
        raise typer.Exit(2)
    settings = _settings(data_dir=data_dir)
    user = asyncio.run(_verify(settings, username, phone, kind, not revoke))
    typer.echo(f"user {user['id']} @{user['username'] or '-'} kind={user['kind']} "
               f"verified={str(bool(user['verified'])).lower()}")


async def _verify(settings: Settings, username: str | None, phone: str | None,
                  kind: str | None, verified: bool) -> Any:
    from darbuka.services.verify import do_verify

    return await _with_services(settings, lambda services: do_verify(
        services.writer, username=username, phone=phone, kind=kind, verified=verified))


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


def main() -> None:
    app()
