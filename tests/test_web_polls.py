"""Polls in the web client, in a real browser: one made from the composer, voted on by
another person and counted live in the first browser without a reload; a quiz answered
wrong shows the right answer; a vote made offline waits in the outbox and goes once when
the link is back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from darbuka.storage.tables.polls import poll_ballots
from tests.browser import open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id, wait_until


def _open(page: Any, title: str) -> None:
    page.get_by_test_id("chat-list").get_by_text(title, exact=True).click()


def _counts(page: Any, question: str) -> list[str] | None:
    """The count shown beside each option of the poll asking `question`."""
    found: list[str] | None = page.evaluate(
        """(question) => {
            const poll = [...document.querySelectorAll("[data-testid=poll]")]
                .find(p => p.querySelector(".question")?.textContent === question);
            if (!poll) return null;
            return [...poll.querySelectorAll("[data-testid=poll-count]")]
                .map(c => c.textContent.trim());
        }""", question)
    return found


def _poll(page: Any, question: str) -> Any:
    return page.get_by_test_id("poll").filter(has_text=question)


async def _ballots(server: LiveServer, user_id: int) -> int:
    runtime = server.app.state.runtime
    async with runtime.db.read() as conn:
        found = await conn.execute(select(func.count()).where(
            poll_ballots.c.user_id == user_id))
    return int(found.scalar_one())


def test_a_poll_made_in_the_composer_counts_live(browser: Any, web_server: LiveServer) -> None:
    server = web_server
    alice, bob, carol = server.sign_up("Alice"), server.sign_up("Bob"), server.sign_up("Carol")
    group = alice.group("Band", [bob, carol])
    question = "Where do we play?"
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, server, alice)
        b = open_signed_in(b_ctx, server, bob)
        _open(a, "Band")
        _open(b, "Band")

        a.get_by_test_id("poll-button").click()
        sheet = a.get_by_test_id("poll-create")
        sheet.get_by_label("Question").fill(question)
        sheet.get_by_label("Option 1", exact=True).fill("Garage")
        sheet.get_by_label("Option 2", exact=True).fill("Pub")
        sheet.get_by_role("button", name="Add an option").click()
        sheet.get_by_label("Option 3", exact=True).fill("Park")
        sheet.get_by_label("Show who voted for what").check()
        sheet.get_by_role("button", name="Create poll").click()
        sheet.wait_for(state="detached")

        stored = wait_until(lambda: next((m for m in alice.history(group["id"])
                                          if m.get("kind") == "poll"), None),
                            timeout=10, message="the poll stored")
        assert stored["text"] == question
        assert stored["poll"]["options"] == ["Garage", "Pub", "Park"]
        assert stored["poll"]["anonymous"] is False
        wait_until(lambda: _counts(a, question) == ["0% · 0"] * 3, timeout=10,
                   message="A sees the poll with no votes")

        # B votes in B's browser; A's counts change live, with no reload.
        _poll(b, question).get_by_role("button", name="Pub").click()
        wait_until(lambda: _counts(b, question) == ["0% · 0", "100% · 1", "0% · 0"],
                   timeout=10, message="B's vote counted")
        wait_until(lambda: _counts(a, question) == ["0% · 0", "100% · 1", "0% · 0"],
                   timeout=10, message="A sees B's vote live")
        _poll(a, question).get_by_text("Bob").wait_for()  # a public poll names its voters
        # Carol votes from elsewhere: both browsers follow.
        carol.ok("POST", f"/chats/{group['id']}/messages/{stored['id']}/votes",
                 json={"client_id": new_client_id(), "options": [0]})
        for page in (a, b):
            wait_until(lambda p=page: _counts(p, question) == ["50% · 1", "50% · 1", "0% · 0"],
                       timeout=10, message="Carol's vote live")
        _poll(a, question).get_by_test_id("poll-total").filter(has_text="2 votes").wait_for()

        # Alice closes it: B's poll shows closed and takes no more votes.
        _poll(a, question).get_by_role("button", name="Close poll").click()
        _poll(b, question).get_by_test_id("poll-closed").wait_for(timeout=10_000)
        assert _poll(b, question).get_by_role("button", name="Park").is_disabled()
    finally:
        a_ctx.close()
        b_ctx.close()


def test_a_quiz_shows_the_right_answer_after_voting(browser: Any,
                                                   web_server: LiveServer) -> None:
    server = web_server
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    chat = alice.direct(bob)
    question = "Capital of Australia?"
    alice.ok("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": question,
        "poll": {"options": ["Sydney", "Melbourne", "Canberra"], "quiz": True,
                 "correct_option": 2, "explanation": "Chosen as a compromise"}})
    ctx = browser.new_context()
    try:
        b = open_signed_in(ctx, server, bob)
        _open(b, "Alice")
        poll = _poll(b, question)
        poll.get_by_text("Quiz").wait_for()
        assert poll.get_by_text("Right answer").count() == 0  # not before answering
        poll.get_by_role("button", name="Sydney").click()
        poll.get_by_text("Wrong answer").wait_for(timeout=10_000)
        poll.get_by_text("Right answer").wait_for()
        poll.get_by_text("Chosen as a compromise").wait_for()
        assert poll.get_by_role("button", name="Canberra").is_disabled()  # answered once
    finally:
        ctx.close()


def test_an_offline_vote_goes_once_when_back_online(browser: Any,
                                                    web_server: LiveServer) -> None:
    server = web_server
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    group = alice.group("Band", [bob])
    question = "Rehearsal day?"
    poll = alice.ok("POST", f"/chats/{group['id']}/messages", json={
        "client_id": new_client_id(), "text": question,
        "poll": {"options": ["Monday", "Friday"]}})
    ctx = browser.new_context()
    try:
        b = open_signed_in(ctx, server, bob)
        _open(b, "Band")
        wait_until(lambda: _counts(b, question) == ["0% · 0", "0% · 0"], timeout=10,
                   message="the poll's results")
        ctx.set_offline(True)
        b.wait_for_selector("[data-testid=conn][data-state=offline]")
        _poll(b, question).get_by_role("button", name="Friday").click()
        _poll(b, question).get_by_test_id("poll-waiting").wait_for()
        assert _results(alice, poll)["counts"] == [0, 0]

        ctx.set_offline(False)
        wait_until(lambda: _results(alice, poll)["counts"] == [0, 1], timeout=20,
                   message="the vote sent when back online")
        _poll(b, question).get_by_test_id("poll-waiting").wait_for(state="detached",
                                                                   timeout=10_000)
        wait_until(lambda: _counts(b, question) == ["0% · 0", "100% · 1"], timeout=10,
                   message="B sees the counted vote")
        assert server.run_async(_ballots(server, bob.id)) == 1, "the vote was sent once"
        assert _results(alice, poll)["voters"] == 1
    finally:
        ctx.close()


def _results(api: Api, message: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(
        "GET", f"/chats/{message['chat_id']}/messages/{message['id']}/poll")
    return found
