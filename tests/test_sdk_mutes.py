"""The SDK's mute and draft calls, with their typed events on a second device of the same
person, against a live server."""

from __future__ import annotations

import pytest

from darbuka.client import ApiError, Client, Draft, Mute
from tests.conftest import LiveServer
from tests.test_sdk import next_event

PHONE = "+447700900321"


async def test_mute_and_draft_follow_a_person_to_their_other_device(server: LiveServer) -> None:
    phone, laptop = server.sign_up("Alice", phone=PHONE), server.sign_up(phone=PHONE)
    bob = server.sign_up("Bob")
    chat_id = bob.group("Club", [phone])["id"]
    # The second device listens from before it connects, so no event can pass it by.
    second = Client(server.url, laptop.token)
    events = second.events()
    await second.start()
    try:
        async with Client(server.url, phone.token) as first:
            await next_event(events, "reset")

            mute = await first.mute(chat_id, for_s=3600, mentions=True)
            assert mute.mentions
            assert mute.until is not None
            assert mute.holds_at(mute.until - 1)
            assert not mute.holds_at(mute.until)
            change = (await next_event(events, "mute.updated")).mute_change
            assert change is not None
            assert (change.chat_id, change.mute) == (chat_id, mute)
            listed = next(c for c in await second.chats() if c.id == chat_id)
            assert listed.mute == mute

            draft = await first.save_draft(chat_id, "half a thought")
            assert draft is not None
            assert draft.text == "half a thought"
            drafted = (await next_event(events, "draft.updated")).draft_change
            assert drafted is not None
            assert (drafted.chat_id, drafted.draft) == (chat_id, draft)
            assert next(c for c in await second.chats() if c.id == chat_id).draft == draft

            await first.send_now(chat_id, "half a thought, finished")
            cleared = (await next_event(events, "draft.updated")).draft_change
            assert cleared is not None
            assert (cleared.chat_id, cleared.draft) == (chat_id, None)

            await first.unmute(chat_id)
            unmuted = (await next_event(events, "mute.updated")).mute_change
            assert unmuted is not None
            assert unmuted.mute is None
            listed = next(c for c in await second.chats() if c.id == chat_id)
            assert (listed.mute, listed.draft) == (None, None)
            assert await first.save_draft(chat_id, " ") is None
    finally:
        await second.close()


async def test_refusals_arrive_as_api_errors(server: LiveServer) -> None:
    alice, mallory = server.sign_up("Alice"), server.sign_up("Mallory")
    chat_id = alice.group("Private", [])["id"]
    async with Client(server.url, mallory.token) as outsider, \
            Client(server.url, alice.token) as owner:
        with pytest.raises(ApiError) as refused:
            await outsider.mute(chat_id)
        assert (refused.value.status, refused.value.code) == (404, "chat_not_found")
        with pytest.raises(ApiError) as too_long:
            await owner.save_draft(chat_id, "x" * 4097)
        assert (too_long.value.status, too_long.value.code) == (400, "draft_too_long")
        with pytest.raises(ApiError) as too_short:
            await owner.mute(chat_id, for_s=1)
        assert too_short.value.code == "invalid_duration"
    assert Mute.from_json(None) is None
    assert Draft.from_json({"text": "a", "updated_at": 5}) == Draft("a", 5)
