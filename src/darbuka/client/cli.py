"""`darbuka send`, `darbuka listen` and `darbuka chat`: the SDK from the shell.

The server and token come from flags or from DARBUKA_SERVER / DARBUKA_TOKEN.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from darbuka.client.client import Client

__all__ = ["register"]

Server = Annotated[str, typer.Option(envvar="DARBUKA_SERVER", help="Server URL.")]
Token = Annotated[str | None, typer.Option(envvar="DARBUKA_TOKEN",
                                           help="Device token (else the one in --store).")]
Store = Annotated[Path | None, typer.Option(
    help="This device's file (outbox, cursor, token); resumes where it left off.")]


def register(app: typer.Typer) -> None:
    app.command()(send)
    app.command()(listen)
    app.command()(chat)


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
