"""The examples in docs/sdk.md and docs/bots.md, run as written against a live server."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import LiveServer
from tests.helpers import Api, wait_until
from tests.media_helpers import jpeg, png

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"<!-- example: ([\w-]+) -->\n```(\w+)\n(.*?)```", re.DOTALL)


def examples(doc: str) -> dict[str, str]:
    text = (ROOT / "docs" / doc).read_text()
    return {name: code for name, _lang, code in EXAMPLE.findall(text)}


def run(code: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=os.environ | {"PYTHONPATH": str(ROOT / "src")} | env)


def texts(api: Api, chat_id: int) -> list[str]:
    return [m.get("text", "") for m in api.history(chat_id)]


def test_sdk_guide_examples(server: LiveServer, alice: Api, bob: Api, tmp_path: Path) -> None:
    code = examples("sdk.md")
    assert set(code) == {"sdk-send", "sdk-listen", "sdk-upload", "sdk-social",
                         "sdk-social-events"}
    chat_id = alice.group("docs", [bob])["id"]
    env = {"DARBUKA_SERVER": server.url, "DARBUKA_TOKEN": alice.token or "",
           "DARBUKA_CHAT": str(chat_id)}
    out, err = run(code["sdk-send"], tmp_path, env).communicate(timeout=60)
    assert "signed in as Alice" in out, err
    assert f"{chat_id} group docs" in out
    assert texts(bob, chat_id)[-1] == "hello from the SDK"
    listener = run(code["sdk-listen"], tmp_path, env)
    assert listener.stdout is not None
    assert listener.stdout.readline().strip() == "listening"
    bob.send(chat_id, "heard you")
    out, err = listener.communicate(timeout=30)
    assert out.strip() == f"{bob.id}: heard you", err
    (tmp_path / "photo.jpg").write_bytes(jpeg(800, 600))
    out, err = run(code["sdk-upload"], tmp_path, env).communicate(timeout=120)
    assert "100%" in out, err
    assert out.strip().splitlines()[-1] == "photo image/jpeg the view", err
    assert bob.history(chat_id)[-1]["kind"] == "photo"


def test_sdk_social_examples(server: LiveServer, alice: Api, bob: Api, tmp_path: Path) -> None:
    code = examples("sdk.md")
    dora = server.sign_up("Dora", phone="+447700900002")  # the example's number
    chat_id = alice.group("social", [bob, dora])["id"]
    said = bob.send(chat_id, "hello")
    env = {"DARBUKA_SERVER": server.url, "DARBUKA_TOKEN": alice.token or "",
           "DARBUKA_CHAT": str(chat_id), "PYTHONIOENCODING": "utf-8"}
    out, err = run(code["sdk-social"], tmp_path, env).communicate(timeout=60)
    lines = out.splitlines()
    assert lines[:3] == ["on Darbuka: +447700900002 Dora", "malformed 1 duplicates 1 held back 0",
                         "last seen by contacts"], err
    assert alice.ok("GET", "/me/privacy")["group_add"] == "contacts"
    token = lines[3].removeprefix("invite ")
    assert dora.ok("GET", f"/invites/{token}")["chat"]["id"] == chat_id
    assert lines[4:] == ["reaction 👍 1"]
    listener = run(code["sdk-social-events"], tmp_path, env | {"DARBUKA_TOKEN": bob.token or ""})
    assert listener.stdout is not None
    assert listener.stdout.readline().strip() == "listening"
    alice.ok("PUT", f"/chats/{chat_id}/messages/{said['id']}/reactions", json={"emoji": "🎉"})
    out, err = listener.communicate(timeout=30)
    assert out.strip() == f"{alice.id} reacted 🎉 to {said['id']}", err


def test_bot_guide_examples(server: LiveServer, alice: Api, tmp_path: Path) -> None:
    code = examples("bots.md")
    assert set(code) == {"create-bot", "bot-http", "bot-maxapi", "bot-photo"}
    command = code["create-bot"].split()
    assert command[:3] == ["darbuka", "admin", "create-bot"]
    made = subprocess.run(
        [sys.executable, "-m", "darbuka", *command[1:3], "Echo"], cwd=tmp_path, text=True,
        capture_output=True, check=True,
        env=os.environ | {"PYTHONPATH": str(ROOT / "src"),
                          "DARBUKA_DATABASE_URL": server.settings.database_url,
                          "DARBUKA_DATA_DIR": str(server.settings.data_dir)})
    bot_id, token = int(made.stdout.split()[1]), made.stdout.strip().splitlines()[-1]
    for name in ("bot-http", "bot-maxapi"):
        chat_id = alice.group(name, [])["id"]
        alice.ok("POST", f"/chats/{chat_id}/members", json={"user_ids": [bot_id]})
        bot = run(code[name], tmp_path, {"DARBUKA_SERVER": server.url, "BOT_TOKEN": token})
        try:
            alice.send(chat_id, f"hi {name}")
            wait_until(lambda c=chat_id, n=name: f"echo: hi {n}" in texts(alice, c),
                       timeout=30, message=f"the {name} example to answer")
            if name == "bot-http":
                assert bot.wait(20) == 0
        finally:
            bot.kill()
            bot.communicate()
    chat_id = alice.group("bot-photo", [])["id"]
    alice.ok("POST", f"/chats/{chat_id}/members", json={"user_ids": [bot_id]})
    (tmp_path / "chart.png").write_bytes(png(300, 200))
    out, err = run(code["bot-photo"], tmp_path, {
        "DARBUKA_SERVER": server.url, "BOT_TOKEN": token,
        "CHAT_ID": str(chat_id)}).communicate(timeout=60)
    assert out.strip() == "image", err
    last = alice.history(chat_id)[-1]
    assert (last["kind"], last["text"], last["sender_id"]) == ("photo", "today's chart", bot_id)
