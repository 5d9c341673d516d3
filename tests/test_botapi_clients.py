"""Real third-party bot libraries, unchanged, against our Bot API."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from maxapi import Bot, Dispatcher
from maxapi.enums.upload_type import UploadType
from maxapi.types import InputMedia, MessageCreated

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api
from tests.media_helpers import png


async def test_maxapi_echo_bot(server: LiveServer, alice: Api) -> None:
    echo = make_bot(server, "Echo")
    chat = await asyncio.to_thread(alice.ok, "POST", "/chats",
                                   json={"kind": "direct", "user_id": echo.id})
    bot = Bot(echo.token)
    bot.set_api_url(server.url + "/botapi")
    dp = Dispatcher()

    @dp.message_created()
    async def answer(event: MessageCreated) -> None:
        await event.message.answer(f"echo: {event.message.body.text}")

    polling = asyncio.create_task(dp.start_polling(bot))
    try:
        await asyncio.to_thread(alice.send, chat["id"], "ping")
        async with asyncio.timeout(20):
            while True:
                texts = [m.get("text") for m in await asyncio.to_thread(alice.history,
                                                                        chat["id"])]
                if "echo: ping" in texts:
                    break
                await asyncio.sleep(0.05)
        assert texts[-2:] == ["ping", "echo: ping"]
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot.close_session()


async def test_maxapi_bot_uploads_and_sends_a_photo(server: LiveServer, alice: Api,
                                                    tmp_path: Path) -> None:
    shooter = make_bot(server, "Shooter")
    chat = await asyncio.to_thread(alice.ok, "POST", "/chats",
                                   json={"kind": "direct", "user_id": shooter.id})
    photo = tmp_path / "view.png"
    photo.write_bytes(png(320, 200))
    bot = Bot(shooter.token)
    bot.set_api_url(server.url + "/botapi")
    try:
        # maxapi's own road: POST /uploads?type=image, multipart POST to the URL it got,
        # the token from the answer into the message's attachments.
        sent = await bot.send_message(chat_id=chat["id"], text="a view",
                                      attachments=[InputMedia(path=str(photo),
                                                              type=UploadType.IMAGE)])
        assert sent is not None
    finally:
        await bot.close_session()
    history = await asyncio.to_thread(alice.history, chat["id"])
    message = history[-1]
    assert (message["kind"], message["text"]) == ("photo", "a view")
    assert message["media"]["mime"] == "image/png"
    assert (message["media"]["width"], message["media"]["height"]) == (320, 200)
    # The bot sees its message with the photo as a TamTam image attachment it can fetch.
    got = await asyncio.to_thread(shooter.call, "GET", f"/messages/{message['id']}")
    (image,) = got["body"]["attachments"]
    assert image["type"] == "image"
    assert image["payload"]["token"] == message["media"]["id"]
    fetched = await asyncio.to_thread(shooter.http.get, image["payload"]["url"].removeprefix(
        "/botapi"))
    assert fetched.status_code == 200
    assert fetched.content[:8] == b"\x89PNG\r\n\x1a\n"
