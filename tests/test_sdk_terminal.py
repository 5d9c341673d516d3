"""The terminal client (headless, Textual's pilot) and the `send` / `listen` commands."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ListView, Static

from darbuka.client import Client
from darbuka.client.tui import ChatApp, MessageLine, parse_mute
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

ROOT = Path(__file__).resolve().parent.parent


async def settle(pilot: Pilot[None], predicate: Callable[[], object], what: str,
                 wait_s: float = 10.0) -> None:
    deadline = time.monotonic() + wait_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def log_lines(app: ChatApp) -> list[str]:
    return [(str(item.label.content)) for item in app.query_one("#log", ListView).children
            if isinstance(item, MessageLine)]


async def test_sign_in_open_chat_and_talk(server: LiveServer, alice: Api, bob: Api,
                                          tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.group, "Terminal", [bob])
    await asyncio.to_thread(bob.send, chat["id"], "hello [b]terminal[/b]")
    app = ChatApp(Client(server.url, store=tmp_path / "device.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#phone")
        await pilot.press(*alice.user["phone"], "enter")
        phone = alice.user["phone"]
        await settle(pilot, lambda: not app.screen.query_one("#code").disabled, "the code box")
        await pilot.press(*server.codes.codes[phone], "enter")
        chats = app.query_one("#chats", ListView)
        await settle(pilot, lambda: len(chats.children) == 1, "the chat list")
        await settle(pilot, lambda: app.client.state == "online", "the connection")
        chats.focus()
        await pilot.press("enter")
        # Markup in a message is shown as typed, never interpreted.
        await settle(pilot, lambda: "Bob: hello [b]terminal[/b]" in log_lines(app),
                     "bob's message")
        await pilot.press(*"hi bob", "enter")
        await settle(pilot, lambda: "you: hi bob" in " ".join(log_lines(app)), "my line")
        await settle(pilot, lambda: "you: hi bob" in log_lines(app) and not app.pending,
                     "the pending mark to clear")
        history = await asyncio.to_thread(bob.history, chat["id"])
        assert history[-1]["text"] == "hi bob"
        assert history[-1]["sender_id"] == alice.id
        live = await asyncio.to_thread(bob.send, chat["id"], "live one")
        await settle(pilot, lambda: "Bob: live one" in log_lines(app), "a live message")
        assert "online" in str(app.query_one("#status").content)
        # What the open chat shows is read; a message to another chat is only delivered.
        await settle(pilot, lambda: _marks(bob, chat["id"], alice.id)[0] >= live["seq"],
                     "the read mark")
        other = await asyncio.to_thread(alice.group, "Elsewhere", [bob])
        elsewhere = await asyncio.to_thread(bob.send, other["id"], "not open")

        def delivered_not_read() -> bool:
            read, delivered = _marks(bob, other["id"], alice.id)
            return delivered >= elsewhere["seq"] > read

        await settle(pilot, delivered_not_read, "the delivered mark")


def _marks(api: Api, chat_id: int, user_id: int) -> tuple[int, int]:
    """(read, delivered) of a member, as the member list says."""
    for member in api.ok("GET", f"/chats/{chat_id}/members")["members"]:
        if member["user_id"] == user_id:
            return member["last_read_seq"], member["last_delivered_seq"]
    raise AssertionError("not a member")


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "darbuka", *args], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=os.environ | {"PYTHONPATH": str(ROOT / "src")})


def test_send_and_listen_commands(server: LiveServer, alice: Api, bob: Api,
                                  tmp_path: Path) -> None:
    chat_id = alice.group("cli", [bob])["id"]
    assert bob.token is not None
    listener = _cli("listen", "--server", server.url, "--token", bob.token, "--count", "2")
    assert listener.stdout is not None
    first = orjson.loads(listener.stdout.readline())  # a new listener starts with a reset
    assert first["type"] == "reset"
    assert alice.token is not None
    sent = _cli("send", "--server", server.url, "--token", alice.token, str(chat_id),
                "from the shell")
    out, err = sent.communicate(timeout=30)
    assert sent.returncode == 0, err
    assert orjson.loads(out)["text"] == "from the shell"
    event = orjson.loads(listener.stdout.readline())
    assert event["type"] == "message.new"
    assert event["message"]["text"] == "from the shell"
    assert listener.wait(10) == 0
    wait_until(lambda: bob.history(chat_id)[-1]["text"] == "from the shell")


def test_mute_words_parse_or_are_refused() -> None:
    assert parse_mute("") == (None, False)
    assert parse_mute(" 8h ") == (8 * 3600, False)
    assert parse_mute("30m mentions") == (1800, True)
    assert parse_mute("Mentions") == (None, True)
    for bad in ("soon", "1h 2h", "-1h", "8 h"):
        with pytest.raises(ValueError, match="not a mute choice"):
            parse_mute(bad)


async def test_mute_command_and_drafts_in_the_terminal(server: LiveServer, alice: Api,
                                                       bob: Api, tmp_path: Path) -> None:
    first = await asyncio.to_thread(alice.group, "First", [bob])
    second = await asyncio.to_thread(alice.group, "Second", [bob])
    await asyncio.to_thread(alice.ok, "PUT", f"/chats/{first['id']}/draft",
                            json={"text": "from my phone"})
    app = ChatApp(Client(server.url, alice.token, store=tmp_path / "device.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        chats = app.query_one("#chats", ListView)
        await settle(pilot, lambda: len(chats.children) == 2, "the chat list")
        compose = app.query_one("#compose", Input)
        await _open(pilot, app, first["id"])
        await settle(pilot, lambda: compose.value == "from my phone", "the draft restored")
        compose.value = ""
        await pilot.press(*"/mute 1h mentions", "enter")
        await settle(pilot, lambda: _listed(alice, first["id"]).get("mute"), "the mute")
        assert _listed(alice, first["id"])["mute"]["mentions"] is True
        await settle(pilot, lambda: any("🔕 First" in _title(item) for item in chats.children),
                     "the muted mark")
        await pilot.press(*"half typed")
        await _open(pilot, app, second["id"])
        await settle(pilot, lambda: _listed(alice, first["id"]).get("draft", {}).get("text")
                     == "half typed", "the draft kept")
        assert compose.value == ""  # the second chat has none
        await pilot.press(*"/unmute", "enter")
        await settle(pilot, lambda: "mute" not in _listed(alice, second["id"]), "no mute")
        await pilot.press(*"/mute soon", "enter")
        await pilot.pause(0.2)
        assert "mute" not in _listed(alice, second["id"])


async def _open(pilot: Pilot[None], app: ChatApp, chat_id: int) -> None:
    """Pick a chat in the list, again if events redrew the list under the key press."""
    chats = app.query_one("#chats", ListView)
    deadline = time.monotonic() + 10
    while app.chat_id != chat_id:
        assert time.monotonic() < deadline, "the chat did not open"
        ids = [item.chat_id for item in chats.children]  # type: ignore[attr-defined]
        if chat_id in ids:
            chats.focus()
            chats.index = ids.index(chat_id)
            await pilot.press("enter")
        await pilot.pause(0.1)


def _listed(api: Api, chat_id: int) -> dict[str, Any]:
    chats: list[dict[str, Any]] = api.ok("GET", "/chats")["chats"]
    return next(c for c in chats if c["id"] == chat_id)


def _title(item: object) -> str:
    return str(item.query_one(Static).content)  # type: ignore[attr-defined]  # a ChatItem
