"""`darbuka send`, `listen`, `upload`, `chat`, `search` and `contacts import`: the SDK from
the shell.

The server and token come from flags or from DARBUKA_SERVER / DARBUKA_TOKEN.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from darbuka.client.client import Client
from darbuka.client.http import ApiError, HttpApi
from darbuka.client.models import ContactImport, SearchResults
from darbuka.client.uploads import KINDS, guess_kind

__all__ = ["register"]

Server = Annotated[str, typer.Option(envvar="DARBUKA_SERVER", help="Server URL.")]
Token = Annotated[str | None, typer.Option(envvar="DARBUKA_TOKEN",
                                           help="Device token (else the one in --store).")]
Store = Annotated[Path | None, typer.Option(
    help="This device's file (outbox, cursor, token); resumes where it left off.")]


contacts = typer.Typer(help="Your address book: which of your contacts are on Darbuka.",
                       no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command()(send)
    app.command()(listen)
    app.command()(upload)
    app.command()(chat)
    app.command()(search)
    app.add_typer(contacts, name="contacts")


def send(chat_id: Annotated[int, typer.Argument(help="Chat id.")],
         text: Annotated[str, typer.Argument(help="Message text ('-' reads stdin).")],
         server: Server = "http://127.0.0.1:8080", token: Token = None,
         store: Store = None) -> None:
    """Send a message and print it as JSON once the server has stored it.

    With --store it goes through the outbox: if the link fails, the next run delivers it."""
    body = sys.stdin.read() if text == "-" else text
    message = asyncio.run(_send(server, token, store, chat_id, body))
    typer.echo(orjson.dumps(message).decode())


async def _send(server: str, token: str | None, store: Path | None, chat_id: int,
                text: str) -> dict[str, object]:
    async with Client(server, token, store=store or ":memory:") as client:
        if store is None:
            return (await client.send_now(chat_id, text)).raw
        client_id = await client.send(chat_id, text)
        await client.flush(timeout=60)
        refused = [p for p in await client.pending() if p.client_id == client_id]
        if refused:
            raise typer.BadParameter(f"the server refused it: {refused[0].error}")
        return {"client_id": client_id, "chat_id": chat_id, "text": text}


def upload(file: Annotated[Path, typer.Argument(help="The file to send.", exists=True,
                                                dir_okay=False, readable=True)],
           chat_id: Annotated[int, typer.Option("--chat", help="Chat id.")],
           kind: Annotated[str | None, typer.Option(
               help=f"One of {', '.join(KINDS)} (default: from the file name).")] = None,
           caption: Annotated[str, typer.Option(help="Text under the media.")] = "",
           server: Server = "http://127.0.0.1:8080", token: Token = None,
           store: Store = None) -> None:
    """Upload a file (resumable, with a progress bar on stderr) and send it to a chat.

    Prints the stored message as JSON. With --store the upload and the send go through
    the outbox: an interrupted run resumes the upload where the server is, next time."""
    kind = kind or guess_kind(file)
    if kind not in KINDS:
        raise typer.BadParameter(f"--kind must be one of {', '.join(KINDS)}")
    try:
        message = asyncio.run(_upload(server, token, store, chat_id, file, kind, caption,
                                      file.stat().st_size))
    except ApiError as err:
        typer.echo(f"refused: {err}", err=True)
        raise typer.Exit(1) from err
    typer.echo(orjson.dumps(message).decode())


async def _upload(server: str, token: str | None, store: Path | None, chat_id: int,
                  file: Path, kind: str, caption: str, size: int) -> dict[str, object]:
    bar = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn(),
                   console=Console(stderr=True))
    task = bar.add_task(file.name, total=size)

    def progress(sent: int, total: int) -> None:
        bar.update(task, completed=sent, total=total)

    async with Client(server, token, store=store or ":memory:") as client:
        with bar:
            if store is None:
                media_id = await client.upload(file, kind, progress=progress)
                return (await client.send_now(chat_id, caption, media_id=media_id,
                                              kind=kind)).raw
            client_id = await client.send_file(chat_id, file, kind=kind, caption=caption,
                                               progress=progress)
            await client.flush(timeout=None)
        refused = [p for p in await client.pending() if p.client_id == client_id]
        if refused:
            raise ApiError(422, refused[0].error or "refused", "the server refused it")
        return {"client_id": client_id, "chat_id": chat_id, "kind": kind}


def listen(server: Server = "http://127.0.0.1:8080", token: Token = None, store: Store = None,
           count: Annotated[int, typer.Option(help="Stop after this many events (0: never).")]
           = 0) -> None:
    """Print live events as JSON lines (`{"type", "cursor", ...}`), resuming from --store."""
    try:
        asyncio.run(_listen(server, token, store, count))
    except KeyboardInterrupt:
        pass


async def _listen(server: str, token: str | None, store: Path | None, count: int) -> None:
    async with Client(server, token, store=store or ":memory:") as client:
        seen = 0
        async for event in client.events():
            sys.stdout.write(orjson.dumps({**event.data, "type": event.type,
                                           "cursor": event.cursor}).decode() + "\n")
            sys.stdout.flush()
            seen += 1
            if count and seen >= count:
                return


def chat(server: Server = "http://127.0.0.1:8080", token: Token = None,
         store: Store = None) -> None:
    """The terminal client: sign in, pick a chat, talk."""
    from darbuka.client.tui import ChatApp

    path = store or Path.home() / ".local" / "share" / "darbuka" / "device.db"
    ChatApp(Client(server, token, store=path)).run()


def search(query: Annotated[str, typer.Argument(help="Words to find (each a word's start).")],
           chat_id: Annotated[int | None, typer.Option(help="Only in this chat.")] = None,
           limit: Annotated[int, typer.Option(min=1, max=50)] = 20,
           as_json: Annotated[bool, typer.Option("--json", help="JSON lines, as the API.")]
           = False,
           server: Server = "http://127.0.0.1:8080", token: Token = None) -> None:
    """Messages you may see, newest first: `chat:seq  text` with the matches [marked]."""
    try:
        found = asyncio.run(_search(server, token, query, chat_id, limit))
    except ApiError as err:
        typer.echo(f"refused: {err}", err=True)
        raise typer.Exit(1) from err
    for hit in found.messages:
        if as_json:
            typer.echo(orjson.dumps({"message": hit.message.raw,
                                     "ranges": hit.ranges}).decode())
        else:
            typer.echo(f"{hit.message.chat_id}:{hit.message.seq}  {hit.marked()}")
    if not found.messages:
        typer.echo("nothing found", err=True)


async def _search(server: str, token: str | None, query: str, chat_id: int | None,
                  limit: int) -> SearchResults:
    api = HttpApi(server, token)
    try:
        return await api.search(query, chat_id=chat_id, limit=limit)
    finally:
        await api.aclose()


@contacts.command("import")
def import_contacts(file: Annotated[str, typer.Argument(
                        help="One phone number per line, as written ('-' reads stdin).")],
                    server: Server = "http://127.0.0.1:8080", token: Token = None) -> None:
    """Look the numbers up and print each match as a JSON line (`{"phone", "user"}`); the
    counts (found, malformed, duplicates, held back by the quota) go to stderr."""
    text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    phones = [line.strip() for line in text.splitlines() if line.strip()]
    try:
        found = asyncio.run(_import_contacts(server, token, phones))
    except ApiError as err:
        wait = f" (try again in {err.retry_after:.0f} s)" if err.retry_after else ""
        typer.echo(f"refused: {err}{wait}", err=True)
        raise typer.Exit(1) from err
    for match in found.users:
        typer.echo(orjson.dumps({"phone": match.phone, "user": match.user.raw}).decode())
    typer.echo(f"found {len(found.users)}, malformed {found.malformed}, duplicates "
               f"{found.duplicates}, held back {found.limited}", err=True)


async def _import_contacts(server: str, token: str | None, phones: list[str]) -> ContactImport:
    api = HttpApi(server, token)
    try:
        return await api.import_contacts(phones)
    finally:
        await api.aclose()
