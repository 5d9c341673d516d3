"""Polls from the SDK (post, vote once per client id, results, close, the typed event) and
in the terminal client (shown with counts, `/vote`, kept current live)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from darbuka.client import ApiError, Client, poll_lines
from darbuka.client.tui import ChatApp
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.test_sdk_terminal import _open, log_lines, settle


async def test_post_vote_and_close_from_the_sdk(server: LiveServer, alice: Api,
                                                bob: Api) -> None:
    chat = await asyncio.to_thread(alice.group, "Team", [bob])
    a, b = Client(server.url, alice.token), Client(server.url, bob.token)
    try:
        message = await a.send_poll(chat["id"], "Lunch?", ["Pizza", "Soup"], anonymous=False)
        assert message.poll is not None
        assert (message.text, message.poll.options, message.poll.anonymous) == (
            "Lunch?", ("Pizza", "Soup"), False)
        client_id = new_client_id()
        voted = await b.vote(chat["id"], message.id, [1], client_id=client_id)
        assert (voted.counts, voted.voters, voted.mine) == ((0, 1), 1, (1,))
        again = await b.vote(chat["id"], message.id, [1], client_id=client_id)
        assert again.counts == (0, 1)  # the same vote, counted once
        seen = await a.poll_results(chat["id"], message.id)
        assert seen.voter_ids == ((), (bob.id,))
        closed = await a.close_poll(chat["id"], message.id)
        assert closed.closed is True
        with pytest.raises(ApiError) as refused:
            await b.vote(chat["id"], message.id, [0])
        assert (refused.value.status, refused.value.code) == (409, "poll_closed")
        quiz = await a.send_poll(chat["id"], "2 + 2?", ["3", "4"], correct_option=1,
                                 explanation="Count them")
        answered = await b.vote(chat["id"], quiz.id, [0])
        assert (answered.correct_option, answered.explanation) == (1, "Count them")
        lines = poll_lines(quiz.text, quiz.poll, answered)  # type: ignore[arg-type]
        assert lines[0] == "[quiz] 2 + 2?"
        assert lines[1].startswith(" * 1. 3  ")
        assert "4 ✓" in lines[2]
    finally:
        await a.aclose()
        await b.aclose()


async def test_the_terminal_shows_a_poll_and_votes(server: LiveServer, alice: Api, bob: Api,
                                                   tmp_path: Path) -> None:
    chat = await asyncio.to_thread(alice.group, "Terminal", [bob])
    poll = await asyncio.to_thread(alice.ok, "POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": "Tea or coffee?",
        "poll": {"options": ["Tea", "Coffee"]}})
    app = ChatApp(Client(server.url, bob.token, store=tmp_path / "device.db"))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.client.state == "online", "the connection")
        await _open(pilot, app, chat["id"])
        await settle(pilot, lambda: any("[anonymous poll] Tea or coffee?" in line
                                        for line in log_lines(app)), "the poll shown")
        await pilot.press(*"/vote 2", "enter")
        await settle(pilot, lambda: any("*" in line and "2. Coffee" in line and "100% (1)"
                                        in line for line in log_lines(app)), "my vote")
        # Someone else's vote comes live.
        await asyncio.to_thread(alice.ok, "POST",
                                f"/chats/{chat['id']}/messages/{poll['id']}/votes",
                                json={"client_id": new_client_id(), "options": [0]})
        await settle(pilot, lambda: any("1. Tea" in line and "50% (1)" in line
                                        for line in log_lines(app)), "the live count")
        await pilot.press(*"/vote x", "enter")
        await settle(pilot, lambda: any("/vote takes option numbers" in line
                                        for line in log_lines(app)), "the refusal")
