"""Chat admins' tools: bans, join requests, slow mode, the admin log and escalation, held to
over the HTTP API, the socket and the Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id
from tests.safety_helpers import make_staff


def live_socket(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    return sock


def socket_send(sock: Socket, chat_id: int, text: str, frame_id: int) -> dict[str, Any]:
    sock.send_json({"type": "send", "id": frame_id, "chat_id": chat_id,
                    "client_id": new_client_id(), "text": text})
    return sock.recv_until(lambda f: f["type"] in ("ack", "error") and f.get("id") == frame_id)


def log_actions(api: Api, chat_id: int) -> list[tuple[str, int | None]]:
    entries = api.ok("GET", f"/chats/{chat_id}/admin_log")["entries"]
    return [(e["action"], e["target_id"]) for e in entries]


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


# -- bans ---------------------------------------------------------------------------------

def test_a_banned_member_is_removed_and_cannot_rejoin(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Bans", [bob, carol], handle="banned_here")
    token = alice.ok("POST", f"/chats/{chat['id']}/invites", json={})["token"]
    alice.call("PUT", f"/chats/{chat['id']}/bans/{bob.id}", expect=204)
    members = {m["user_id"] for m in alice.ok("GET", f"/chats/{chat['id']}/members")["members"]}
    assert bob.id not in members
    assert alice.ok("GET", f"/chats/{chat['id']}/bans")["bans"][0]["user_id"] == bob.id
    # Not by handle, not by link, not by an admin adding them, and no posting.
    assert error_code(bob.call("POST", f"/chats/{chat['id']}/join", expect=403)) == "banned"
    assert error_code(bob.call("POST", f"/invites/{token}/join", expect=403)) == "banned"
    response = alice.call("POST", f"/chats/{chat['id']}/members",
                          json={"user_ids": [bob.id]}, expect=403)
    assert error_code(response) == "banned"
    response = bob.call("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": new_client_id(), "text": "back"}, expect=404)
    # Lifted, they may join again.
    alice.call("DELETE", f"/chats/{chat['id']}/bans/{bob.id}", expect=204)
    assert bob.ok("POST", f"/invites/{token}/join")["id"] == chat["id"]
    assert log_actions(alice, chat["id"])[:2] == [("member.unbanned", bob.id),
                                                   ("member.banned", bob.id)]


def test_bans_follow_the_rights_of_removing(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Who bans", [bob, carol])
    # A plain member bans nobody; nobody bans the owner; unknown people are 404.
    assert error_code(bob.call("PUT", f"/chats/{chat['id']}/bans/{carol.id}",
                               expect=403)) == "not_admin"
    alice.call("PATCH", f"/chats/{chat['id']}/members/{bob.id}", json={"role": "admin"},
               expect=204)
    assert error_code(bob.call("PUT", f"/chats/{chat['id']}/bans/{alice.id}",
                               expect=403)) == "cannot_change_owner"
    alice.call("PUT", f"/chats/{chat['id']}/bans/999999", expect=404)
    alice.call("DELETE", f"/chats/{chat['id']}/bans/{carol.id}", expect=404)
    alice.call("PUT", f"/chats/{chat['id']}/bans/0", expect=422)
    # An outsider learns nothing of the chat.
    outsider_chat = carol.direct(bob)
    alice.call("GET", f"/chats/{outsider_chat['id']}/bans", expect=404)
    alice.call("PUT", f"/chats/{outsider_chat['id']}/bans/{bob.id}", expect=404)


def test_a_bot_bans_with_tamtams_block_and_a_banned_bot_cannot_post(
        server: LiveServer, alice: Api, bob: Api) -> None:
    bot = make_bot(server)
    chat = alice.group("With a bot", [bob])
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    alice.call("PATCH", f"/chats/{chat['id']}/members/{bot.id}", json={"role": "admin"},
               expect=204)
    bot.call("DELETE", f"/chats/{chat['id']}/members",
             params={"user_id": bob.id, "block": "true"})
    assert alice.ok("GET", f"/chats/{chat['id']}/bans")["bans"][0]["user_id"] == bob.id
    assert ("member.banned", bob.id) in log_actions(alice, chat["id"])
    # The owner bans the bot: its posts over the Bot API are refused.
    alice.call("PUT", f"/chats/{chat['id']}/bans/{bot.id}", expect=204)
    bot.call("POST", "/messages", params={"chat_id": chat["id"]}, json={"text": "still?"},
             expect=404)
    bot.close()


# -- join requests ------------------------------------------------------------------------

def test_join_approval_turns_joins_into_requests(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Ask first", [], handle="ask_first")
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"join_approval": True})
    invite = alice.ok("POST", f"/chats/{chat['id']}/invites", json={})
    token = invite["token"]
    cursor = alice.sync()["cursor"]
    asked = bob.ok("POST", f"/chats/{chat['id']}/join")
    assert asked["join_request"]["user_id"] == bob.id
    assert carol.ok("POST", f"/invites/{token}/join")["join_request"]["user_id"] == carol.id
    # Not members yet: they cannot read or post.
    bob.call("GET", f"/chats/{chat['id']}/messages", expect=404)
    events, _ = alice.sync_all(cursor)
    assert {e["user_id"] for e in events if e["type"] == "join_request.new"} == {bob.id, carol.id}
    waiting = alice.ok("GET", f"/chats/{chat['id']}/join_requests")["join_requests"]
    assert [r["user_id"] for r in waiting] == [bob.id, carol.id]
    # Approved, bob is in; declined, carol is not, and hears so.
    bob_cursor = bob.sync()["cursor"]
    alice.call("POST", f"/chats/{chat['id']}/join_requests/{bob.id}/approve", expect=204)
    alice.call("DELETE", f"/chats/{chat['id']}/join_requests/{carol.id}", expect=204)
    assert bob.send(chat["id"], "let in")["text"] == "let in"
    carol.call("GET", f"/chats/{chat['id']}/messages", expect=404)
    bob_events, _ = bob.sync_all(bob_cursor)
    assert any(e["type"] == "member.joined" and e["user_id"] == bob.id for e in bob_events)
    assert any(e["type"] == "join_request.decided" and e["approved"] for e in bob_events)
    assert alice.ok("GET", f"/chats/{chat['id']}/join_requests")["join_requests"] == []
    alice.call("DELETE", f"/chats/{chat['id']}/join_requests/{carol.id}", expect=404)
    assert log_actions(alice, chat["id"])[:3] == [
        ("join.declined", carol.id), ("join.approved", bob.id), ("invite.created", invite["id"])]


def test_join_requests_are_for_admins_and_bans_drop_them(alice: Api, bob: Api,
                                                         carol: Api) -> None:
    chat = alice.group("Ask", [carol], handle="ask_second")
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"join_approval": True})
    bob.ok("POST", f"/chats/{chat['id']}/join")
    # A plain member neither sees nor decides requests.
    carol.call("GET", f"/chats/{chat['id']}/join_requests", expect=403)
    carol.call("POST", f"/chats/{chat['id']}/join_requests/{bob.id}/approve", expect=403)
    alice.call("PUT", f"/chats/{chat['id']}/bans/{bob.id}", expect=204)
    assert alice.ok("GET", f"/chats/{chat['id']}/join_requests")["join_requests"] == []
    alice.call("POST", f"/chats/{chat['id']}/join_requests/{bob.id}/approve", expect=404)
    assert error_code(bob.call("POST", f"/chats/{chat['id']}/join", expect=403)) == "banned"
    response = alice.call("PATCH", f"/chats/{chat['id']}", json={"join_approval": "yes"})
    assert response.status_code == 422


# -- slow mode ----------------------------------------------------------------------------

def test_slow_mode_holds_members_over_http_the_socket_and_the_bot_api(
        server: LiveServer, alice: Api, bob: Api) -> None:
    bot = make_bot(server)
    chat = alice.group("Slow", [bob])
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 30})
    bob.send(chat["id"], "first")
    response = bob.call("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": new_client_id(), "text": "second"}, expect=429)
    assert error_code(response) == "slow_mode"
    assert 1 <= int(response.headers["retry-after"]) <= 30
    sock = live_socket(server, bob)
    assert socket_send(sock, chat["id"], "over the socket", 1)["error"]["code"] == "slow_mode"
    bot.call("POST", "/messages", params={"chat_id": chat["id"]}, json={"text": "one"})
    bot.call("POST", "/messages", params={"chat_id": chat["id"]}, json={"text": "two"},
             expect=429)
    # The owner is not held; after 30 s bob may post again, over the socket too.
    alice.send(chat["id"], "admins are free")
    alice.send(chat["id"], "twice")
    server.clock.advance(31)
    assert socket_send(sock, chat["id"], "later", 2)["type"] == "ack"
    assert socket_send(sock, chat["id"], "too soon", 3)["error"]["code"] == "slow_mode"
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 0})
    assert socket_send(sock, chat["id"], "off again", 4)["type"] == "ack"
    assert [a for a, _ in log_actions(alice, chat["id"])[:2]] == ["slow_mode.changed"] * 2
    sock.close()
    bot.close()


def test_slow_mode_counts_sends_of_one_batch(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.group("Slow batch", [bob])
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 60})
    sock = live_socket(server, bob)
    for frame_id in (1, 2, 3):  # sent at once: they may share one commit
        sock.send_json({"type": "send", "id": frame_id, "chat_id": chat["id"],
                        "client_id": new_client_id(), "text": f"burst {frame_id}"})
    answers = [sock.recv_until(lambda f, i=i: f["type"] in ("ack", "error") and f["id"] == i)
               for i in (1, 2, 3)]
    assert [a["type"] for a in answers] == ["ack", "error", "error"]
    sock.close()


@pytest.mark.parametrize("value", [-1, 3601, "10", True, 1.5])
def test_slow_mode_takes_seconds_from_0_to_3600(alice: Api, value: Any) -> None:
    chat = alice.group("Bad slow", [])
    alice.call("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": value}, expect=422)


# -- the admin log ------------------------------------------------------------------------

def test_every_admin_action_is_in_the_admin_log(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Logged", [bob])
    cid = chat["id"]
    message = bob.send(cid, "to be deleted")
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [carol.id]})
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["pin"]})
    alice.ok("PATCH", f"/chats/{cid}", json={"title": "Logged 2", "slow_mode_s": 10,
                                             "join_approval": True})
    pinned = alice.send(cid, "pin me")
    alice.ok("PUT", f"/chats/{cid}/pin", json={"message_id": pinned["id"]})
    alice.ok("DELETE", f"/chats/{cid}/messages/{message['id']}")
    invite = alice.ok("POST", f"/chats/{cid}/invites", json={})
    alice.call("DELETE", f"/chats/{cid}/invites/{invite['id']}", expect=204)
    alice.call("DELETE", f"/chats/{cid}/members/{carol.id}", expect=204)
    alice.call("PUT", f"/chats/{cid}/bans/{carol.id}", expect=204)
    alice.call("DELETE", f"/chats/{cid}/bans/{carol.id}", expect=204)
    alice.ok("POST", f"/chats/{cid}/escalations", json={"user_id": bob.id, "reason": "spam"})
    entries = alice.ok("GET", f"/chats/{cid}/admin_log", params={"limit": 200})["entries"]
    assert [(e["action"], e["target_id"]) for e in reversed(entries)] == [
        ("member.added", carol.id), ("role.changed", bob.id), ("rights.changed", bob.id),
        ("slow_mode.changed", None), ("join_approval.changed", None), ("chat.edited", None),
        ("message.pinned", pinned["id"]), ("message.deleted", message["id"]),
        ("invite.created", invite["id"]), ("invite.revoked", invite["id"]),
        ("member.removed", carol.id), ("member.banned", carol.id),
        ("member.unbanned", carol.id), ("report.escalated", bob.id)]
    assert all(e["actor_id"] == alice.id for e in entries)
    by_action = {e["action"]: e["details"] for e in entries}
    assert by_action["slow_mode.changed"] == {"value": 10}
    assert by_action["chat.edited"] == {"title": "Logged 2"}
    assert by_action["rights.changed"] == {"rights": ["pin"]}
    # Paging, and only admins read it.
    older = alice.ok("GET", f"/chats/{cid}/admin_log",
                     params={"before": entries[0]["id"], "limit": 1})["entries"]
    assert [e["id"] for e in older] == [entries[1]["id"]]
    assert error_code(carol.call("GET", f"/chats/{cid}/admin_log", expect=404)) \
        == "chat_not_found"
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "member"}, expect=204)
    assert error_code(bob.call("GET", f"/chats/{cid}/admin_log", expect=403)) == "not_admin"


def test_an_action_refused_leaves_no_log_entry(alice: Api, bob: Api) -> None:
    chat = alice.group("Nothing logged", [bob])
    alice.call("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 10000}, expect=422)
    alice.call("PUT", f"/chats/{chat['id']}/bans/{alice.id}", expect=403)
    assert log_actions(alice, chat["id"]) == []
    # A member's own deletions are no admin action.
    own = bob.send(chat["id"], "mine")
    bob.ok("DELETE", f"/chats/{chat['id']}/messages/{own['id']}")
    assert log_actions(alice, chat["id"]) == []


# -- escalation ---------------------------------------------------------------------------

def test_an_admin_escalates_a_message_into_the_platform_queue(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("Escalate", [bob])
    bad = bob.send(chat["id"], "something for the platform")
    report = alice.ok("POST", f"/chats/{chat['id']}/escalations",
                      json={"message_id": bad["id"], "reason": "terrorism",
                            "note": "from our chat"})
    assert (report["target_type"], report["target_id"]) == ("message", bad["id"])
    moderator = make_staff(server, carol, "moderator")
    items = moderator.ok("GET", "/moderation/queue")["items"]
    assert [(i["target_type"], i["target_id"], i["chat_id"]) for i in items] == [
        ("message", bad["id"], chat["id"])]
    assert ("report.escalated", bad["id"]) in log_actions(alice, chat["id"])
    # Only admins, only what is in their chat, one target.
    bob.call("POST", f"/chats/{chat['id']}/escalations",
             json={"message_id": bad["id"], "reason": "spam"}, expect=403)
    other = bob.direct(carol)
    elsewhere = bob.send(other["id"], "not alice's chat")
    alice.call("POST", f"/chats/{chat['id']}/escalations",
               json={"message_id": elsewhere["id"], "reason": "spam"}, expect=404)
    alice.call("POST", f"/chats/{chat['id']}/escalations",
               json={"user_id": carol.id, "reason": "spam"}, expect=404)
    alice.call("POST", f"/chats/{chat['id']}/escalations",
               json={"message_id": bad["id"], "user_id": bob.id, "reason": "spam"}, expect=400)
    alice.call("POST", f"/chats/{chat['id']}/escalations",
               json={"message_id": bad["id"], "reason": "nonsense"}, expect=422)


def test_bans_and_join_requests_hold_on_the_socket_and_the_bot_api(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    bot = make_bot(server)
    chat = alice.group("Every door", [bob], handle="every_door")
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    alice.call("PATCH", f"/chats/{chat['id']}/members/{bot.id}", json={"role": "admin"},
               expect=204)
    b_sock, c_sock = live_socket(server, bob), live_socket(server, carol)
    assert socket_send(b_sock, chat["id"], "before", 1)["type"] == "ack"
    alice.call("PUT", f"/chats/{chat['id']}/bans/{bob.id}", expect=204)
    # Bob's open socket hears he is out, and its sends are refused.
    b_sock.recv_until(lambda f: f["type"] == "member.left" and f["user_id"] == bob.id)
    assert socket_send(b_sock, chat["id"], "after", 2)["error"]["code"] == "chat_not_found"
    # A bot admin cannot add him back either.
    response = bot.http.request("POST", f"/chats/{chat['id']}/members",
                                json={"user_ids": [bob.id]})
    assert response.status_code == 403
    # Carol's request waits: until approved her socket sends are refused.
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"join_approval": True})
    carol.ok("POST", f"/chats/{chat['id']}/join")
    assert socket_send(c_sock, chat["id"], "early", 1)["error"]["code"] == "chat_not_found"
    alice.call("POST", f"/chats/{chat['id']}/join_requests/{carol.id}/approve", expect=204)
    c_sock.recv_until(lambda f: f["type"] == "member.joined" and f["user_id"] == carol.id)
    assert socket_send(c_sock, chat["id"], "in now", 2)["type"] == "ack"
    b_sock.close()
    c_sock.close()
    bot.close()


def test_members_hear_slow_mode_and_join_approval_in_the_chat(alice: Api, bob: Api) -> None:
    chat = alice.group("Told", [bob])
    cursor = bob.sync()["cursor"]
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 60, "join_approval": True})
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"slow_mode_s": 0, "join_approval": False})
    events, _ = bob.sync_all(cursor)
    updated = [e["chat"] for e in events if e["type"] == "chat.updated"]
    assert [(c.get("slow_mode_s"), c.get("join_approval")) for c in updated] == [
        (60, True), (None, None)]
    assert "slow_mode_s" not in bob.ok("GET", f"/chats/{chat['id']}")
