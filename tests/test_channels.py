"""Channel admin rights, view counters, reactions and mentions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from darbuka.storage.tables.messages import post_views
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id


def _channel(owner: Api, subscribers: list[Api]) -> dict[str, Any]:
    chat: dict[str, Any] = owner.ok("POST", "/chats", json={"kind": "channel",
                                                            "title": "News"})
    owner.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [s.id
                                                                         for s in subscribers]})
    return chat


def test_admin_rights_as_tamtam_had_them(alice: Api, bob: Api, carol: Api,
                                         server: LiveServer) -> None:
    dave = server.sign_up("Dave")
    chat = _channel(alice, [bob, carol, dave])
    cid = chat["id"]
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    # A plain admin may write and change info, but not make admins.
    bob.send(cid, "by a plain admin")
    bob.call("PATCH", f"/chats/{cid}/members/{carol.id}", json={"role": "admin"}, expect=403)
    # Only writing: no renaming, no adding, no removing.
    assert alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights",
                    json={"rights": ["write", "write"]})["rights"] == ["write"]
    bob.send(cid, "still writing")
    for method, path, body in (("PATCH", f"/chats/{cid}", {"title": "Bob's"}),
                               ("POST", f"/chats/{cid}/members", {"user_ids": [dave.id]}),
                               ("DELETE", f"/chats/{cid}/members/{carol.id}", None),
                               ("POST", f"/chats/{cid}/invites", {})):
        denied = bob.call(method, path, json=body, expect=403)
        assert denied.json()["error"]["code"] == "missing_right", path
    # Without `write` an admin cannot post.
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["change_info"]})
    bob.ok("PATCH", f"/chats/{cid}", json={"title": "Renamed by Bob"})
    refused = bob.call("POST", f"/chats/{cid}/messages",
                       json={"client_id": new_client_id(), "text": "x"}, expect=403)
    assert refused.json()["error"]["code"] == "cannot_post"
    # An admin with add_admins makes admins, and demotes only those they made.
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["add_admins"]})
    bob.call("PATCH", f"/chats/{cid}/members/{carol.id}", json={"role": "admin"}, expect=204)
    bob.call("PATCH", f"/chats/{cid}/members/{carol.id}", json={"role": "subscriber"},
             expect=204)
    alice.call("PATCH", f"/chats/{cid}/members/{carol.id}", json={"role": "admin"}, expect=204)
    bob.call("PATCH", f"/chats/{cid}/members/{carol.id}", json={"role": "subscriber"},
             expect=403)
    # Rights are for admins only, and checked.
    alice.call("PUT", f"/chats/{cid}/members/{dave.id}/rights", json={"rights": ["write"]},
               expect=404)
    alice.call("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["fly"]},
               expect=400)
    carol.call("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": []},
               expect=403)
    assert dave.ok("GET", f"/chats/{cid}")["member_count"] == 4  # the subscriber count


def test_views_count_once_per_user_and_write_nothing_for_non_viewers(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    dave = server.sign_up("Dave")
    chat = _channel(alice, [bob, carol, dave])
    posts = [alice.send(chat["id"], f"post {n}")["id"] for n in range(3)]
    first = bob.ok("POST", f"/chats/{chat['id']}/views", json={"message_ids": posts})
    assert first["counted"] == posts
    again = bob.ok("POST", f"/chats/{chat['id']}/views", json={"message_ids": posts})
    assert again["counted"] == []
    carol.ok("POST", f"/chats/{chat['id']}/views", json={"message_ids": [*posts[:1], 999999]})
    counts = alice.ok("GET", f"/chats/{chat['id']}/reactions",
                      params={"ids": ",".join(map(str, posts))})["messages"]
    assert [m["views"] for m in counts] == [2, 1, 1]

    runtime = server.app.state.runtime

    async def rows() -> int:
        async with runtime.db.read() as conn:
            return int((await conn.execute(select(func.count()).select_from(post_views)))
                       .scalar_one())

    assert server.run_async(rows()) == 4  # bob 3 + carol 1; dave viewed nothing
    group = alice.group("G", [bob])
    bob.call("POST", f"/chats/{group['id']}/views", json={"message_ids": [1]}, expect=400)


def test_reactions(server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("G", [bob])
    message = alice.send(group["id"], "hello")
    cursor = alice.sync()["cursor"]
    path = f"/chats/{group['id']}/messages/{message['id']}/reactions"
    result = bob.ok("PUT", path, json={"emoji": "👍"})
    assert result["reactions"] == [{"emoji": "👍", "count": 1, "mine": True}]
    bob.ok("PUT", path, json={"emoji": "👍"})  # twice is once
    alice.ok("PUT", path, json={"emoji": "👍"})
    alice.ok("PUT", path, json={"emoji": "❤️"})
    summary = alice.ok("GET", f"/chats/{group['id']}/reactions",
                       params={"ids": str(message["id"])})["messages"][0]["reactions"]
    assert summary == [{"emoji": "👍", "count": 2, "mine": True},
                       {"emoji": "❤️", "count": 1, "mine": True}]
    for bad in ("a", "👍 ", "ok", "1"):
        bob.call("PUT", path, json={"emoji": bad}, expect=400)
    bob.ok("PUT", path, json={"emoji": "🎉"})
    bob.ok("PUT", path, json={"emoji": "🔥"})
    bob.call("PUT", path, json={"emoji": "😀"}, expect=409)
    bob.ok("DELETE", path, params={"emoji": "👍"})
    carol.call("PUT", path, json={"emoji": "👍"}, expect=404)
    events, _ = alice.sync_all(cursor)
    assert [(e["type"], e["user_id"], e["emoji"]) for e in events] == [
        ("reaction.added", bob.id, "👍"), ("reaction.added", alice.id, "👍"),
        ("reaction.added", alice.id, "❤️"), ("reaction.added", bob.id, "🎉"),
        ("reaction.added", bob.id, "🔥"), ("reaction.removed", bob.id, "👍")]


def test_mentions_notify_members_only(server: LiveServer, alice: Api, bob: Api,
                                      carol: Api) -> None:
    bob.ok("PATCH", "/me", json={"username": "bobby"})
    carol.ok("PATCH", "/me", json={"username": "carol_c"})
    group = alice.group("G", [bob])
    bob_cursor, carol_cursor = bob.sync()["cursor"], carol.sync()["cursor"]
    sent = alice.send(group["id"], "hi @Bobby and @carol_c, mail me at x@bobby.org")
    events, _ = bob.sync_all(bob_cursor)
    (mention,) = [e for e in events if e["type"] == "mention"]
    assert mention == {"type": "mention", "cursor": mention["cursor"], "chat_id": group["id"],
                       "message_id": sent["id"], "seq": sent["seq"], "by": alice.id}
    carol_events, _ = carol.sync_all(carol_cursor)
    assert carol_events == []  # not a member: not told


def test_pinning_needs_the_pin_right_and_rights_are_readable(alice: Api, bob: Api,
                                                            carol: Api) -> None:
    chat = _channel(alice, [bob, carol])
    cid = chat["id"]
    post = alice.send(cid, "read me first")
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    # An admin sees what they may do; the owner holds every right.
    assert "pin" in bob.ok("GET", f"/chats/{cid}")["rights"]
    assert "add_admins" in alice.ok("GET", f"/chats/{cid}")["rights"]
    assert "rights" not in carol.ok("GET", f"/chats/{cid}")
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["write"]})
    assert bob.ok("GET", f"/chats/{cid}")["rights"] == ["write"]
    listed = {m["user_id"]: m.get("rights") for m in alice.ok("GET", f"/chats/{cid}/members")
              ["members"]}
    assert listed[bob.id] == ["write"]
    assert listed[carol.id] is None
    assert len(listed[alice.id]) == 7
    denied = bob.call("PUT", f"/chats/{cid}/pin", json={"message_id": post["id"]}, expect=403)
    assert denied.json()["error"]["code"] == "missing_right"
    carol.call("PUT", f"/chats/{cid}/pin", json={"message_id": post["id"]}, expect=403)
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["write", "pin"]})
    pinned = bob.ok("PUT", f"/chats/{cid}/pin", json={"message_id": post["id"]})
    assert pinned["pinned_message_id"] == post["id"]
    assert "pinned_message_id" not in bob.ok("DELETE", f"/chats/{cid}/pin")
