"""Muting a chat: stored per person, on every device of theirs, ended by time alone."""

from __future__ import annotations

from typing import Any

from darbuka.services.mutes import Mute
from tests.conftest import LiveServer
from tests.helpers import Api, Socket

PHONE = "+447700900301"
HOUR_MS = 3600 * 1000


def _listed(api: Api, chat_id: int) -> dict[str, Any]:
    chats: list[dict[str, Any]] = api.ok("GET", "/chats")["chats"]
    return next(c for c in chats if c["id"] == chat_id)


def _muted(server: LiveServer, chat_id: int, user_ids: list[int], at: int) -> dict[int, Mute]:
    mutes = server.app.state.services.mutes
    found: dict[int, Mute] = server.run_async(mutes.muted(chat_id, user_ids, at))
    return found


def test_a_mute_reaches_every_device_and_ends_by_itself(server: LiveServer) -> None:
    phone, laptop = server.sign_up("Alice", phone=PHONE), server.sign_up(phone=PHONE)
    bob = server.sign_up("Bob")
    chat = bob.group("Loud", [phone])
    socket = Socket(server.ws_url, laptop.token or "", cursor=laptop.sync()["cursor"])
    socket.ready()

    before = server.clock.now_ms()
    answer = phone.ok("PUT", f"/chats/{chat['id']}/mute", json={"for_s": 3600})
    until = answer["mute"]["until"]
    assert before + HOUR_MS <= until <= server.clock.now_ms() + HOUR_MS
    assert answer == {"chat_id": chat["id"], "mute": {"until": until, "mentions": False}}
    event = socket.recv_until(lambda f: f["type"] == "mute.updated")
    assert (event["chat_id"], event["mute"]) == (chat["id"], answer["mute"])
    assert _listed(laptop, chat["id"])["mute"] == answer["mute"]
    assert "mute" not in _listed(bob, chat["id"])  # one person's mute is theirs alone
    assert _muted(server, chat["id"], [phone.id, bob.id], server.clock.now_ms()) == {
        phone.id: Mute(until, False)}

    server.clock.advance(3601)
    assert "mute" not in _listed(laptop, chat["id"])
    assert _muted(server, chat["id"], [phone.id], server.clock.now_ms()) == {}
    # Asked about a time inside the hour, it still held then.
    assert _muted(server, chat["id"], [phone.id], until - 1) == {phone.id: Mute(until, False)}
    socket.close()


def test_until_turned_off_with_mentions_excepted(server: LiveServer) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    chat = bob.direct(alice)
    answer = alice.ok("PUT", f"/chats/{chat['id']}/mute", json={"mentions": True})
    assert answer["mute"] == {"until": None, "mentions": True}
    server.clock.advance(100 * 24 * 3600)  # (a token idles out at 180)
    assert _listed(alice, chat["id"])["mute"] == {"until": None, "mentions": True}
    assert _muted(server, chat["id"], [alice.id], server.clock.now_ms()) == {
        alice.id: Mute(None, True)}

    cursor = alice.sync()["cursor"]
    off = alice.ok("DELETE", f"/chats/{chat['id']}/mute")
    assert off == {"chat_id": chat["id"], "mute": None}
    assert "mute" not in _listed(alice, chat["id"])
    events, _ = alice.sync_all(cursor)
    assert [(e["type"], e["mute"]) for e in events] == [("mute.updated", None)]


def test_eight_hours_replace_an_earlier_mute(server: LiveServer) -> None:
    alice = server.sign_up("Alice")
    chat = alice.group("Mine", [])
    alice.ok("PUT", f"/chats/{chat['id']}/mute", json={"mentions": True})
    answer = alice.ok("PUT", f"/chats/{chat['id']}/mute", json={"for_s": 8 * 3600})
    assert answer["mute"]["mentions"] is False
    server.clock.advance(7 * 3600)
    assert _listed(alice, chat["id"])["mute"] == answer["mute"]
    server.clock.advance(3600)
    assert "mute" not in _listed(alice, chat["id"])


def test_mute_refuses_other_peoples_chats_and_bad_input(server: LiveServer) -> None:
    alice, bob, mallory = server.sign_up("Alice"), server.sign_up("Bob"), server.sign_up("M")
    chat = alice.group("Ours", [bob])
    for method in ("PUT", "DELETE"):
        refused = mallory.call(method, f"/chats/{chat['id']}/mute", json={"for_s": 3600})
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "chat_not_found"
    mallory.call("PUT", "/chats/999999/mute", json={}, expect=404)
    for body, status in (({"for_s": 10}, 400), ({"for_s": 400 * 24 * 3600}, 400),
                         ({"for_s": "3600"}, 422), ({"for_s": True}, 422),
                         ({"mentions": "yes"}, 422)):
        alice.call("PUT", f"/chats/{chat['id']}/mute", json=body, expect=status)
    alice.call("PUT", "/chats/0/mute", json={}, expect=422)
    assert "mute" not in _listed(alice, chat["id"])
    assert _muted(server, chat["id"], [mallory.id], server.clock.now_ms()) == {}


def test_leaving_a_chat_forgets_its_mute(server: LiveServer) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    chat = bob.group("Talk", [alice])
    alice.ok("PUT", f"/chats/{chat['id']}/mute", json={})
    alice.call("DELETE", f"/chats/{chat['id']}/members/{alice.id}", expect=204)
    bob.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [alice.id]})
    assert "mute" not in _listed(alice, chat["id"])


def test_events_applied_to_the_list_equal_the_list_fetched_fresh(server: LiveServer) -> None:
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    chats = [bob.group(f"G{i}", [alice])["id"] for i in range(3)] + [alice.direct(bob)["id"]]
    before = {c["id"]: (c.get("mute"), c.get("draft")) for c in alice.ok("GET", "/chats")["chats"]}
    cursor = alice.sync()["cursor"]
    alice.ok("PUT", f"/chats/{chats[0]}/mute", json={"for_s": 3600})
    alice.ok("PUT", f"/chats/{chats[1]}/mute", json={"mentions": True})
    alice.ok("PUT", f"/chats/{chats[2]}/mute", json={})
    alice.ok("DELETE", f"/chats/{chats[2]}/mute")
    alice.ok("PUT", f"/chats/{chats[1]}/draft", json={"text": "kept"})
    alice.ok("PUT", f"/chats/{chats[3]}/draft", json={"text": "sent soon"})
    alice.send(chats[3], "sent soon")
    bob.ok("PUT", f"/chats/{chats[0]}/draft", json={"text": "bob's own"})
    server.clock.advance(3601)  # the hour's mute ends: no event says so

    events, _ = alice.sync_all(cursor)
    state = dict(before)
    for event in events:
        if event["type"] == "mute.updated":
            state[event["chat_id"]] = (event["mute"], state[event["chat_id"]][1])
        elif event["type"] == "draft.updated":
            state[event["chat_id"]] = (state[event["chat_id"]][0], event["draft"])
    now = server.clock.now_ms()
    applied = {cid: (m if m and (m["until"] is None or m["until"] > now) else None, d)
               for cid, (m, d) in state.items()}
    fresh = {c["id"]: (c.get("mute"), c.get("draft")) for c in alice.ok("GET", "/chats")["chats"]}
    assert applied == fresh
    assert fresh[chats[1]][0] == {"until": None, "mentions": True}
    assert fresh[chats[1]][1]["text"] == "kept"  # type: ignore[index]
    assert fresh[chats[0]] == (None, None) == fresh[chats[3]]
