"""`darbuka admin import-telegram`: a Telegram Desktop export (written here: result.json, a
real PNG, a real OGG/Opus voice note, a file) becomes a group with its history; a banked
picture is reported and not imported; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from darbuka.cli import app as cli
from darbuka.safety.perceptual import pdq_of
from darbuka.services.imports import BATCH, ImportService
from tests.conftest import LiveServer, make_server
from tests.helpers import Api
from tests.media_helpers import make_audio
from tests.test_mediasafety import encoded, photo

T0 = 1_619_863_200  # 2021-05-01 10:00 UTC


@pytest.fixture
def live(database_url: str, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("DARBUKA_DATABASE_URL", database_url)
    server = make_server(database_url, tmp_path / "data")
    yield server
    server.thread.stop()


def admin(live: LiveServer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["admin", *args, "--data-dir",
                                      str(live.settings.data_dir)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def message(n: int, who: str | None, text: Any, **extra: Any) -> dict[str, Any]:
    names = {"user1": "Alice Old", "user2": "Bob Old", "user3": "Zed Unknown"}
    return {"id": n, "type": "message", "date": "2021-05-01T10:00:00",
            "date_unixtime": str(T0 + n * 60), "from": names.get(who or ""), "from_id": who,
            "text": text, **extra}


def write_export(folder: Path) -> None:
    (folder / "photos").mkdir(parents=True)
    (folder / "voice_messages").mkdir()
    (folder / "files").mkdir()
    (folder / "photos" / "photo_1.png").write_bytes(encoded(photo("astronaut"), "PNG"))
    (folder / "photos" / "photo_2.png").write_bytes(encoded(photo("coffee"), "PNG"))
    (folder / "voice_messages" / "audio_1.ogg").write_bytes(make_audio("ogg", "libopus"))
    (folder / "files" / "notes.txt").write_bytes(b"shopping: bread, milk\n")
    messages = [
        {"id": 1, "type": "service", "date": "2021-05-01T10:00:00", "actor": "Alice Old",
         "actor_id": "user1", "action": "create_group", "text": ""},
        # Offsets of the markup count UTF-16 units: the emoji before the bold is two.
        message(2, "user1", ["🎉 Hello ", {"type": "bold", "text": "world"}, ", see ",
                             {"type": "text_link", "text": "this",
                              "href": "https://example.org/x"},
                             " and ", {"type": "code", "text": "x = 1"}, " ",
                             {"type": "mention", "text": "@bobby_here"}, " ",
                             {"type": "hashtag", "text": "#tag"}]),
        message(3, "user3", "hi from someone nobody here knows", edited="2021-05-02T10:00:00",
                edited_unixtime=str(T0 + 86_400)),
        message(4, "user3", "a photo caption", photo="photos/photo_1.png", width=512,
                height=512),
        message(5, "user2", "", file="voice_messages/audio_1.ogg", media_type="voice_message",
                mime_type="audio/ogg", duration_seconds=1),
        message(6, "user1", [{"type": "italic", "text": "my notes"}], file="files/notes.txt",
                file_name="notes.txt", mime_type="text/plain"),
        message(7, "user3", "", photo="photos/photo_2.png"),
        message(8, "user2", "a reply", reply_to_message_id=2),
        message(9, "user2", "", file="(File not included. Change data exporting settings "
                "to download.)", media_type="video_file"),
    ]
    (folder / "result.json").write_bytes(orjson.dumps({
        "name": "Old friends", "type": "private_group", "id": 4242, "messages": messages}))


def test_a_telegram_export_becomes_a_group_once(live: LiveServer, tmp_path: Path) -> None:
    alice = live.sign_up("Alice", phone="+447700900101")
    bob = live.sign_up("Bob", phone="+447700900102")
    bob.ok("PATCH", "/me", json={"username": "bobby_here"})
    folder = tmp_path / "ChatExport_2021-05-03"
    write_export(folder)
    banned = tmp_path / "banned.csv"
    banned.write_text("signal_type,hash\npdq," + pdq_of(photo("coffee"))[0].hex() + "\n")
    assert admin(live, "safety", "create-bank", "tcap", "--action", "refuse")[0] == 0
    assert admin(live, "safety", "import-bank", str(banned), "--bank", "tcap")[0] == 0

    args = ("import-telegram", str(folder), "--as-group", "--owner", "+447700900101",
            "--author", "user1=+447700900101", "--author", "user2=@bobby_here")
    cursor = bob.sync()["cursor"]
    code, out = admin(live, *args)
    assert code == 0, out
    # What the command wrote is in the members' streams, as any send is.
    events, _ = bob.sync_all(cursor)
    assert [e["type"] for e in events].count("message.new") == 6
    assert events[0]["type"] == "chat.created"
    assert "6 messages imported, 0 already imported, 1 refused, 2 skipped" in out, out
    assert "refused: message 7: this file cannot be shared here" in out
    assert "skipped: message 1: a service note" in out
    assert "skipped: message 9: File not included" in out

    chat = next(c for c in alice.ok("GET", "/chats")["chats"] if c["title"] == "Old friends")
    assert chat["kind"] == "group"
    assert chat["role"] == "owner"
    history = [m for m in alice.history(chat["id"]) if "system" not in m]
    assert [m["text"] for m in history] == [
        "🎉 Hello world, see this and x = 1 @bobby_here #tag",
        "hi from someone nobody here knows", "a photo caption", "", "my notes", "a reply"]
    hello, unknown, pic, voice, notes, reply = history
    assert "kind" not in hello
    assert hello["sender_id"] == alice.id
    assert hello["created_at"] == (T0 + 120) * 1000  # the Telegram date, kept
    assert hello["markup"] == [
        {"type": "strong", "from": 9, "length": 5},
        {"type": "link", "from": 20, "length": 4, "url": "https://example.org/x"},
        {"type": "monospaced", "from": 29, "length": 5},
        {"type": "user_mention", "from": 35, "length": 11, "user_id": bob.id}]
    assert unknown["edited_at"] == (T0 + 86_400) * 1000
    # An author nobody matched: a placeholder with the name, a member, nobody signs in as it.
    zed = alice.ok("GET", f"/users/{unknown['sender_id']}")
    assert zed["display_name"] == "Zed Unknown"
    assert pic["sender_id"] == unknown["sender_id"]
    assert pic["kind"] == "photo"
    assert alice.ok("GET", f"/media/{pic['media']['id']}")["state"] == "ready"
    assert voice["kind"] == "voice"
    assert voice["sender_id"] == bob.id
    assert voice["media"]["duration"] >= 0.9
    assert notes["kind"] == "file"
    assert notes["media"]["name"] == "notes.txt"
    assert notes["markup"] == [{"type": "emphasized", "from": 0, "length": 8}]
    assert reply["reply_to"] == hello["id"]
    # Bob (matched by @username) is in the chat and sees the history.
    assert [m["id"] for m in bob.history(chat["id"])] == [m["id"] for m in
                                                          alice.history(chat["id"])]
    members = alice.ok("GET", f"/chats/{chat['id']}/members")["members"]
    assert {m["user_id"] for m in members} == {alice.id, bob.id, zed["id"]}

    # Again: nothing is doubled.
    before = alice.history(chat["id"])
    code, out = admin(live, *args)
    assert code == 0, out
    assert f"chat {chat['id']} (existing): 0 messages imported, 9 already imported" in out
    assert alice.history(chat["id"]) == before
    assert len([c for c in alice.ok("GET", "/chats")["chats"]
                if c["title"] == "Old friends"]) == 1


def test_a_run_that_stopped_goes_on_and_bad_input_is_one_line(live: LiveServer,
                                                              tmp_path: Path) -> None:
    alice = live.sign_up("Alice", phone="+447700900111")
    folder = tmp_path / "export"
    write_export(folder)
    whole = orjson.loads((folder / "result.json").read_bytes())
    part = {**whole, "messages": whole["messages"][:4]}
    (folder / "result.json").write_bytes(orjson.dumps(part))
    args = ("import-telegram", str(folder), "--as-channel", "--owner", "+447700900111")
    code, out = admin(live, *args)
    assert code == 0, out
    assert "(new): 3 messages imported" in out
    (folder / "result.json").write_bytes(orjson.dumps(whole))
    code, out = admin(live, *args)
    assert code == 0, out
    assert "(existing): 4 messages imported, 4 already imported, 0 refused, 1 skipped" in out
    chat = next(c for c in alice.ok("GET", "/chats")["chats"] if c["title"] == "Old friends")
    assert chat["kind"] == "channel"
    posts = [m for m in alice.history(chat["id"]) if "system" not in m]
    assert len(posts) == 7
    assert {m["sender_id"] for m in posts} == {alice.id}  # a channel's posts are its own
    assert [m["seq"] for m in posts] == sorted(m["seq"] for m in posts)

    code, out = admin(live, "import-telegram", str(folder), "--as-group", "--owner",
                      "+447700900999")
    assert code == 2
    assert "no account +447700900999 here" in out
    code, out = admin(live, "import-telegram", str(tmp_path), "--as-group", "--owner",
                      "+447700900111")
    assert code == 2
    assert "no result.json here" in out
    code, out = admin(live, "import-telegram", str(folder), "--owner", "+447700900111")
    assert code == 2
    assert "say --as-channel or --as-group" in out


def test_a_run_cut_short_goes_on_where_it_stopped(live: LiveServer, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    alice = live.sign_up("Alice", phone="+447700900121")
    folder = tmp_path / "export"
    folder.mkdir()
    many = [message(n, "user1", f"message {n}") for n in range(1, BATCH * 2 + 31)]
    (folder / "result.json").write_bytes(orjson.dumps(
        {"name": "Long chat", "type": "private_group", "id": 77, "messages": many}))
    stored = ImportService._store
    calls = 0

    async def dies_on_the_second_batch(self: ImportService, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError("the machine went down")
        return await stored(self, *args)

    monkeypatch.setattr(ImportService, "_store", dies_on_the_second_batch)
    args = ("import-telegram", str(folder), "--as-group", "--owner", "+447700900121")
    with pytest.raises(OSError, match="went down"):
        admin(live, *args)
    chat = next(c for c in alice.ok("GET", "/chats")["chats"] if c["title"] == "Long chat")
    assert len(_texts(alice, chat["id"])) == BATCH

    monkeypatch.setattr(ImportService, "_store", stored)
    code, out = admin(live, *args)
    assert code == 0, out
    assert f"{BATCH + 30} messages imported, {BATCH} already imported" in out
    assert _texts(alice, chat["id"]) == [f"message {n}" for n in range(1, BATCH * 2 + 31)]


def _texts(api: Api, chat_id: int) -> list[str]:
    texts: list[str] = []
    before: int | None = None
    while page := api.history(chat_id, limit=100, **({"before": before} if before else {})):
        texts = [m["text"] for m in page if "system" not in m] + texts
        before = page[0]["seq"]
    return texts
