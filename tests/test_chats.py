"""Chats: direct, group, channel; members, roles, titles; the chat list."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.helpers import Api


def test_direct_chat_is_one_per_pair(alice: Api, bob: Api) -> None:
    first = alice.call("POST", "/chats", json={"kind": "direct", "user_id": bob.id}, expect=201)
    again = alice.call("POST", "/chats", json={"kind": "direct", "user_id": bob.id}, expect=200)
    reverse = bob.call("POST", "/chats", json={"kind": "direct", "user_id": alice.id},
                       expect=200)
    assert first.json()["id"] == again.json()["id"] == reverse.json()["id"]
    assert first.json()["member_count"] == 2


def test_direct_chat_with_unknown_user_is_404(alice: Api) -> None:
    alice.call("POST", "/chats", json={"kind": "direct", "user_id": 999_999}, expect=404)


def test_group_has_owner_and_members_and_a_created_message(alice: Api, bob: Api,
                                                           carol: Api) -> None:
    chat = alice.group("Book club", [bob, carol])
    assert chat["kind"] == "group"
    assert chat["title"] == "Book club"
    assert chat["owner_id"] == alice.id
    assert chat["member_count"] == 3
    roles = {m["user_id"]: m["role"] for m in
             bob.ok("GET", f"/chats/{chat['id']}/members")["members"]}
    assert roles == {alice.id: "owner", bob.id: "member", carol.id: "member"}
    (created,) = bob.history(chat["id"])
    assert created["system"] == {"action": "chat.created", "by": alice.id, "title": "Book club"}


def test_channel_admins_post_and_subscribers_read(alice: Api, bob: Api, carol: Api) -> None:
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News",
                                               "public": True})
    bob.ok("POST", f"/chats/{channel['id']}/join")
    assert bob.ok("GET", f"/chats/{channel['id']}")["role"] == "subscriber"
    post = alice.send(channel["id"], "first post")
    assert bob.history(channel["id"])[-1]["id"] == post["id"]
    denied = bob.call("POST", f"/chats/{channel['id']}/messages",
                      json={"client_id": "b1", "text": "hi"}, expect=403)
    assert denied.json()["error"]["code"] == "cannot_post"
    # Subscribers' list is for admins only; subscribers join quietly (no system message).
    bob.call("GET", f"/chats/{channel['id']}/members", expect=403)
    assert [m.get("system", {}).get("action") for m in bob.history(channel["id"])] == [
        "chat.created", None]
    # An admin posts.
    alice.call("PATCH", f"/chats/{channel['id']}/members/{bob.id}", json={"role": "admin"},
               expect=204)
    bob.send(channel["id"], "admin post")


def test_private_chats_cannot_be_joined(alice: Api, bob: Api) -> None:
    group = alice.group("Private", [])
    bob.call("POST", f"/chats/{group['id']}/join", expect=404)


def test_rename_and_describe(alice: Api, bob: Api) -> None:
    chat = alice.group("Old", [bob])
    updated = alice.ok("PATCH", f"/chats/{chat['id']}", json={"title": "New",
                                                              "description": "about"})
    assert updated["title"] == "New"
    assert updated["description"] == "about"
    assert bob.history(chat["id"])[-1]["system"] == {"action": "chat.title_changed",
                                                     "by": alice.id, "title": "New"}
    denied = bob.call("PATCH", f"/chats/{chat['id']}", json={"title": "Mine"}, expect=403)
    assert denied.json()["error"]["code"] == "not_admin"


def test_add_and_remove_members(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob])
    assert alice.ok("POST", f"/chats/{chat['id']}/members",
                    json={"user_ids": [carol.id, bob.id]})["added"] == [carol.id]
    carol.ok("GET", f"/chats/{chat['id']}")
    bob.call("DELETE", f"/chats/{chat['id']}/members/{carol.id}", expect=403)
    alice.call("DELETE", f"/chats/{chat['id']}/members/{carol.id}", expect=204)
    carol.call("GET", f"/chats/{chat['id']}", expect=404)
    actions = [m["system"]["action"] for m in alice.history(chat["id"])]
    assert actions == ["chat.created", "member.joined", "member.left"]


def test_leave_and_owner_cannot_leave(alice: Api, bob: Api) -> None:
    chat = alice.group("Team", [bob])
    bob.call("POST", f"/chats/{chat['id']}/leave", expect=204)
    bob.call("GET", f"/chats/{chat['id']}", expect=404)
    response = alice.call("POST", f"/chats/{chat['id']}/leave", expect=409)
    assert response.json()["error"]["code"] == "owner_cannot_leave"
    direct = alice.direct(bob)
    alice.call("POST", f"/chats/{direct['id']}/leave", expect=409)


def test_roles_only_owner_changes_them(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Team", [bob, carol])
    alice.call("PATCH", f"/chats/{chat['id']}/members/{bob.id}", json={"role": "admin"},
               expect=204)
    # Now an admin, bob can rename and remove plain members, but not change roles.
    bob.ok("PATCH", f"/chats/{chat['id']}", json={"title": "Bob's"})
    bob.call("PATCH", f"/chats/{chat['id']}/members/{carol.id}", json={"role": "admin"},
             expect=403)
    bob.call("DELETE", f"/chats/{chat['id']}/members/{alice.id}", expect=403)
    alice.call("PATCH", f"/chats/{chat['id']}/members/{alice.id}", json={"role": "member"},
               expect=403)
    alice.call("PATCH", f"/chats/{chat['id']}/members/{bob.id}", json={"role": "subscriber"},
               expect=400)


def test_chat_list_has_last_message_and_unread_counts(alice: Api, bob: Api,
                                                      carol: Api) -> None:
    direct = alice.direct(bob)
    group = alice.group("G", [bob, carol])
    for text in ("one", "two", "three"):
        alice.send(direct["id"], text)
    carol.send(group["id"], "from carol")
    listed = {c["id"]: c for c in bob.ok("GET", "/chats")["chats"]}
    assert listed[direct["id"]]["unread_count"] == 3
    assert listed[direct["id"]]["last_message"]["text"] == "three"
    assert "client_id" not in listed[direct["id"]]["last_message"]
    # The group shows the creation message and carol's: both unread for bob.
    assert listed[group["id"]]["unread_count"] == 2
    # Newest activity first.
    assert next(c["id"] for c in bob.ok("GET", "/chats")["chats"]) == group["id"]
    bob.ok("POST", f"/chats/{direct['id']}/read", json={"seq": 2})
    listed = {c["id"]: c for c in bob.ok("GET", "/chats")["chats"]}
    assert listed[direct["id"]]["unread_count"] == 1
    # Own messages never count as unread.
    mine = {c["id"]: c for c in alice.ok("GET", "/chats")["chats"]}
    assert mine[direct["id"]]["unread_count"] == 0


def test_profile_and_usernames(server: LiveServer, alice: Api, bob: Api) -> None:
    me = alice.ok("PATCH", "/me", json={"username": "Alice_01", "about": "hi",
                                        "kind": "blogger"})
    assert me["username"] == "Alice_01"
    assert me["kind"] == "blogger"
    assert me["phone"]
    taken = bob.call("PATCH", "/me", json={"username": "alice_01"}, expect=409)
    assert taken.json()["error"]["code"] == "username_taken"
    bob.call("PATCH", "/me", json={"username": "1abc"}, expect=400)
    bob.call("PATCH", "/me", json={"kind": "authority"}, expect=422)
    public = bob.ok("GET", f"/users/{alice.id}")
    assert public["username"] == "Alice_01"
    assert "phone" not in public
    # Giving the name up frees it.
    alice.ok("PATCH", "/me", json={"username": None})
    bob.ok("PATCH", "/me", json={"username": "ALICE_01"})
