"""Markup in the SDK and the terminal client: sent with the outbox, read back in code
points, shown styled (never as console markup)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.text import Text
from textual.widgets import ListView

from darbuka.client import Client
from darbuka.client.models import Message
from darbuka.client.tui import ChatApp, MessageLine, styled
from darbuka.markup import from_code_points
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.test_sdk_terminal import settle

TEXT = "😀 مرحبا [b]bold[/b] site"
# In code points, as a Python program finds them; sent in UTF-16 code units.
SPANS = [{"type": "emphasized", "from": 2, "length": 5},
         {"type": "strong", "from": 8, "length": 11},
         {"type": "link", "from": 20, "length": 4, "url": "https://example.org"}]


async def test_the_sdk_sends_and_reads_markup(server: LiveServer, alice: Api, bob: Api,
                                              tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.direct, bob)
    wire = from_code_points(TEXT, SPANS)
    assert wire[0]["from"] == 3  # the emoji is two UTF-16 code units
    async with Client(server.url, alice.token, store=tmp_path / "device.db") as client:
        await client.send(chat["id"], TEXT, markup=wire)
        await client.send(chat["id"], "short", markup=[{"type": "strong", "from": 0,
                                                        "length": 9}])
        await client.flush(timeout=10)
        (refused,) = await client.pending()
        assert refused.error == "invalid_markup"
        (message,) = await client.history(chat["id"])
        assert message.markup == tuple(wire)
        assert message.markup_spans() == SPANS
        assert [TEXT[s["from"]:s["from"] + s["length"]] for s in message.markup_spans()] == [
            "مرحبا", "[b]bold[/b]", "site"]
        edited = await client.edit(chat["id"], message.id, "now plain")
        assert edited.markup == ()
        edited = await client.edit(chat["id"], message.id, "now 😀 bold",
                                   markup=[{"type": "strong", "from": 7, "length": 4}])
        assert edited.markup_spans() == [{"type": "strong", "from": 6, "length": 4}]


def test_the_terminal_styles_ranges_and_never_reads_console_markup(alice: Api,
                                                                   bob: Api) -> None:
    chat = alice.direct(bob)
    sent = alice.ok("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": TEXT, "markup": from_code_points(TEXT, SPANS)})
    line = styled(Message.from_json(sent))
    assert line.plain == TEXT  # "[b]" stays text
    spans = {(s.start, s.end): str(s.style) for s in line.spans}
    assert spans[(2, 7)] == "italic"
    assert spans[(8, 19)] == "bold"
    assert spans[(20, 24)].startswith("underline blue link https://example.org")


async def test_the_terminal_shows_a_styled_message(server: LiveServer, alice: Api, bob: Api,
                                                   tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.direct, bob)
    await asyncio.to_thread(bob.ok, "POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": TEXT, "markup": from_code_points(TEXT, SPANS)})
    app = ChatApp(Client(server.url, alice.token, store=tmp_path / "device.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        chats = app.query_one("#chats", ListView)
        await settle(pilot, lambda: len(chats.children) == 1, "the chat list")
        chats.focus()
        await pilot.press("enter")
        log = app.query_one("#log", ListView)

        def bold() -> list[tuple[int, int]] | None:
            """Where the shown line is bold, counted from the start of the message text."""
            for item in log.children:
                shown = item.label.content if isinstance(item, MessageLine) else None
                if isinstance(shown, Text) and TEXT in shown.plain:
                    prefix = shown.plain.index(TEXT)
                    return [(s.start - prefix, s.end - prefix) for s in shown.spans
                            if str(s.style) == "bold"]
            return None

        await settle(pilot, lambda: bold() is not None, "the message")
        assert bold() == [(8, 19)]
