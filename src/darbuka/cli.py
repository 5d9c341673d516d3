"""The `darbuka` command: `serve` and `admin …`. Flags win over DARBUKA_* variables."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from darbuka import cli_data, cli_ops
from darbuka.cli_common import DataDir, load_settings, run_admin
from darbuka.cli_safety import safety
from darbuka.client import cli as _client_cli

if TYPE_CHECKING:
    from darbuka.container import Runtime
    from darbuka.safety.audit import ChainCheck
    from darbuka.services.writer import Tx
    from darbuka.settings import Settings
    from darbuka.storage.rows import UserRow

__all__ = ["main"]

app = typer.Typer(help="Darbuka: a self-hosted messenger.", no_args_is_help=True,
                  add_completion=False)
admin = typer.Typer(help="Operator commands; they take the same settings as `serve`.",
                    no_args_is_help=True)
app.add_typer(admin, name="admin")
admin.add_typer(safety, name="safety")
cli_data.register(admin)
_client_cli.register(app)
cli_ops.register(app)

_settings = load_settings


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
          jobs: Annotated[bool | None, typer.Option(
              "--jobs/--no-jobs",
              help="Run background jobs here too [run_jobs, default yes].")] = None,
          data_dir: DataDir = None) -> None:
    """Serve the API, the WebSocket gateway and the web client (and run jobs)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from darbuka.app import build_app
    from darbuka.gateway.protocol import GatewayProtocol

    settings = _settings(serving=True, host=host, port=port, data_dir=data_dir,
                         run_jobs=jobs)
    _check_database(settings)
    # JSON logs: uvicorn's own lines go through the root handler (`load_settings`) too.
    log_config = None if settings.log_format == "json" else LOGGING_CONFIG
    uvicorn.run(build_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, log_config=log_config, access_log=False,
                loop="uvloop", http="httptools", ws=GatewayProtocol, ws_max_size=65_536,
                ws_ping_interval=None, ws_ping_timeout=None, backlog=4096,
                proxy_headers=False,  # the app applies its own (app.py), from settings
                timeout_graceful_shutdown=5)


@app.command()
def worker(data_dir: DataDir = None) -> None:
    """Run background jobs (media processing, webhooks, alerts, sweeps) without serving
    HTTP, until SIGTERM: on other machines than the servers, for media's CPU."""
    from darbuka.background import run_worker

    settings = _settings(serving=True, data_dir=data_dir)
    _check_database(settings)
    asyncio.run(run_worker(settings))


def _check_database(settings: Settings) -> None:
    """A database this process must not serve is refused in one line, before listening."""
    from darbuka.container import check_database
    from darbuka.secret import SecretMismatch

    try:
        asyncio.run(check_database(settings))
    except SecretMismatch as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


@admin.command("issue-token")
def issue_token(phone: Annotated[str, typer.Option(help="Phone number, +E.164.")],
                name: Annotated[str | None, typer.Option(help="Display name.")] = None,
                data_dir: DataDir = None) -> None:
    """Create the user if needed and print a new device token (the last line).

    --name names a new account only: an existing person keeps the name they chose (the
    command says so), so a token for someone never renames them."""
    async def issue(rt: Runtime) -> tuple[str, UserRow, UserRow | None]:
        existing = await _user_by_phone(rt, phone)
        token, user = await rt.services.auth.do_issue_token(
            phone, name=None if existing else name)
        return token, user, existing

    token, user, existing = run_admin(_settings(data_dir=data_dir), issue)
    if existing and name and name != existing["display_name"]:
        typer.echo(f"note: {user['phone']} already has an account, named "
                   f"{existing['display_name']!r}; --name {name!r} was not applied "
                   "(it names new accounts only)", err=True)
    typer.echo(f"user {user['id']} {user['phone']}")
    typer.echo(token)


async def _user_by_phone(rt: Runtime, phone: str) -> UserRow | None:
    from darbuka.errors import BadRequest
    from darbuka.services.auth import normalise_phone

    try:
        number = normalise_phone(phone)
    except BadRequest:
        return None  # the issue itself refuses it, with the reason
    async with rt.db.read() as conn:
        return await rt.stores.users.by_phone(conn, number)


