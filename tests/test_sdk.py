"""The SDK against a live server: sign-in, chats, history, the outbox and live events."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from darbuka.client import ApiError, Backoff, Client, Event, EventStream
from tests.conftest import LiveServer
from tests.helpers import Api


async def next_event(events: EventStream, kind: str, wait_s: float = 10.0) -> Event:
    async with asyncio.timeout(wait_s):
        async for event in events:
            if event.type == kind:
                return event
    raise AssertionError("events ended")


async def test_sign_in_send_and_receive(server: LiveServer, bob: Api, tmp_path: Path) -> None:
    phone = "+447700900123"
    async with Client(server.url, store=tmp_path / "state.db") as anon:
        await anon.request_code(phone)
        me = await anon.sign_in(phone, server.codes.codes[phone], device_name="sdk test")
        assert me.id > 0
    async with Client(server.url, store=tmp_path / "state.db") as client:  # token from the file
        chat = await client.create_group("SDK", [bob.id])
        assert [c.id for c in await client.chats()] == [chat.id]
        events = client.events()
        client_id = await client.send(chat.id, "hello from the SDK")
        await client.flush(timeout=10)
        assert await client.pending() == []
        event = await next_event(events, "message.new")
        assert event.data["message"]["text"] == "hello from the SDK"
        assert event.data["message"]["client_id"] == client_id
        bob.send(chat.id, "hi back")
        reply = await next_event(events, "message.new")
        assert reply.data["message"]["sender_id"] == bob.id
        history = await client.history(chat.id)
        assert [m.text for m in history][-2:] == ["hello from the SDK", "hi back"]


async def test_refused_send_is_marked_not_retried(server: LiveServer, alice: Api,
                                                  tmp_path: Path) -> None:
    async with Client(server.url, alice.token) as client:
        await client.send(999_999, "to nowhere")
        await client.flush(timeout=10)
        (item,) = await client.pending()
        assert item.error == "chat_not_found"
        with pytest.raises(ApiError) as err:
            await client.chat(999_999)
        assert err.value.status == 404


async def test_events_resume_from_the_saved_cursor(server: LiveServer, alice: Api, bob: Api,
                                                   tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.group, "resume", [bob])
    store = tmp_path / "bob.db"
    async with Client(server.url, bob.token, store=store) as client:
        events = client.events()
        assert (await next_event(events, "reset")).chats[0].id == chat["id"]
        await asyncio.to_thread(alice.send, chat["id"], "seen")
        assert (await next_event(events, "message.new")).data["message"]["text"] == "seen"
    # Closed: what happens now is fetched on the next start, after the last event handled.
    for text in ("missed 1", "missed 2"):
        await asyncio.to_thread(alice.send, chat["id"], text)
    async with Client(server.url, bob.token, store=store) as client:
        events = client.events()
        first = await next_event(events, "message.new")
        second = await next_event(events, "message.new")
        assert [first.data["message"]["text"], second.data["message"]["text"]] == [
            "missed 1", "missed 2"]


def test_backoff_is_full_jitter() -> None:
    backoff = Backoff(base=0.5, cap=4.0)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(0 <= d <= 4.0 for d in delays)
    assert max(delays[:1]) <= 0.5
    assert max(delays[10:]) > 2.0  # past the cap's doubling, waits spread up to the cap
    assert min(delays[10:]) < 1.0
