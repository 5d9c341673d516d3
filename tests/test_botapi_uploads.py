"""Bot API uploads over plain HTTP: tickets that cannot be forged or reused, tokens up
front for audio, bad files refused, and media arriving at bots as attachments."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.botapi_helpers import BotApi, make_bot
from tests.conftest import LiveServer, make_server
from tests.helpers import Api
from tests.media_helpers import make_wav, png, upload_ready


def _chat_with(alice: Api, bot: BotApi) -> int:
    chat_id: int = alice.group("with a bot", [])["id"]
    alice.ok("POST", f"/chats/{chat_id}/members", json={"user_ids": [bot.id]})
    return chat_id


def test_upload_tickets_are_signed_and_single_use(server: LiveServer) -> None:
    bot = make_bot(server, "Uploader")
    url = bot.call("POST", "/uploads", params={"type": "image"})["url"]
    assert "access_token" not in url
    assert bot.token not in url
    base, _, ticket = url.rpartition("/")
    body, _, mac = ticket.partition(".")
    forged = f"{base}/{body}.{'A' * len(mac)}"
    files = {"data": ("a.png", png(), "image/png")}
    refused = httpx.post(forged, files=files)
    assert refused.status_code == 403
    assert refused.json()["code"] == "access.denied"
    assert httpx.post(url, files=files).status_code == 200
    again = httpx.post(url, files=files)
    assert again.status_code == 400  # one file per URL
    bad_type = bot.http.post("/uploads", params={"type": "hologram"})
    assert (bad_type.status_code, bad_type.json()["code"]) == (400, "proto.payload")


def test_audio_token_up_front_and_a_voice_message(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server, "Singer")
    chat_id = _chat_with(alice, bot)
    made = bot.call("POST", "/uploads", params={"type": "audio"})
    assert made["token"]
    # A raw body (not multipart) is taken as the file too.
    assert httpx.post(made["url"], content=make_wav()).status_code == 200
    sent = bot.call("POST", "/messages", params={"chat_id": chat_id}, json={
        "attachments": [{"type": "audio", "payload": {"token": made["token"]}}]})
    (attachment,) = sent["message"]["body"]["attachments"]
    assert attachment["type"] == "audio"
    assert attachment["payload"]["token"] == made["token"]
    assert alice.history(chat_id)[-1]["kind"] == "voice"


def test_bad_files_and_attachments_are_refused(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server, "Careless")
    chat_id = _chat_with(alice, bot)
    url = bot.call("POST", "/uploads", params={"type": "image"})["url"]
    wrong = httpx.post(url, files={"data": ("x.png", b"just some text, no picture" * 10)})
    assert 400 <= wrong.status_code < 500
    assert "code" in wrong.json()
    url = bot.call("POST", "/uploads", params={"type": "image"})["url"]
    token = next(iter(httpx.post(url, files={"data": ("a.png", png())}).json()["photos"]
                      .values()))["token"]
    two = bot.http.post("/messages", params={"chat_id": chat_id}, json={"attachments": [
        {"type": "image", "payload": {"token": token}},
        {"type": "image", "payload": {"token": token}}]})
    assert (two.status_code, two.json()["code"]) == (400, "attachment.not.supported")
    no_token = bot.http.post("/messages", params={"chat_id": chat_id}, json={
        "attachments": [{"type": "file", "payload": {}}]})
    assert no_token.status_code == 400
    # Someone else's upload cannot be sent by the bot.
    theirs = upload_ready(alice, png(), "photo", "mine.png")["id"]
    stolen = bot.http.post("/messages", params={"chat_id": chat_id}, json={
        "attachments": [{"type": "image", "payload": {"token": theirs}}]})
    assert 400 <= stolen.status_code < 500
    assert [m.get("kind") for m in alice.history(chat_id)
            if m.get("kind") not in ("system", None)] == []


def test_a_users_photo_reaches_the_bot_as_an_image(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server, "Viewer")
    chat_id = _chat_with(alice, bot)
    marker = bot.updates(timeout=0)["marker"]
    media = upload_ready(alice, png(120, 80), "photo", "p.png")
    alice.ok("POST", f"/chats/{chat_id}/messages", json={
        "client_id": "photo-1", "media_id": media["id"], "kind": "photo", "text": "look"})
    got = bot.updates(marker, timeout=5)["updates"]
    (created,) = [u for u in got if u["update_type"] == "message_created"]
    body = created["message"]["body"]
    assert body["text"] == "look"
    (image,) = body["attachments"]
    assert (image["type"], image["width"], image["height"]) == ("image", 120, 80)
    fetched = bot.http.get(image["payload"]["url"].removeprefix("/botapi"))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"


def test_a_file_over_the_bot_limit_is_refused(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, bot_upload_max_bytes=20_000)
    try:
        bot = make_bot(server, "Heavy")
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        big = httpx.post(url, files={"data": ("big.bin", b"x" * 200_000)})
        assert (big.status_code, big.json()["code"]) == (413, "too.large")
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        small = httpx.post(url, files={"data": ("small.bin", b"x" * 10_000)})
        assert small.status_code == 200
        assert small.json()["token"]
    finally:
        server.thread.stop()
