"""Drafts: kept by the server for each of a person's devices, cleared by their send."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id

PHONE = "+447700900311"


def _draft(api: Api, chat_id: int) -> dict[str, Any] | None:
    chats: list[dict[str, Any]] = api.ok("GET", "/chats")["chats"]
    listed: dict[str, Any] | None = next(c for c in chats if c["id"] == chat_id).get("draft")
    return listed


def test_a_draft_reaches_the_other_device_and_the_send_clears_it(server: LiveServer) -> None:
    phone, laptop = server.sign_up("Alice", phone=PHONE), server.sign_up(phone=PHONE)
    bob = server.sign_up("Bob")
    chat = bob.group("Plans", [phone])
    socket = Socket(server.ws_url, laptop.token or "", cursor=laptop.sync()["cursor"])
    socket.ready()

    saved = phone.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "see you at"})
    draft = saved["draft"]
    assert saved == {"chat_id": chat["id"], "draft": {"text": "see you at",
                                                        "updated_at": draft["updated_at"]}}
    event = socket.recv_until(lambda f: f["type"] == "draft.updated")
    assert (event["chat_id"], event["draft"]) == (chat["id"], draft)
    assert _draft(laptop, chat["id"]) == draft
    assert _draft(bob, chat["id"]) is None  # a draft is its writer's alone

    # The later write wins, by the server's time.
    server.clock.advance(1)
    later = laptop.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "see you at 8"})
    assert later["draft"]["updated_at"] > draft["updated_at"]
    assert _draft(phone, chat["id"]) == later["draft"]

    # A send from the other device clears it everywhere, in the send's own transaction.
    socket.recv_until(lambda f: f["type"] == "draft.updated")
    phone.send(chat["id"], "see you at 8")
    sent = socket.recv_until(lambda f: f["type"] == "message.new")
    cleared = socket.recv_until(lambda f: f["type"] == "draft.updated")
    assert cleared["chat_id"] == chat["id"]
    assert cleared["draft"] is None
    assert int(cleared["cursor"]) > int(sent["cursor"])
    assert _draft(laptop, chat["id"]) is None
    socket.close()


def test_a_send_over_the_socket_clears_the_draft_and_others_sends_do_not(
        server: LiveServer) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    chat = alice.direct(bob)
    alice.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "hm"})
    bob.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "mine"})
    bob.send(chat["id"], "hello")
    assert _draft(alice, chat["id"])["text"] == "hm"  # type: ignore[index]  # kept
    cursor = alice.sync()["cursor"]
    socket = Socket(server.ws_url, alice.token or "", cursor=cursor)
    socket.ready()
    socket.send_json({"type": "send", "id": 7, "chat_id": chat["id"],
                      "client_id": new_client_id(), "text": "hm, yes"})
    socket.recv_until(lambda f: f["type"] == "ack")
    socket.close()
    assert _draft(alice, chat["id"]) is None
    events, _ = alice.sync_all(cursor)
    assert [e["type"] for e in events if e["type"] != "chat.delivered"] == [
        "message.new", "draft.updated"]


def test_blank_clears_and_nothing_is_kept_for_chats_without_a_draft(server: LiveServer) -> None:
    alice = server.sign_up("Alice")
    chat = alice.group("Notes", [])
    alice.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "x"})
    cleared = alice.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "  \n"})
    assert cleared == {"chat_id": chat["id"], "draft": None}
    assert _draft(alice, chat["id"]) is None
    cursor = alice.sync()["cursor"]
    alice.send(chat["id"], "no draft to clear")
    events, _ = alice.sync_all(cursor)
    assert [e["type"] for e in events] == ["message.new"]


def test_drafts_refuse_other_peoples_chats_and_bad_input(server: LiveServer) -> None:
    alice, mallory = server.sign_up("Alice"), server.sign_up("Mallory")
    chat = alice.group("Ours", [])
    refused = mallory.call("PUT", f"/chats/{chat['id']}/draft", json={"text": "hi"})
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "chat_not_found"
    too_long = alice.call("PUT", f"/chats/{chat['id']}/draft", json={"text": "a" * 4097})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "draft_too_long"
    alice.ok("PUT", f"/chats/{chat['id']}/draft", json={"text": "a" * 4096})
    for body in ({}, {"text": 5}, {"text": None}, {"text": "a\x00b"}):
        alice.call("PUT", f"/chats/{chat['id']}/draft", json=body, expect=422)
    alice.call("PUT", f"/chats/{chat['id']}/draft", content=b"{", expect=422)
    assert len(_draft(alice, chat["id"])["text"]) == 4096  # type: ignore[index]
