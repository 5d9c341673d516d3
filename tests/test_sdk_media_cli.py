"""Media from the shell (`darbuka upload`, a real process) and from the terminal client
(`/file PATH` in the composer, driven by Textual's pilot)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from textual.widgets import Input, ListView

from darbuka.client import Client
from darbuka.client.tui import ChatApp
from tests.conftest import LiveServer
from tests.helpers import Api
from tests.media_helpers import jpeg
from tests.test_sdk_terminal import _cli, log_lines, settle


def test_upload_command_sends_a_photo_with_a_progress_bar(server: LiveServer, alice: Api,
                                                          bob: Api, tmp_path: Path) -> None:
    chat_id = alice.group("shell photos", [bob])["id"]
    photo = tmp_path / "sunset.jpg"
    photo.write_bytes(jpeg(640, 480))
    assert alice.token is not None
    run = _cli("upload", str(photo), "--chat", str(chat_id), "--caption", "from the shell",
               "--server", server.url, "--token", alice.token)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    message = orjson.loads(out)
    assert message["kind"] == "photo"
    assert message["text"] == "from the shell"
    assert message["media"]["mime"] == "image/jpeg"
    assert message["media"]["size"] == photo.stat().st_size
    assert "sunset.jpg" in err  # the progress bar (on stderr, so stdout stays JSON)
    assert f"{photo.stat().st_size / 1000:.1f}" in err  # its byte count at the end
    seen = bob.history(chat_id)[-1]
    assert (seen["id"], seen["kind"]) == (message["id"], "photo")


def test_upload_command_refuses_a_wrong_kind(server: LiveServer, alice: Api,
                                             tmp_path: Path) -> None:
    chat_id = alice.group("bad kinds", [])["id"]
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    assert alice.token is not None
    run = _cli("upload", str(text), "--chat", str(chat_id), "--kind", "photo",
               "--server", server.url, "--token", alice.token)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 1
    assert "refused: 415 unsupported_media_type" in err, err
    assert "Traceback" not in err
    assert all(m.get("kind") != "photo" for m in alice.history(chat_id))


async def test_terminal_sends_a_file(server: LiveServer, alice: Api, bob: Api,
                                     tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.group, "Files", [bob])
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n" + b"0" * 50_000 + b"\n%%EOF\n")
    app = ChatApp(Client(server.url, alice.token, store=tmp_path / "device.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        chats = app.query_one("#chats", ListView)
        await settle(pilot, lambda: len(chats.children) == 1, "the chat list")
        # A fresh device gets a reset on connecting, which reloads the list: wait for it.
        await settle(pilot, lambda: app.client.state == "online", "the connection")
        await settle(pilot, lambda: len(chats.children) == 1, "the chat list again")
        for _ in range(50):  # the reload may still be under way: press until it opens
            chats.focus()
            await pilot.press("enter")
            await pilot.pause(0.05)
            if app.chat_id == chat["id"]:
                break
        assert app.chat_id == chat["id"]
        await settle(pilot, lambda: app.focused is app.query_one("#compose", Input),
                     "the composer")
        await pilot.press(*f"/file {tmp_path}/missing.bin", "enter")
        await pilot.press(*f"/file {report}", "enter")
        await settle(pilot, lambda: "you: [file report.pdf]" in " ".join(log_lines(app)),
                     "the file line")
        await settle(pilot, lambda: not app.pending, "the upload and send to finish",
                     wait_s=30)
        history = [m for m in await asyncio.to_thread(bob.history, chat["id"])
                   if m.get("kind") != "system"]
        assert [m["kind"] for m in history] == ["file"]
        assert history[0]["media"]["name"] == "report.pdf"
        assert history[0]["media"]["size"] == report.stat().st_size
