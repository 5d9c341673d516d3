"""Someone who is not in a chat can neither see nor touch it, by any route or stream.

The routes are read off the app's OpenAPI schema, so a new chat route fails this file until
it is added to `CALLS` below (and so gets walked as an outsider too).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id
from tests.media_helpers import png, upload_ready

# (method, route) → the body an insider would send. Every chat route must be here.
CALLS: dict[tuple[str, str], dict[str, Any] | None] = {
    ("GET", "/api/v1/chats/{chat_id}"): None,
    ("PATCH", "/api/v1/chats/{chat_id}"): {"title": "taken over"},
    ("GET", "/api/v1/chats/{chat_id}/members"): None,
    ("POST", "/api/v1/chats/{chat_id}/members"): {"user_ids": ["OUTSIDER"]},
    ("DELETE", "/api/v1/chats/{chat_id}/members/{user_id}"): None,
    ("PATCH", "/api/v1/chats/{chat_id}/members/{user_id}"): {"role": "admin"},
    ("POST", "/api/v1/chats/{chat_id}/join"): None,
    ("POST", "/api/v1/chats/{chat_id}/leave"): None,
    ("POST", "/api/v1/chats/{chat_id}/messages"): {"client_id": "NEW", "text": "let me in"},
    ("GET", "/api/v1/chats/{chat_id}/messages"): None,
    ("PATCH", "/api/v1/chats/{chat_id}/messages/{message_id}"): {"text": "rewritten"},
    ("DELETE", "/api/v1/chats/{chat_id}/messages/{message_id}"): None,
    ("POST", "/api/v1/chats/{chat_id}/messages/{message_id}/callback"): {"payload": "b1"},
    ("POST", "/api/v1/chats/{chat_id}/read"): {"seq": 1},
    ("POST", "/api/v1/chats/{chat_id}/delivered"): {"seq": 1},
    ("PUT", "/api/v1/chats/{chat_id}/pin"): {"message_id": 1},
    ("DELETE", "/api/v1/chats/{chat_id}/pin"): None,
    ("POST", "/api/v1/chats/{chat_id}/typing"): None,
    # social
    ("POST", "/api/v1/chats/{chat_id}/invites"): {"max_uses": 5},
    ("GET", "/api/v1/chats/{chat_id}/invites"): None,
    ("DELETE", "/api/v1/chats/{chat_id}/invites/{invite_id}"): None,
    ("PUT", "/api/v1/chats/{chat_id}/members/{user_id}/rights"): {"rights": ["write"]},
    ("PUT", "/api/v1/chats/{chat_id}/messages/{message_id}/reactions"): {"emoji": "👍"},
    ("DELETE", "/api/v1/chats/{chat_id}/messages/{message_id}/reactions"): None,
    ("GET", "/api/v1/chats/{chat_id}/reactions"): None,
    ("POST", "/api/v1/chats/{chat_id}/messages/{message_id}/votes"): {"client_id": "NEW",
                                                                       "options": [0]},
    ("GET", "/api/v1/chats/{chat_id}/messages/{message_id}/poll"): None,
    ("POST", "/api/v1/chats/{chat_id}/messages/{message_id}/poll/close"): None,
    ("POST", "/api/v1/chats/{chat_id}/views"): {"message_ids": [1]},
    ("PUT", "/api/v1/chats/{chat_id}/avatar"): {"media_id": "OWN_AVATAR"},
    ("DELETE", "/api/v1/chats/{chat_id}/avatar"): None,
    # chat admins' tools
    ("GET", "/api/v1/chats/{chat_id}/bans"): None,
    ("PUT", "/api/v1/chats/{chat_id}/bans/{user_id}"): None,
    ("DELETE", "/api/v1/chats/{chat_id}/bans/{user_id}"): None,
    ("GET", "/api/v1/chats/{chat_id}/join_requests"): None,
    ("POST", "/api/v1/chats/{chat_id}/join_requests/{user_id}/approve"): None,
    ("DELETE", "/api/v1/chats/{chat_id}/join_requests/{user_id}"): None,
    ("GET", "/api/v1/chats/{chat_id}/admin_log"): None,
    ("POST", "/api/v1/chats/{chat_id}/escalations"): {"user_id": 1, "reason": "spam"},
    # a member's own settings
    ("PUT", "/api/v1/chats/{chat_id}/mute"): {"for_s": 3600},
    ("DELETE", "/api/v1/chats/{chat_id}/mute"): None,
    ("PUT", "/api/v1/chats/{chat_id}/draft"): {"text": "from outside"},
    # scheduled messages
    ("POST", "/api/v1/chats/{chat_id}/scheduled"): {"client_id": "NEW", "text": "later",
                                                    "send_at": 2**42},
    ("GET", "/api/v1/chats/{chat_id}/scheduled"): None,
    ("PATCH", "/api/v1/chats/{chat_id}/scheduled/{scheduled_id}"): {"text": "changed"},
    ("DELETE", "/api/v1/chats/{chat_id}/scheduled/{scheduled_id}"): None,
}


def chat_routes(server: LiveServer) -> set[tuple[str, str]]:
    """Every chat route the app serves, as its OpenAPI schema lists them."""
    paths: dict[str, dict[str, Any]] = server.app.openapi()["paths"]
    return {(method.upper(), path) for path, ops in paths.items() if "{chat_id}" in path
            for method in ops}


def snapshot(insider: Api, chat_id: int) -> Any:
    """Everything an outsider could try to change, as an insider sees it."""
    chat = insider.ok("GET", f"/chats/{chat_id}")
    members = insider.ok("GET", f"/chats/{chat_id}/members")
    history = insider.history(chat_id, limit=100)
    return ({k: chat[k] for k in ("title", "description", "member_count")},
            members, [(m["id"], m["text"], m.get("deleted")) for m in history])


def fill(template: str, chat_id: int, message_id: int, victim: int) -> str:
    return (template.removeprefix("/api/v1").replace("{chat_id}", str(chat_id))
            .replace("{message_id}", str(message_id)).replace("{user_id}", str(victim))
            .replace("{invite_id}", "1").replace("{scheduled_id}", "1"))


def body_for(template: dict[str, Any] | None, outsider: Api,
             avatar_id: str = "") -> dict[str, Any] | None:
    if template is None:
        return None
    body = dict(template)
    if body.get("media_id") == "OWN_AVATAR":  # a real, ready upload of the outsider's own
        body["media_id"] = avatar_id
    if body.get("user_ids") == ["OUTSIDER"]:
        body["user_ids"] = [outsider.id]
    if body.get("client_id") == "NEW":
        body["client_id"] = new_client_id()
    return body


def test_every_chat_route_is_walked(server: LiveServer) -> None:
    assert chat_routes(server) == set(CALLS), "add the new chat route to CALLS"


def test_an_outsider_gets_404_from_every_chat_route_and_changes_nothing(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("Private", [bob])
    direct = alice.direct(bob)
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Closed channel"})
    alice.ok("POST", f"/chats/{channel['id']}/members", json={"user_ids": [bob.id]})
    avatar_id = upload_ready(carol, png(), kind="avatar")["id"]
    for chat in (group, direct, channel):
        message = alice.send(chat["id"], "members only")
        before = snapshot(alice, chat["id"])
        for (method, template), body in CALLS.items():
            path = fill(template, chat["id"], message["id"], victim=bob.id)
            response = carol.call(method, path, json=body_for(body, carol, avatar_id))
            assert response.status_code in (403, 404), (method, path, response.text)
            assert set(response.json()["error"]) == {"code", "message"}
        assert snapshot(alice, chat["id"]) == before, chat["kind"]


def test_a_member_cannot_reach_a_message_of_another_chat_through_their_own(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    secret = alice.send(alice.group("Private", [bob])["id"], "not yours")
    own = carol.group("Carol's", [alice])
    for method, body in (("PATCH", {"text": "mine now"}), ("DELETE", None)):
        response = carol.call(method, f"/chats/{own['id']}/messages/{secret['id']}", json=body)
        assert response.status_code == 404
    assert carol.call("POST", f"/chats/{own['id']}/messages", json={
        "client_id": new_client_id(), "text": "re", "reply_to": secret["id"]}).status_code in (
            400, 404, 422)


def test_an_outsider_gets_none_of_the_events(server: LiveServer, alice: Api, bob: Api,
                                             carol: Api) -> None:
    cursor = carol.sync()["cursor"]
    sock = Socket(server.ws_url, carol.token or "", cursor=cursor)
    assert sock.ready()["type"] == "ready"
    group = alice.group("Private", [bob])
    alice.send(group["id"], "hello")
    alice.ok("PATCH", f"/chats/{group['id']}", json={"title": "Renamed"})
    bob.ok("POST", f"/chats/{group['id']}/read", json={"seq": 1})
    bob.ok("POST", f"/chats/{group['id']}/delivered", json={"seq": 2})
    alice.ok("POST", f"/chats/{group['id']}/typing")
    # Then one event carol is due: the stream works, it just carried nothing of theirs.
    own = carol.group("Carol's", [])
    frame = sock.recv_until(lambda f: f["type"] == "chat.created")
    assert frame["chat"]["id"] == own["id"]
    assert all(f.get("chat_id") != group["id"] and f.get("chat", {}).get("id") != group["id"]
               for f in sock.frames)
    events, _ = carol.sync_all(cursor)
    assert events
    assert {e.get("chat_id") or e.get("chat", {}).get("id") or e["message"]["chat_id"]
            for e in events} == {own["id"]}
    sock.close()


@pytest.mark.parametrize("how", ["removed", "left"])
def test_after_leaving_a_member_sees_nothing_new(server: LiveServer, alice: Api, bob: Api,
                                                 how: str) -> None:
    group = alice.group("Group", [bob])
    alice.send(group["id"], "while you were here")
    cursor = bob.sync()["cursor"]
    if how == "removed":
        alice.ok("DELETE", f"/chats/{group['id']}/members/{bob.id}")
    else:
        bob.ok("POST", f"/chats/{group['id']}/leave")
    alice.send(group["id"], "after you left")
    alice.ok("PATCH", f"/chats/{group['id']}", json={"title": "New era"})
    events, _ = bob.sync_all(cursor)
    # The stream ends with bob's own leaving (and the system message that told the chat).
    assert events[-1]["type"] == "member.left"
    assert events[-1]["user_id"] == bob.id
    assert not [e for e in events if e["type"] == "chat.updated"
                or e.get("message", {}).get("text") == "after you left"]
    assert bob.call("GET", f"/chats/{group['id']}/messages").status_code == 404
