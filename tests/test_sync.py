"""Sync over HTTP: cursors, order, gaps, visibility by membership, long polls, resets."""

from __future__ import annotations

import threading
from typing import Any

from tests.conftest import LiveServer
from tests.helpers import Api


def events_of(events: list[dict[str, Any]], chat_id: int, kind: str = "message.new") -> list:
    return [e for e in events if e["type"] == kind and _chat(e) == chat_id]


def _chat(event: dict[str, Any]) -> int | None:
    if "message" in event:
        return int(event["message"]["chat_id"])
    if "chat" in event:
        return int(event["chat"]["id"])
    return event.get("chat_id")


def test_first_sync_is_a_reset_with_the_chat_list(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    alice.send(chat["id"], "hi")
    state = bob.sync()
    assert state["reset"] is True
    assert [c["id"] for c in state["chats"]] == [chat["id"]]
    assert state["chats"][0]["last_message"]["text"] == "hi"
    assert state["cursor"].isdigit()


def test_events_come_in_commit_order_without_gaps_or_repeats(alice: Api, bob: Api,
                                                             server: LiveServer) -> None:
    cursor = bob.sync()["cursor"]
    chat = alice.group("G", [bob])
    sent = [alice.send(chat["id"], f"m{i}") for i in range(1, 1201)]
    events, cursor = bob.sync_all(cursor)  # pages of 500: exercises `more`
    positions = [int(e["cursor"]) for e in events]
    assert positions == sorted(set(positions))
    texts = [e["message"]["text"] for e in events_of(events, chat["id"])]
    assert texts == ["", *[m["text"] for m in sent]]  # the creation message, then ours
    seqs = [e["message"]["seq"] for e in events_of(events, chat["id"])]
    assert seqs == list(range(1, 1202))
    assert bob.sync(cursor)["events"] == []


def test_sync_sends_edits_and_deletes_with_the_whole_message(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    message = alice.send(chat["id"], "draft")
    alice.ok("PATCH", f"/chats/{chat['id']}/messages/{message['id']}", json={"text": "final"})
    before_delete, _ = bob.sync_all(cursor)
    assert [e["message"]["text"] for e in before_delete] == ["draft", "final"]
    alice.ok("DELETE", f"/chats/{chat['id']}/messages/{message['id']}")
    events, _ = bob.sync_all(cursor)
    assert [e["type"] for e in events] == ["message.new", "message.edited", "message.deleted"]
    assert all(e["message"]["id"] == message["id"] for e in events)
    # Deleted for everyone means gone from catch-up too: no event still carries the text.
    assert all(e["message"].get("deleted") is True for e in events)
    assert "draft" not in str(events)
    assert "final" not in str(events)


def test_client_id_is_shown_to_the_sender_only(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    a_cursor, b_cursor = alice.sync()["cursor"], bob.sync()["cursor"]
    sent = alice.send(chat["id"], "x")
    (mine,) = alice.sync_all(a_cursor)[0]
    (theirs,) = bob.sync_all(b_cursor)[0]
    assert mine["message"]["client_id"] == sent["client_id"]
    assert "client_id" not in theirs["message"]


def test_members_see_a_chat_from_joining_until_leaving(alice: Api, bob: Api,
                                                       carol: Api) -> None:
    cursor = carol.sync()["cursor"]
    chat = alice.group("G", [bob])
    alice.send(chat["id"], "before carol")
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [carol.id]})
    alice.send(chat["id"], "while carol")
    alice.call("DELETE", f"/chats/{chat['id']}/members/{carol.id}", expect=204)
    alice.send(chat["id"], "after carol")
    events, _ = carol.sync_all(cursor)
    kinds = [e["type"] for e in events]
    assert kinds == ["member.joined", "message.new", "message.new", "message.new",
                     "member.left"]
    texts = [e["message"]["text"] for e in events if e["type"] == "message.new"]
    assert "before carol" not in texts
    assert "while carol" in texts
    assert "after carol" not in texts
    assert events[0]["chat"]["id"] == chat["id"]


def test_long_poll_wakes_when_a_message_arrives(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    result: dict[str, Any] = {}
    poller = threading.Thread(target=lambda: result.update(bob.sync(cursor, timeout=20)))
    poller.start()
    # The poll is waiting (nothing new yet); sending wakes it long before its timeout.
    alice.send(chat["id"], "wake up")
    poller.join(timeout=10)
    assert not poller.is_alive()
    assert [e["message"]["text"] for e in result["events"]] == ["wake up"]


def test_long_poll_times_out_empty(server: LiveServer, bob: Api) -> None:
    cursor = bob.sync()["cursor"]
    result = bob.sync(cursor, timeout=0.3)
    assert result["events"] == []
    assert result["cursor"] == cursor


def test_bad_and_future_cursors(bob: Api) -> None:
    for bad in ("abc", "-1", "1.5", "9" * 30):
        response = bob.call("GET", "/sync", params={"cursor": bad})
        assert response.status_code in (400, 422)
        assert response.json()["error"]["code"] in ("invalid_cursor", "invalid_request")
    assert bob.sync("999999999")["reset"] is True


def test_applying_events_equals_fetching_fresh_state(alice: Api, bob: Api, carol: Api) -> None:
    """A client that follows events ends where a client that starts fresh begins."""
    start = bob.sync()
    state = {c["id"]: {"title": c["title"], "last": c.get("last_message", {}).get("id"),
                       "members": c["member_count"]} for c in start["chats"]}
    group = alice.group("G", [bob])
    alice.ok("POST", f"/chats/{group['id']}/members", json={"user_ids": [carol.id]})
    alice.ok("PATCH", f"/chats/{group['id']}", json={"title": "Renamed"})
    direct = carol.direct(bob)
    carol.send(direct["id"], "hi bob")
    last = alice.send(group["id"], "last word")
    alice.ok("PATCH", f"/chats/{group['id']}/messages/{last['id']}", json={"text": "edited"})
    carol.call("POST", f"/chats/{group['id']}/leave", expect=204)
    events, _ = bob.sync_all(start["cursor"])
    for event in events:
        kind = event["type"]
        if kind in ("chat.created", "chat.updated", "member.joined"):
            chat = event["chat"]
            entry = state.setdefault(chat["id"], {"last": None})
            entry.update(title=chat["title"], members=chat["member_count"])
        elif kind == "member.left":
            state[event["chat_id"]]["members"] -= 1
        elif kind == "message.new":
            state[event["message"]["chat_id"]]["last"] = event["message"]["id"]
    fresh = {c["id"]: {"title": c["title"], "last": c.get("last_message", {}).get("id"),
                       "members": c["member_count"]} for c in bob.sync()["chats"]}
    assert state == fresh
