"""Privacy settings, presence, and a blocked user trying every way to reach the blocker."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id


def _codes(response: object) -> str:
    return response.json()["error"]["code"]  # type: ignore[attr-defined, no-any-return]  # httpx


def test_a_blocked_user_cannot_reach_the_blocker_any_way(server: LiveServer) -> None:
    alice = server.sign_up("Alice", phone="+447700900101")
    mallory = server.sign_up("Mallory", phone="+447700900102")
    carol = server.sign_up("Carol")
    alice.ok("PATCH", "/me", json={"username": "alice_a"})
    direct = mallory.direct(alice)
    shared = carol.group("Shared", [alice, mallory])
    mallory_own = mallory.group("Mallory's", [])
    mallory.send(direct["id"], "before the block")
    alice_cursor = alice.sync()["cursor"]

    alice.call("PUT", f"/me/blocked/{mallory.id}", expect=204)
    assert [b["user"]["id"] for b in alice.ok("GET", "/me/blocked")["blocked"]] == [mallory.id]

    # Direct messages: HTTP, socket, forwards, typing.
    sent = mallory.call("POST", f"/chats/{direct['id']}/messages",
                        json={"client_id": new_client_id(), "text": "hey"}, expect=403)
    assert _codes(sent) == "cannot_message"
    forwarded = mallory.send(shared["id"], "in the group")
    mallory.call("POST", f"/chats/{direct['id']}/messages", expect=403, json={
        "client_id": new_client_id(), "forward_of": forwarded["id"]})
    sock = Socket(server.ws_url, mallory.token or "", cursor=mallory.sync()["cursor"])
    sock.ready()
    sock.send_json({"type": "send", "id": 1, "chat_id": direct["id"],
                    "client_id": new_client_id(), "text": "over the socket"})
    error = sock.recv_until(lambda f: f["type"] in ("error", "ack"))
    assert error["type"] == "error"
    assert error["error"]["code"] == "cannot_message"
    sock.close()
    mallory.call("POST", f"/chats/{direct['id']}/typing", expect=403)
    old = mallory.history(direct["id"])[-1]
    mallory.call("PUT", f"/chats/{direct['id']}/messages/{old['id']}/reactions",
                 json={"emoji": "👍"}, expect=403)
    # Adding to groups and channels, new or existing.
    for response in (
            mallory.call("POST", f"/chats/{mallory_own['id']}/members",
                         json={"user_ids": [alice.id]}),
            mallory.call("POST", "/chats", json={"kind": "group", "title": "Trap",
                                                  "member_ids": [alice.id]}),
            mallory.call("POST", "/chats", json={"kind": "channel", "title": "Spam",
                                                  "member_ids": [alice.id]})):
        assert response.status_code == 403
        assert _codes(response) == "privacy_restricted"
    # Finding by number, presence, mentions in a group they share.
    found = mallory.ok("POST", "/contacts/import", json={"phones": ["+447700900101"]})
    assert found["users"] == []
    assert mallory.ok("GET", f"/users/{alice.id}/presence")["status"] == "hidden"
    mallory.send(shared["id"], "hey @alice_a look")
    carol.send(shared["id"], "@alice_a from carol")

    events, _ = alice.sync_all(alice_cursor)
    from_mallory = [e for e in events if e.get("message", {}).get("sender_id") == mallory.id
                    and e["message"]["chat_id"] == direct["id"]]
    assert from_mallory == []
    assert [e["by"] for e in events if e["type"] == "mention"] == [carol.id]
    assert not [e for e in events if e["type"] in ("chat.created", "member.joined")]

    # Unblocked, everything works again; the blocker could always write.
    alice.send(direct["id"], "alice can still write")
    alice.call("DELETE", f"/me/blocked/{mallory.id}", expect=204)
    mallory.send(direct["id"], "after the unblock")
    mallory.ok("POST", f"/chats/{mallory_own['id']}/members", json={"user_ids": [alice.id]})


def test_a_blocked_user_cannot_open_a_direct_chat(alice: Api, bob: Api) -> None:
    alice.call("PUT", f"/me/blocked/{bob.id}", expect=204)
    response = bob.call("POST", "/chats", json={"kind": "direct", "user_id": alice.id},
                        expect=403)
    assert _codes(response) == "cannot_message"
    alice.call("PUT", f"/me/blocked/{alice.id}", expect=400)
    alice.call("PUT", "/me/blocked/999999", expect=404)


def test_who_may_add_me_to_groups(server: LiveServer) -> None:
    alice = server.sign_up(phone="+447700900111")
    bob = server.sign_up(phone="+447700900112")
    carol = server.sign_up(phone="+447700900113")
    alice.ok("PATCH", "/me/privacy", json={"group_add": "contacts"})
    alice.ok("POST", "/contacts/import", json={"phones": ["+447700900112"]})
    bob.group("Friends", [alice])  # bob is in alice's address book
    refused = carol.call("POST", "/chats", json={"kind": "group", "title": "Stranger",
                                                 "member_ids": [alice.id]}, expect=403)
    assert str(alice.id) in refused.json()["error"]["message"]
    alice.ok("PATCH", "/me/privacy", json={"group_add": "nobody"})
    bob.call("POST", "/chats", json={"kind": "group", "title": "Again",
                                     "member_ids": [alice.id]}, expect=403)
    alice.call("PATCH", "/me/privacy", json={"group_add": "friends"}, expect=422)


def test_presence_respects_last_seen_setting(server: LiveServer, alice: Api, bob: Api) -> None:
    assert bob.ok("GET", f"/users/{alice.id}/presence")["status"] == "offline"
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    sock.ready()
    assert bob.ok("GET", f"/users/{alice.id}/presence") == {"user_id": alice.id,
                                                            "status": "online"}
    alice.ok("PATCH", "/me/privacy", json={"last_seen": "nobody"})
    assert bob.ok("GET", f"/users/{alice.id}/presence") == {"user_id": alice.id,
                                                            "status": "hidden"}
    assert alice.ok("GET", f"/users/{alice.id}/presence")["status"] == "online"
    sock.close()
    alice.ok("PATCH", "/me/privacy", json={"last_seen": "everyone"})
    offline = bob.ok("GET", f"/users/{alice.id}/presence")
    assert offline["status"] in ("offline", "online")  # the socket may still be closing
    bob.call("GET", "/users/999999/presence", expect=404)
