"""Messages: exactly-once sends, edits, deletes, replies, forwards, history, read markers."""

from __future__ import annotations

import concurrent.futures

from tests.helpers import Api, new_client_id


def test_send_returns_the_stored_message(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    client_id = new_client_id()
    response = alice.call("POST", f"/chats/{chat['id']}/messages",
                          json={"client_id": client_id, "text": "hello"}, expect=201)
    message = response.json()
    assert message["chat_id"] == chat["id"]
    assert message["seq"] == 1
    assert message["sender_id"] == alice.id
    assert message["client_id"] == client_id
    assert message["text"] == "hello"
    assert message["created_at"] > 0
    assert bob.history(chat["id"]) == [{k: v for k, v in message.items() if k != "client_id"}]


def test_a_repeated_client_id_returns_the_original(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    body = {"client_id": new_client_id(), "text": "once"}
    first = alice.call("POST", f"/chats/{chat['id']}/messages", json=body, expect=201).json()
    again = alice.call("POST", f"/chats/{chat['id']}/messages",
                       json={**body, "text": "changed"}, expect=200).json()
    assert again == first
    assert len(bob.history(chat["id"])) == 1
    # Another sender may use the same client id: uniqueness is per sender.
    bob.call("POST", f"/chats/{chat['id']}/messages", json=body, expect=201)


def test_concurrent_repeats_store_one_message(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    body = {"client_id": new_client_id(), "text": "racing"}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(
            lambda _: Api(alice.base_url, alice.token).call(
                "POST", f"/chats/{chat['id']}/messages", json=body),
            range(16)))
    assert sorted(r.status_code for r in responses) == [200] * 15 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(bob.history(chat["id"])) == 1


def test_text_limits(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    alice.send(chat["id"], "x" * 4096)
    alice.call("POST", f"/chats/{chat['id']}/messages",
               json={"client_id": new_client_id(), "text": "x" * 4097}, expect=422)
    empty = alice.call("POST", f"/chats/{chat['id']}/messages",
                       json={"client_id": new_client_id(), "text": "   "}, expect=400)
    assert empty.json()["error"]["code"] == "empty_message"
    assert len(bob.history(chat["id"])) == 1


def test_edit_own_messages_only(alice: Api, bob: Api) -> None:
    chat = alice.group("G", [bob])
    message = alice.send(chat["id"], "typo")
    edited = alice.ok("PATCH", f"/chats/{chat['id']}/messages/{message['id']}",
                      json={"text": "fixed"})
    assert edited["text"] == "fixed"
    assert edited["edited_at"] >= message["created_at"]
    assert bob.history(chat["id"])[-1]["text"] == "fixed"
    bob.call("PATCH", f"/chats/{chat['id']}/messages/{message['id']}", json={"text": "mine"},
             expect=403)
    # Admins may delete but never rewrite others' words.
    alice.call("PATCH", f"/chats/{chat['id']}/messages/{bob.send(chat['id'], 'b')['id']}",
               json={"text": "x"}, expect=403)


def test_delete_for_everyone(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("G", [bob, carol])
    by_bob = bob.send(chat["id"], "bob's")
    by_carol = carol.send(chat["id"], "carol's")
    bob.call("DELETE", f"/chats/{chat['id']}/messages/{by_carol['id']}", expect=403)
    bob.ok("DELETE", f"/chats/{chat['id']}/messages/{by_bob['id']}")
    alice.ok("DELETE", f"/chats/{chat['id']}/messages/{by_carol['id']}")  # the owner may
    history = {m["id"]: m for m in carol.history(chat["id"])}
    assert history[by_bob["id"]]["deleted"] is True
    assert "text" not in history[by_bob["id"]]
    assert history[by_carol["id"]]["deleted"] is True
    # A deleted message cannot be edited; a late retry of its send is still a repeat.
    carol.call("PATCH", f"/chats/{chat['id']}/messages/{by_carol['id']}", json={"text": "x"},
               expect=404)
    repeat = carol.call("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": by_carol["client_id"], "text": "again"}, expect=200)
    assert repeat.json()["deleted"] is True


def test_in_a_direct_chat_only_your_own_can_be_deleted(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    message = bob.send(chat["id"], "mine")
    alice.call("DELETE", f"/chats/{chat['id']}/messages/{message['id']}", expect=403)


def test_replies_and_forwards(alice: Api, bob: Api, carol: Api) -> None:
    first = alice.direct(bob)
    second = alice.direct(carol)
    original = bob.send(first["id"], "forward me")
    reply = alice.send(first["id"], "a reply", reply_to=original["id"])
    assert reply["reply_to"] == original["id"]
    forwarded = alice.ok("POST", f"/chats/{second['id']}/messages",
                         json={"client_id": new_client_id(), "forward_of": original["id"]})
    assert forwarded["text"] == "forward me"
    assert forwarded["forward_of"] == {"chat_id": first["id"], "message_id": original["id"],
                                       "sender_id": bob.id}
    # Replies stay inside their chat; forwards need access to the original.
    alice.call("POST", f"/chats/{second['id']}/messages",
               json={"client_id": new_client_id(), "text": "x", "reply_to": original["id"]},
               expect=404)
    carol.call("POST", f"/chats/{second['id']}/messages",
               json={"client_id": new_client_id(), "forward_of": original["id"]}, expect=404)


def test_history_pages_by_seq_both_ways(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    for i in range(1, 26):
        alice.send(chat["id"], f"m{i}")
    newest = bob.history(chat["id"], limit=10)
    assert [m["seq"] for m in newest] == list(range(16, 26))
    older = bob.history(chat["id"], before=16, limit=10)
    assert [m["seq"] for m in older] == list(range(6, 16))
    forward = bob.history(chat["id"], after=20, limit=3)
    assert [m["seq"] for m in forward] == [21, 22, 23]
    assert bob.history(chat["id"], after=25) == []


def test_read_markers_move_forward_only(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    for text in "abc":
        alice.send(chat["id"], text)
    assert bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 2}) == {
        "chat_id": chat["id"], "seq": 2}
    assert bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 1})["seq"] == 2
    # Past the end is clamped to the last message.
    assert bob.ok("POST", f"/chats/{chat['id']}/read", json={"seq": 99})["seq"] == 3
