"""Search from the SDK (`client.search`), the `darbuka search` command and the terminal
client's `/search`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import ListView
from typer.testing import CliRunner

from darbuka.cli import app as cli
from darbuka.client import Client
from darbuka.client.http import HttpApi
from darbuka.client.tui import ChatApp
from tests.conftest import LiveServer
from tests.helpers import Api
from tests.test_sdk_terminal import log_lines, settle


async def test_client_search_pages_and_gives_python_slices(server: LiveServer, alice: Api,
                                                           bob: Api) -> None:
    chat = await asyncio.to_thread(alice.group, "Café", [bob])
    first = await asyncio.to_thread(alice.send, chat["id"], "🎉 Crème brûlée tonight")
    second = await asyncio.to_thread(alice.send, chat["id"], "more CRÈME please")
    api = HttpApi(server.url, bob.token)
    try:
        page = await api.search("creme", limit=1)
        assert [h.message.id for h in page.messages] == [second["id"]]
        assert [c.title for c in page.chats] == []  # "creme" is no chat's name
        rest = await api.search("creme", before=page.next_before, chat_id=chat["id"])
        (hit,) = rest.messages
        assert hit.message.id == first["id"]
        assert [hit.message.text[a:b] for a, b in hit.spans()] == ["Crème"]
        assert hit.marked() == "🎉 [Crème] brûlée tonight"
        assert [c.id for c in (await api.search("cafe")).chats] == [chat["id"]]
    finally:
        await api.aclose()


def test_search_from_the_shell(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.group("Shell", [bob])
    message = alice.send(chat["id"], "the quarterly report is late")
    result = CliRunner().invoke(cli, ["search", "REPORT", "--server", server.url,
                                      "--token", bob.token or ""])
    assert result.exit_code == 0, result.output
    assert f"{chat['id']}:{message['seq']}  the quarterly [report] is late" in result.output
    outsider = server.sign_up("Eve")
    nothing = CliRunner().invoke(cli, ["search", "report", "--chat-id", str(chat["id"]),
                                       "--server", server.url, "--token", outsider.token or ""])
    assert nothing.exit_code == 1
    assert "no such chat" in nothing.output


async def test_terminal_client_searches_the_open_chat(server: LiveServer, alice: Api,
                                                      bob: Api, tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.group, "Terminal", [bob])
    await asyncio.to_thread(bob.send, chat["id"], "pick up [b]milk[/b] and bread")
    store = tmp_path / "device.db"
    app = ChatApp(Client(server.url, alice.token, store=store))
    async with app.run_test(size=(100, 30)) as pilot:
        chats = app.query_one("#chats", ListView)
        await settle(pilot, lambda: len(chats.children) == 1, "the chat list")
        chats.focus()
        await pilot.press("enter")
        await settle(pilot, lambda: any("bread" in line for line in log_lines(app)), "history")
        await pilot.press(*"/search milk", "enter")
        await settle(pilot, lambda: any("[milk]" in line for line in log_lines(app)),
                     "the search result")
        assert any("search 'milk': 1 found" in line for line in log_lines(app))