@admin.command("set-role")
def set_role(phone: Annotated[str, typer.Option(help="The user's phone number, +E.164.")],
             role: Annotated[str, typer.Option(help="user, moderator or operator.")],
             data_dir: DataDir = None) -> None:
    """Make a user a moderator or an operator (or a plain user again)."""
    user = _change(data_dir, {"role": role}, phone=phone)
    typer.echo(f"user {user['id']} {user['phone']} is now {role}")


@admin.command("set-kind")
def set_kind(phone: Annotated[str, typer.Option(help="The account's phone number, +E.164.")],
             kind: Annotated[str, typer.Option(help="person, blogger, brand or authority.")],
             trusted_flagger: Annotated[bool | None, typer.Option(
                 help="Reports from this account go ahead (DSA Art. 22).")] = None,
             data_dir: DataDir = None) -> None:
    """Set an account's kind; `authority` accounts may submit removal orders."""
    user = _change(data_dir, {"kind": kind, "trusted_flagger": trusted_flagger},
                   phone=phone)
    typer.echo(f"user {user['id']} {user['phone']} is now a {kind}")


@admin.command("verify")
def verify(username: Annotated[str | None, typer.Option(help="@username of the account.")] = None,
           phone: Annotated[str | None, typer.Option(help="Phone number, +E.164.")] = None,
           kind: Annotated[str | None, typer.Option(
               help="Also set: person, blogger, brand or authority.")] = None,
           revoke: Annotated[bool, typer.Option(help="Take the mark away.")] = False,
           data_dir: DataDir = None) -> None:
    """Mark an account verified (a real blogger or brand). Handles that look like a
    verified account's can then be taken only by verified accounts."""
    if (username is None) == (phone is None):
        typer.echo("error: give exactly one of --username and --phone", err=True)
        raise typer.Exit(2)
    user = _change(data_dir, {"kind": kind, "verified": not revoke}, phone=phone,
                   username=username)
    typer.echo(f"user {user['id']} @{user['username'] or '-'} kind={user['kind']} "
               f"verified={str(bool(user['verified'])).lower()}")


def _change(data_dir: Path | None, fields: dict[str, Any], *, phone: str | None = None,
            username: str | None = None) -> UserRow:
    """The one operator path for accounts: audited and told to the account's devices."""
    from darbuka.safety.accounts import AccountChange

    change = AccountChange(**fields)
    return run_admin(_settings(data_dir=data_dir), lambda rt: rt.services.accounts.do_change(
        change, phone=phone, username=username))


audit = typer.Typer(help="The audit log of safety actions.", no_args_is_help=True)
admin.add_typer(audit, name="audit")


@admin.command("sweep-blobs")
def sweep_blobs(grace_s: Annotated[float | None, typer.Option(
                    help="Spare files younger than this many seconds (default: "
                         "blob_sweep_grace_s).")] = None,
                data_dir: DataDir = None) -> None:
    """Delete stored files nothing refers to and no preservation hold covers, and the parts
    of uploads that are gone (what `blob_sweep_interval_s` does in a server)."""
    from darbuka.container import sweep_stored_files

    report = run_admin(_settings(data_dir=data_dir),
                       lambda rt: sweep_stored_files(rt, grace_s=grace_s))
    typer.echo(f"deleted {report.blobs_deleted} blobs and {report.parts_deleted} upload "
               f"parts; {report.blobs_kept} blobs kept")


