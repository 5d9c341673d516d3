"""Delivered marks (REST and socket), read implies delivered, and blocks keeping typing
notices and read/delivered marks on their own side of a direct chat."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from darbuka.storage.db import Database
from darbuka.storage.migrate import alembic_config
from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id


def _member(api: Api, chat_id: int, user_id: int) -> dict[str, Any]:
    members = api.ok("GET", f"/chats/{chat_id}/members")["members"]
    found: dict[str, Any] = next(m for m in members if m["user_id"] == user_id)
    return found


def _socket(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    sock.ready()
    return sock


def _delivered(api: Api, chat_id: int, seq: Any, expect: int = 200) -> Any:
    return api.call("POST", f"/chats/{chat_id}/delivered", json={"seq": seq},
                    expect=expect).json()


def test_delivered_marks_move_forward_only_and_clamp(server: LiveServer, alice: Api,
                                                     bob: Api) -> None:
    chat = alice.direct(bob)
    for text in ("one", "two", "three"):
        alice.send(chat["id"], text)
    assert _member(alice, chat["id"], bob.id)["last_delivered_seq"] == 0
    cursor = alice.sync()["cursor"]

    assert _delivered(bob, chat["id"], 2) == {"chat_id": chat["id"], "seq": 2}
    assert _delivered(bob, chat["id"], 1) == {"chat_id": chat["id"], "seq": 2}  # never back
    assert _delivered(bob, chat["id"], 99) == {"chat_id": chat["id"], "seq": 3}  # clamped
    member = _member(alice, chat["id"], bob.id)
    assert (member["last_delivered_seq"], member["last_read_seq"]) == (3, 0)

    # Alice's devices hear each forward move once, in order; the no-op marks tell no one.
    events, _ = alice.sync_all(cursor)
    assert [(e["user_id"], e["seq"]) for e in events if e["type"] == "chat.delivered"] == [
        (bob.id, 2), (bob.id, 3)]


def test_reading_moves_delivered_along(alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("Readers", [bob, carol])
    sent = [alice.send(group["id"], f"m{i}") for i in range(3)]
    bob.ok("POST", f"/chats/{group['id']}/read", json={"seq": sent[1]["seq"]})
    member = _member(alice, group["id"], bob.id)
    assert member["last_read_seq"] == member["last_delivered_seq"] == sent[1]["seq"]
    # A delivered mark behind what was read changes nothing.
    assert _delivered(bob, group["id"], sent[0]["seq"])["seq"] == sent[1]["seq"]
    # A member's own message counts as read and delivered for them.
    carol.send(group["id"], "mine")
    own = _member(alice, group["id"], carol.id)
    assert own["last_delivered_seq"] == own["last_read_seq"] > sent[2]["seq"]


def test_delivered_over_the_socket_reaches_the_chat(server: LiveServer, alice: Api,
                                                    bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "did it arrive?")
    a = _socket(server, alice)
    b = _socket(server, bob)
    b.send_json({"type": "delivered", "chat_id": chat["id"], "seq": message["seq"]})
    mark = a.recv_until(lambda f: f["type"] == "chat.delivered")
    assert (mark["chat_id"], mark["user_id"], mark["seq"]) == (chat["id"], bob.id,
                                                               message["seq"])
    assert _member(alice, chat["id"], bob.id)["last_delivered_seq"] == message["seq"]
    # Bad frames get an error frame with the frame's id.
    b.send_json({"type": "delivered", "id": 7, "chat_id": chat["id"], "seq": "5"})
    error = b.recv_until(lambda f: f["type"] == "error")
    assert (error["id"], error["error"]["code"]) == (7, "invalid_seq")
    b.send_json({"type": "delivered", "id": 8, "chat_id": 10**9, "seq": 1})
    error = b.recv_until(lambda f: f["type"] == "error")
    assert (error["id"], error["error"]["code"]) == (8, "chat_not_found")
    a.close()
    b.close()


def test_in_a_channel_delivered_marks_stay_with_the_subscriber(server: LiveServer, alice: Api,
                                                               bob: Api) -> None:
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News",
                                                "member_ids": [bob.id]})
    post = alice.send(channel["id"], "news")
    alice_cursor = alice.sync()["cursor"]
    bob_cursor = bob.sync()["cursor"]
    assert _delivered(bob, channel["id"], post["seq"])["seq"] == post["seq"]
    bob.ok("POST", f"/chats/{channel['id']}/read", json={"seq": post["seq"]})
    events, _ = alice.sync_all(alice_cursor)
    assert [e for e in events if e["type"] in ("chat.delivered", "chat.read")] == []
    own, _ = bob.sync_all(bob_cursor)
    assert [e["type"] for e in own if e["type"] in ("chat.delivered", "chat.read")] == [
        "chat.delivered", "chat.read"]


@pytest.mark.parametrize("seq", [-1, "3", 1.5, True, None, 2**63])
def test_a_bad_seq_is_a_400(alice: Api, bob: Api, seq: Any) -> None:
    chat = alice.direct(bob)
    body = _delivered(bob, chat["id"], seq, expect=400)
    assert body["error"]["code"] == "invalid_seq"


def test_other_peoples_chats_are_404(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.direct(bob)
    alice.send(chat["id"], "private")
    for chat_id in (chat["id"], 10**9):
        body = _delivered(carol, chat_id, 1, expect=404)
        assert body["error"]["code"] == "chat_not_found"
    assert _member(alice, chat["id"], bob.id)["last_delivered_seq"] == 0


def test_migration_starts_delivered_at_read(database_url: str) -> None:
    async def run() -> list[tuple[object, ...]]:
        db = Database(database_url)
        try:
            def steps(conn: sa.Connection) -> list[sa.Row[Any]]:
                command.upgrade(alembic_config(conn), "0008")
                for sql in (
                        "INSERT INTO users (id, created_at) VALUES (1, 1), (2, 1)",
                        "INSERT INTO chats (id, kind, created_at, last_seq) "
                        "VALUES (1, 'direct', 1, 9)",
                        "INSERT INTO members (chat_id, user_id, role, joined_at, last_read_seq) "
                        "VALUES (1, 1, 'member', 1, 9), (1, 2, 'member', 1, 4)"):
                    conn.execute(sa.text(sql))
                command.upgrade(alembic_config(conn), "head")
                rows = list(conn.execute(sa.text(
                    "SELECT user_id, last_read_seq, last_delivered_seq FROM members "
                    "ORDER BY user_id")).all())
                command.downgrade(alembic_config(conn), "0008")
                return rows

            rows = await db.run_sync(steps)
            return [tuple(r) for r in rows]
        finally:
            await db.dispose()

    # Its own thread: a browser test earlier in the session leaves a loop running here.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        rows = pool.submit(asyncio.run, run()).result()
    assert rows == [(1, 9, 9), (2, 4, 4)]


# -- blocks -------------------------------------------------------------------------------

def _from_chat(frames: list[dict[str, Any]], chat_id: int) -> list[tuple[str, Any]]:
    return [(f["type"], f.get("user_id")) for f in frames
            if f.get("chat_id") == chat_id and f["type"] in ("typing", "chat.read",
                                                             "chat.delivered")]


def test_a_block_keeps_typing_and_marks_on_their_own_side(server: LiveServer) -> None:
    alice = server.sign_up("Alice")
    mallory = server.sign_up("Mallory")
    carol = server.sign_up("Carol")
    quiet = mallory.direct(alice)
    open_chat = carol.direct(alice)
    to_mallory = alice.send(quiet["id"], "before the block")
    to_carol = alice.send(open_chat["id"], "hello carol")
    alice.call("PUT", f"/me/blocked/{mallory.id}", expect=204)
    alice_cursor = alice.sync()["cursor"]
    a = _socket(server, alice)
    m = _socket(server, mallory)

    # The blocked side: typing over the socket (refused) and over HTTP (refused), and
    # delivered and read marks, which are stored but only reach Mallory's own devices.
    m.send_json({"type": "typing", "id": 1, "chat_id": quiet["id"]})
    error = m.recv_until(lambda f: f["type"] == "error")
    assert (error["id"], error["error"]["code"]) == (1, "cannot_message")
    mallory.call("POST", f"/chats/{quiet['id']}/typing", expect=403)
    m.send_json({"type": "delivered", "chat_id": quiet["id"], "seq": to_mallory["seq"]})
    assert m.recv_until(lambda f: f["type"] == "chat.delivered")["user_id"] == mallory.id
    m.send_json({"type": "read", "chat_id": quiet["id"], "seq": to_mallory["seq"]})
    assert m.recv_until(lambda f: f["type"] == "chat.read")["user_id"] == mallory.id
    assert _member(alice, quiet["id"], mallory.id)["last_read_seq"] == to_mallory["seq"]
    # The blocker's typing does not reach the blocked user either (and is not refused).
    alice.call("POST", f"/chats/{quiet['id']}/typing", expect=204)
    a.send_json({"type": "typing", "chat_id": quiet["id"]})

    # An unblocked pair does the same and is heard; what Mallory did came before it.
    carol.call("POST", f"/chats/{open_chat['id']}/typing", expect=204)
    c = _socket(server, carol)
    c.send_json({"type": "typing", "chat_id": open_chat["id"]})
    c.send_json({"type": "delivered", "chat_id": open_chat["id"], "seq": to_carol["seq"]})
    # Stored before the read that follows over HTTP (else the read, which implies
    # delivered, may come first and leave the delivered mark nothing to move).
    c.recv_until(lambda f: f["type"] == "chat.delivered")
    carol.ok("POST", f"/chats/{open_chat['id']}/read", json={"seq": to_carol["seq"]})
    wanted = [("typing", carol.id), ("typing", carol.id), ("chat.delivered", carol.id),
              ("chat.read", carol.id)]
    a.recv_until(lambda _f: sorted(_from_chat(a.frames, open_chat["id"])) == sorted(wanted))
    assert _from_chat(a.frames, quiet["id"]) == []
    # Alice's typing went out before her message; Mallory gets the message alone.
    a.send_json({"type": "send", "id": 2, "chat_id": quiet["id"],
                 "client_id": new_client_id(), "text": "the blocker may still write"})
    m.recv_until(lambda f: f["type"] == "message.new")
    assert _from_chat(m.frames, quiet["id"]) == [("chat.delivered", mallory.id),
                                                 ("chat.read", mallory.id)]
    # Alice's typing in the open chat still reaches Carol.
    a.send_json({"type": "typing", "chat_id": open_chat["id"]})
    c.recv_until(lambda f: f["type"] == "typing" and f["user_id"] == alice.id)
    # Catch-up does not hand the marks out either.
    events, _ = alice.sync_all(alice_cursor)
    assert _from_chat(events, quiet["id"]) == []
    assert ("chat.read", carol.id) in _from_chat(events, open_chat["id"])
    for sock in (a, m, c):
        sock.close()


def test_after_an_unblock_marks_reach_the_other_side_again(server: LiveServer, alice: Api,
                                                           bob: Api) -> None:
    chat = bob.direct(alice)
    message = alice.send(chat["id"], "hi")
    alice.call("PUT", f"/me/blocked/{bob.id}", expect=204)
    alice.call("DELETE", f"/me/blocked/{bob.id}", expect=204)
    a = _socket(server, alice)
    bob.call("POST", f"/chats/{chat['id']}/typing", expect=204)
    _delivered(bob, chat["id"], message["seq"])
    a.recv_until(lambda _f: _from_chat(a.frames, chat["id"]) == [
        ("typing", bob.id), ("chat.delivered", bob.id)])
    a.close()


def test_marks_reactions_and_views_arriving_together_share_transactions(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    """Like sends, small writes that arrive together share one transaction (one fsync):
    30 marks, reactions and a refusal among them take far fewer than 31 commits, each
    answered on its own."""
    services = server.app.state.services
    writer = server.app.state.runtime.writer
    group = alice.group("Busy", [bob, carol])
    sent = [alice.send(group["id"], f"m{i}") for i in range(10)]
    readers = [bob.id, carol.id]

    async def together() -> list[Any]:
        calls = [services.messages.do_mark_read(readers[i % 2], group["id"],
                                                sent[i // 2]["seq"]) for i in range(20)]
        calls += [services.reactions.do_react(readers[i % 2], group["id"], sent[i]["id"],
                                              "👍", add=True) for i in range(10)]
        # Not a channel: refused alone, its neighbours unharmed.
        calls.append(services.reactions.do_view(bob.id, group["id"], [sent[0]["id"]]))
        return await asyncio.gather(*calls, return_exceptions=True)

    before = writer.commits
    results = server.run_async(together())
    commits = writer.commits - before
    assert commits < 10, commits
    assert getattr(results[-1], "code", None) == "not_a_channel"
    assert all(not isinstance(r, BaseException) for r in results[:-1]), results
    for reader in readers:
        assert _member(alice, group["id"], reader)["last_read_seq"] == sent[9]["seq"]
    summary = server.run_async(services.reactions.summary(alice.id, group["id"],
                                                          [m["id"] for m in sent]))
    assert [[(r["emoji"], r["count"]) for r in m["reactions"]]
            for m in summary["messages"]] == [[("👍", 1)]] * 10
