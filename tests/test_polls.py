"""Polls: single and multiple choice, anonymous and public, quizzes; votes counted once per
client id, changed and taken back; closed by hand and at their time; outsiders kept out;
live events; bad input refused with a code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id, wait_until


def _poll(api: Api, chat_id: int, question: str = "Lunch?", *, expect: int = 201,
          **poll: Any) -> dict[str, Any]:
    body = {"client_id": new_client_id(), "text": question,
            "poll": {"options": ["Pizza", "Soup", "Salad"], **poll}}
    response = api.call("POST", f"/chats/{chat_id}/messages", json=body)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def _vote(api: Api, message: dict[str, Any], options: list[int], *,
          client_id: str | None = None, expect: int = 200) -> dict[str, Any]:
    response = api.call("POST", f"/chats/{message['chat_id']}/messages/{message['id']}/votes",
                        json={"client_id": client_id or new_client_id(), "options": options})
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def _results(api: Api, message: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = api.ok(
        "GET", f"/chats/{message['chat_id']}/messages/{message['id']}/poll")
    return result


def _code(response: Any) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def _channel(owner: Api, subscribers: list[Api]) -> dict[str, Any]:
    chat: dict[str, Any] = owner.ok("POST", "/chats", json={"kind": "channel",
                                                            "title": "News"})
    owner.ok("POST", f"/chats/{chat['id']}/members",
             json={"user_ids": [s.id for s in subscribers]})
    return chat


def test_a_public_single_choice_poll(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob, carol])
    cursor = carol.sync()["cursor"]
    poll = _poll(alice, chat["id"], anonymous=False)
    assert poll["kind"] == "poll"
    assert poll["text"] == "Lunch?"
    assert poll["poll"] == {"options": ["Pizza", "Soup", "Salad"], "multiple": False,
                            "anonymous": False, "quiz": False}
    assert bob.history(chat["id"])[-1]["poll"] == poll["poll"]

    first = new_client_id()
    voted = _vote(bob, poll, [1], client_id=first)
    assert (voted["counts"], voted["voters"], voted["mine"]) == ([0, 1, 0], 1, [1])
    _vote(carol, poll, [0])
    changed = _vote(bob, poll, [0])  # changing a vote is allowed
    assert (changed["counts"], changed["mine"]) == ([2, 0, 0], [0])
    # The outbox sends the first vote again (its answer was lost): nothing changes back.
    again = _vote(bob, poll, [1], client_id=first)
    assert (again["counts"], again["mine"]) == ([2, 0, 0], [0])
    seen = _results(alice, poll)
    assert (seen["counts"], seen["voters"], seen["mine"]) == ([2, 0, 0], 2, [])
    assert seen["voter_ids"] == [[carol.id, bob.id], [], []]  # earliest first
    assert seen["closed"] is False

    taken_back = _vote(bob, poll, [])
    assert (taken_back["counts"], taken_back["voters"], taken_back["mine"]) == ([1, 0, 0], 1, [])

    events, _ = carol.sync_all(cursor)
    votes = [(e["user_id"], e["options"]) for e in events if e["type"] == "poll.vote"]
    assert votes == [(bob.id, [1]), (carol.id, [0]), (bob.id, [0]), (bob.id, [])]
    tallies = [e["counts"] for e in events if e["type"] == "poll.results"]
    assert tallies == [[0, 1, 0], [1, 1, 0], [2, 0, 0], [1, 0, 0]]  # the repeat told no one


def test_multiple_choice_counts_voters_once(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob, carol])
    poll = _poll(alice, chat["id"], multiple=True)
    _vote(bob, poll, [0, 2])
    result = _vote(carol, poll, [2])
    assert (result["counts"], result["voters"]) == ([1, 0, 2], 2)
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{poll['id']}/votes",
                          json={"client_id": new_client_id(), "options": [1, 1]})) == (
        400, "invalid_options")
    single = _poll(alice, chat["id"])
    refused = bob.call("POST", f"/chats/{chat['id']}/messages/{single['id']}/votes",
                       json={"client_id": new_client_id(), "options": [0, 1]})
    assert _code(refused) == (400, "invalid_options")


def test_an_anonymous_poll_names_nobody(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob, carol])
    poll = _poll(alice, chat["id"])  # anonymous unless told otherwise
    assert poll["poll"]["anonymous"] is True
    alice_cursor, bob_cursor = alice.sync()["cursor"], bob.sync()["cursor"]
    _vote(bob, poll, [2])
    seen = _results(alice, poll)
    assert seen["counts"] == [0, 0, 1]
    assert "voter_ids" not in seen
    alice_events, _ = alice.sync_all(alice_cursor)
    assert [e["type"] for e in alice_events] == ["poll.results"]
    assert "user_id" not in alice_events[0]
    # The voter's own devices hear what they chose.
    bob_events, _ = bob.sync_all(bob_cursor)
    assert [(e["type"], e.get("options")) for e in bob_events] == [
        ("poll.vote", [2]), ("poll.results", None)]


def test_a_quiz_tells_the_answer_only_to_who_answered(alice: Api, bob: Api,
                                                      carol: Api) -> None:
    chat = alice.group("Quiz night", [bob, carol])
    quiz = _poll(alice, chat["id"], "Capital of Australia?", quiz=True, correct_option=2,
                 explanation="Not Sydney!")
    assert "correct" not in quiz["poll"]
    assert "explanation" not in quiz["poll"]
    assert "correct_option" not in _results(bob, quiz)
    cursor = carol.sync()["cursor"]
    answered = _vote(bob, quiz, [0])
    assert (answered["correct_option"], answered["explanation"]) == (2, "Not Sydney!")
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{quiz['id']}/votes",
                          json={"client_id": new_client_id(), "options": [2]})) == (
        409, "quiz_answered")
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{quiz['id']}/votes",
                          json={"client_id": new_client_id(), "options": []})) == (
        409, "quiz_answered")
    assert "correct_option" not in _results(carol, quiz)
    events, _ = carol.sync_all(cursor)
    assert all("correct_option" not in e for e in events)
    closed = alice.ok("POST", f"/chats/{chat['id']}/messages/{quiz['id']}/poll/close")
    assert closed["closed"]
    assert closed["correct_option"] == 2
    assert _results(carol, quiz)["correct_option"] == 2  # closed: everyone may know
    events, _ = carol.sync_all(cursor)
    assert events[-1]["type"] == "poll.results"
    assert events[-1]["correct_option"] == 2


def test_closing_by_hand(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob, carol])
    poll = _poll(alice, chat["id"])
    close = f"/chats/{chat['id']}/messages/{poll['id']}/poll/close"
    assert _code(bob.call("POST", close)) == (403, "cannot_close_poll")
    _vote(bob, poll, [1])
    closed = alice.ok("POST", close)
    assert closed["closed"] is True
    assert closed["counts"] == [0, 1, 0]
    assert _code(alice.call("POST", close)) == (409, "poll_closed")
    assert _code(carol.call("POST", f"/chats/{chat['id']}/messages/{poll['id']}/votes",
                            json={"client_id": new_client_id(), "options": [0]})) == (
        409, "poll_closed")
    assert bob.history(chat["id"])[-1]["poll"]["closed_at"] > 0
    # A group's admin closes any poll of the group.
    alice.ok("PATCH", f"/chats/{chat['id']}/members/{bob.id}", json={"role": "admin"})
    theirs = _poll(carol, chat["id"])
    assert bob.ok("POST", f"/chats/{chat['id']}/messages/{theirs['id']}/poll/close")["closed"]


def test_a_poll_closes_at_its_time(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.group("Team", [bob])
    close_at = server.clock.now_ms() + 1500
    poll = _poll(alice, chat["id"], close_at=close_at)
    assert poll["poll"]["close_at"] == close_at
    _vote(bob, poll, [0])
    cursor = bob.sync()["cursor"]
    server.clock.advance(2)
    # Closed from its time on, whether or not the job has told anyone yet.
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{poll['id']}/votes",
                          json={"client_id": new_client_id(), "options": [1]})) == (
        409, "poll_closed")
    assert _results(bob, poll)["closed"] is True
    # The job announces it once its time comes.
    event = wait_until(lambda: next((e for e in bob.sync(cursor)["events"]
                                     if e["type"] == "poll.results"), None),
                       timeout=15, message="the poll's closing")
    assert event["closed"] is True
    assert event["counts"] == [1, 0, 0]
    assert bob.history(chat["id"])[-1]["poll"]["closed_at"] == close_at


def test_outsiders_neither_vote_nor_see(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob])
    poll = _poll(alice, chat["id"])
    base = f"/chats/{chat['id']}/messages/{poll['id']}"
    for method, path, body in (("POST", f"{base}/votes", {"client_id": "x", "options": [0]}),
                               ("GET", f"{base}/poll", None),
                               ("POST", f"{base}/poll/close", None)):
        assert _code(carol.call(method, path, json=body)) == (404, "chat_not_found")
    # A message id of another chat is no poll of this one.
    other = carol.group("Other", [alice])
    theirs = _poll(carol, other["id"])
    assert _code(bob.call("GET", f"/chats/{chat['id']}/messages/{theirs['id']}/poll")) == (
        404, "message_not_found")


@pytest.mark.parametrize(("poll", "text", "code"), [
    ({"options": ["only one"]}, "Q?", "invalid_poll_options"),
    ({"options": [str(i) for i in range(11)]}, "Q?", "invalid_poll_options"),
    ({"options": ["same", "same"]}, "Q?", "invalid_poll_options"),
    ({"options": ["a", " "]}, "Q?", "invalid_poll_options"),
    ({"options": ["a", "b" * 101]}, "Q?", "invalid_poll_options"),
    ({"options": ["a", "b"]}, "", "invalid_poll_question"),
    ({"options": ["a", "b"]}, "q" * 301, "invalid_poll_question"),
    ({"options": ["a", "b"], "quiz": True}, "Q?", "invalid_correct_option"),
    ({"options": ["a", "b"], "quiz": True, "correct_option": 2}, "Q?", "invalid_correct_option"),
    ({"options": ["a", "b"], "quiz": True, "multiple": True, "correct_option": 0}, "Q?",
     "invalid_poll"),
    ({"options": ["a", "b"], "correct_option": 0}, "Q?", "invalid_poll"),
    ({"options": ["a", "b"], "close_at": 1}, "Q?", "invalid_close_at"),
])
def test_bad_polls_are_refused(alice: Api, bob: Api, poll: dict[str, Any], text: str,
                               code: str) -> None:
    chat = alice.direct(bob)
    response = alice.call("POST", f"/chats/{chat['id']}/messages",
                          json={"client_id": new_client_id(), "text": text, "poll": poll})
    assert _code(response) == (400, code)


def test_bad_votes_are_refused(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    poll = _poll(alice, chat["id"])
    votes = f"/chats/{chat['id']}/messages/{poll['id']}/votes"
    for options in ([3], [-1]):
        assert _code(bob.call("POST", votes, json={"client_id": new_client_id(),
                                                    "options": options})) == (
            400, "invalid_options")
    text = alice.send(chat["id"], "not a poll")
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{text['id']}/votes",
                          json={"client_id": new_client_id(), "options": [0]})) == (
        400, "not_a_poll")
    # A client id is one vote's: used for another poll it is a conflict, not a vote.
    other = _poll(alice, chat["id"], "Dinner?")
    client_id = new_client_id()
    _vote(bob, poll, [0], client_id=client_id)
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages/{other['id']}/votes",
                          json={"client_id": client_id, "options": [0]})) == (
        409, "client_id_reused")
    # Forwarding a poll, or a poll with media, is refused.
    refused = alice.call("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": "", "forward_of": poll["id"]})
    assert _code(refused) == (400, "cannot_forward_poll")
    edited = alice.call("PATCH", f"/chats/{chat['id']}/messages/{poll['id']}",
                        json={"text": "Changed?"})
    assert _code(edited) == (409, "cannot_edit_poll")
    alice.call("DELETE", f"/chats/{chat['id']}/messages/{poll['id']}", expect=200)
    assert _code(bob.call("POST", votes, json={"client_id": new_client_id(),
                                                "options": [0]})) == (404, "message_not_found")


def test_channel_polls_are_posted_by_admins_and_anonymous(alice: Api, bob: Api,
                                                         carol: Api) -> None:
    chat = _channel(alice, [bob, carol])
    assert _code(bob.call("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": "Q?", "poll": {"options": ["a", "b"]}})) == (
        403, "cannot_post")
    assert _code(alice.call("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": "Q?",
        "poll": {"options": ["a", "b"], "anonymous": False}})) == (400, "channel_poll_public")
    poll = _poll(alice, chat["id"])
    cursor = carol.sync()["cursor"]
    assert _vote(bob, poll, [1])["counts"] == [0, 1, 0]
    events, _ = carol.sync_all(cursor)
    assert [e["type"] for e in events] == ["poll.results"]  # bob stays unnamed


def test_a_poll_sent_on_the_socket_and_its_live_results(server: LiveServer, alice: Api,
                                                        bob: Api) -> None:
    chat = alice.direct(bob)
    alice_ws = Socket(server.ws_url, str(alice.token))
    bob_ws = Socket(server.ws_url, str(bob.token))
    try:
        alice_ws.ready()
        bob_ws.ready()
        client_id = new_client_id()
        alice_ws.send_json({"type": "send", "id": 1, "chat_id": chat["id"],
                            "client_id": client_id, "text": "Tea or coffee?",
                            "poll": {"options": ["Tea", "Coffee"]}})
        ack = alice_ws.recv_until(lambda f: f["type"] == "ack")
        assert ack["message"]["poll"]["options"] == ["Tea", "Coffee"]
        new = bob_ws.recv_until(lambda f: f["type"] == "message.new")
        assert new["message"]["kind"] == "poll"
        _vote(bob, new["message"], [1])
        live = alice_ws.recv_until(lambda f: f["type"] == "poll.results")
        assert (live["message_id"], live["counts"], live["voters"]) == (
            new["message"]["id"], [0, 1], 1)
        alice_ws.send_json({"type": "send", "id": 2, "chat_id": chat["id"],
                            "client_id": new_client_id(), "text": "Q?",
                            "poll": {"options": ["a"]}})
        error = alice_ws.recv_until(lambda f: f["type"] == "error")
        assert (error["id"], error["error"]["code"]) == (2, "invalid_poll_options")
    finally:
        alice_ws.close()
        bob_ws.close()


def test_a_public_channels_page_shows_its_polls_as_text(server: LiveServer, alice: Api,
                                                         bob: Api, carol: Api) -> None:
    chat = _channel(alice, [bob, carol])
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": "polled"})
    poll = alice.ok("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": new_client_id(), "text": "Best <b>day</b>?",
        "poll": {"options": ["<script>alert(1)</script>", "Sunday & Monday"]}})
    _vote(bob, poll, [1])
    _vote(carol, poll, [1])
    page = httpx.get(f"{server.url}/c/polled")
    assert page.status_code == 200
    body = page.text
    assert "<script>" not in body
    assert "Best &lt;b&gt;day&lt;/b&gt;?" in body
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt; — 0 (0%)</li>" in body
    assert "<li>Sunday &amp; Monday — 2 (100%)</li>" in body
    assert "2 voted" in body
    # The public preview says the same, and names nobody.
    preview = httpx.get(f"{server.url}/api/v1/public/chats/polled").json()
    shown = next(p for p in preview["posts"] if p["id"] == poll["id"])
    assert shown["poll_results"] == {"counts": [0, 2], "voters": 2, "closed": False}
    alice.ok("POST", f"/chats/{chat['id']}/messages/{poll['id']}/poll/close")
    assert "2 voted · closed" in httpx.get(f"{server.url}/c/polled").text