@admin.command("jobs")
def jobs_overview(retry_failed: Annotated[bool, typer.Option(
                      help="Queue every failed job again, its attempts started over.")] = False,
                  data_dir: DataDir = None) -> None:
    """Background jobs by kind and state, and the last failed ones with their errors."""
    async def look(runtime: Runtime) -> tuple[int, list[dict[str, Any]],
                                              list[dict[str, Any]]]:
        again = 0
        if retry_failed:
            async def retry(tx: Tx) -> int:
                return await tx.stores.jobs.retry_failed(tx.conn, now=tx.now)

            again = await runtime.writer.run(retry)
        async with runtime.db.read() as conn:
            return (again, await runtime.stores.jobs.summary(conn),
                    await runtime.stores.jobs.failed(conn))

    again, summary, failed = run_admin(_settings(data_dir=data_dir), look)
    if retry_failed:
        typer.echo(f"queued {again} failed jobs again")
    if not summary:
        typer.echo("no jobs")
    for row in summary:
        typer.echo(f"{row['kind']:24} {row['state']:8} {row['count']:6}")
    for row in failed:
        typer.echo(f"failed {row['id']} {row['key']} after {row['attempts']} attempts: "
                   f"{row['last_error']}")


@audit.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Check the hash chain; name the first record that was changed, removed or inserted."""
    from darbuka.safety.audit import verify_chain

    async def verify(runtime: Runtime) -> ChainCheck:
        async with runtime.db.read() as conn:
            return await verify_chain(conn, runtime.stores)

    check = run_admin(_settings(data_dir=data_dir), verify)
    if check.ok:
        typer.echo(f"audit chain intact: {check.records} records")
        return
    typer.echo(f"audit chain BROKEN at record {check.first_broken}: {check.why} "
               f"({check.records} records before it verified)")
    raise typer.Exit(1)


@admin.command("create-bot")
def create_bot(name: Annotated[str, typer.Argument(help="The bot's display name.")],
               username: Annotated[str | None, typer.Option(help="@username.")] = None,
               data_dir: DataDir = None) -> None:
    """Create a bot account and print its Bot API token (the last line)."""
    token, user = run_admin(_settings(data_dir=data_dir), lambda rt: rt.services.bots
                            .do_create_bot(name, username=username))
    typer.echo(f"bot {user['id']} {user['display_name']}")
    typer.echo(token)


BotRef = Annotated[str, typer.Argument(help="The bot's id or @username.")]


@admin.command("revoke-bot")
def revoke_bot(bot: BotRef, data_dir: DataDir = None) -> None:
    """Sign out every token of a bot and drop its webhook: its requests and long polls get
    401 and nothing more is posted to it. `rotate-bot-token` gives it a token again."""
    revoked = run_admin(_settings(data_dir=data_dir), lambda rt: rt.services.bots
                        .do_revoke(bot))
    typer.echo(f"bot {revoked.bot['id']} {revoked.bot['display_name']}: "
               f"{revoked.tokens} token(s) revoked, {revoked.webhooks} webhook(s) removed")


@admin.command("rotate-bot-token")
def rotate_bot_token(bot: BotRef, data_dir: DataDir = None) -> None:
    """Give a bot a new token and revoke the old one (and its webhook, which the bot sets
    again with the new token); prints the new token (the last line)."""
    token, revoked = run_admin(_settings(data_dir=data_dir), lambda rt: rt.services.bots
                               .do_rotate_token(bot))
    typer.echo(f"bot {revoked.bot['id']} {revoked.bot['display_name']}: "
               f"{revoked.tokens} token(s) revoked, {revoked.webhooks} webhook(s) removed")
    typer.echo(token)


def main() -> None:
    """The command; a refusal or an unreachable server is one line on stderr and exit 1
    (a traceback is for bugs, not for a wrong token or an unknown chat)."""
    try:
        app()
    except Exception as err:  # sorted below; anything else is re-raised
        line = _one_line(err)
        if line is None:
            raise
        typer.echo(f"error: {line}", err=True)
        raise SystemExit(1) from None


def _one_line(err: Exception) -> str | None:
    import httpx

    from darbuka.client.http import ApiError as ClientError
    from darbuka.errors import ApiError

    if isinstance(err, ClientError | ApiError):
        return f"{err.message} ({err.status})"
    if isinstance(err, httpx.TransportError | ConnectionError):
        return f"cannot reach the server: {err or type(err).__name__}"
    return None
