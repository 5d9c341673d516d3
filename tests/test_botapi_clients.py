"""Real third-party bot libraries, unchanged, against our Bot API."""

from __future__ import annotations

import asyncio
import contextlib

from maxapi import Bot, Dispatcher
from maxapi.types import MessageCreated

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api


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
