"""Scheduled messages: held by the server, listed, edited and cancelled until their time,
then sent by the periodic job through the ordinary send path (once, even when the sweep
runs again), visible to a channel's co-admins, refused at their time if the author may no
longer post."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, new_client_id, wait_until


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Looks for due messages twice a second (the default is every 5 s)."""
    srv = make_server(database_url, tmp_path, scheduled_check_s=0.5)
    yield srv
    srv.thread.stop()


def _schedule(api: Api, chat_id: int, text: str, in_s: float, server: LiveServer,
              client_id: str | None = None, expect: int = 201) -> dict[str, Any]:
    at = server.clock.now_ms() + int(in_s * 1000)
    response = api.call("POST", f"/chats/{chat_id}/scheduled", json={
        "client_id": client_id or new_client_id(), "text": text, "send_at": at})
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def _texts(api: Api, chat_id: int) -> list[str]:
    return [m["text"] for m in api.history(chat_id) if not m.get("system")]


def test_a_scheduled_message_waits_then_goes_out_once(server: LiveServer, alice: Api,
                                                      bob: Api) -> None:
    chat = alice.direct(bob)
    client_id = new_client_id()
    first = _schedule(alice, chat["id"], "good morning", 3600, server, client_id)
    assert first["state"] == "scheduled"
    # Scheduling again with its client id returns it (an outbox retry), not a second one.
    again = _schedule(alice, chat["id"], "good morning", 3600, server, client_id, expect=200)
    assert again["id"] == first["id"]
    later = _schedule(alice, chat["id"], "see you", 7200, server)
    assert [s["id"] for s in alice.ok("GET", f"/chats/{chat['id']}/scheduled")
            ["scheduled"]] == [first["id"], later["id"]]
    # Bob sees nothing of it, neither the messages nor the list.
    assert bob.ok("GET", f"/chats/{chat['id']}/scheduled")["scheduled"] == []
    assert _texts(bob, chat["id"]) == []

    edited = alice.ok("PATCH", f"/chats/{chat['id']}/scheduled/{first['id']}",
                      json={"text": "good morning, Bob"})
    assert edited["text"] == "good morning, Bob"
    alice.call("DELETE", f"/chats/{chat['id']}/scheduled/{later['id']}", expect=204)

    sweep = server.app.state.services.scheduled
    assert server.run_async(sweep.do_send_due()) == 0  # not yet
    server.clock.advance(3601)
    # The periodic job finds it within about a second; running the sweep again sends
    # nothing twice.
    wait_until(lambda: server.run_async(_state(server, first["id"])) == "sent",
               timeout=10, message="the scheduled send")
    assert _texts(bob, chat["id"]) == ["good morning, Bob"]
    assert server.run_async(sweep.do_send_due()) == 0
    server.clock.advance(7200)
    assert server.run_async(sweep.do_send_due()) == 0  # the cancelled one never goes
    assert _texts(bob, chat["id"]) == ["good morning, Bob"]
    assert alice.ok("GET", f"/chats/{chat['id']}/scheduled")["scheduled"] == []
    sent = next(m for m in alice.history(chat["id"]) if m["text"] == "good morning, Bob")
    assert sent["client_id"] == client_id  # sent as scheduled: the outbox's id
    # Too late to change it now.
    gone = alice.call("PATCH", f"/chats/{chat['id']}/scheduled/{first['id']}",
                      json={"text": "x"})
    assert (gone.status_code, gone.json()["error"]["code"]) == (409, "not_scheduled")


def test_a_channels_co_admins_share_its_scheduled_posts(server: LiveServer, alice: Api,
                                                        bob: Api, carol: Api) -> None:
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Brand"})
    alice.ok("POST", f"/chats/{channel['id']}/members", json={"user_ids": [bob.id, carol.id]})
    alice.ok("PATCH", f"/chats/{channel['id']}/members/{bob.id}", json={"role": "admin"})
    post = _schedule(bob, channel["id"], "launch day", 600, server)
    # The owner sees and edits the co-admin's post; a subscriber sees nothing, may not
    # schedule, and cannot touch it.
    (seen,) = alice.ok("GET", f"/chats/{channel['id']}/scheduled")["scheduled"]
    assert seen["id"] == post["id"]
    alice.ok("PATCH", f"/chats/{channel['id']}/scheduled/{post['id']}",
             json={"text": "launch day!"})
    assert carol.ok("GET", f"/chats/{channel['id']}/scheduled")["scheduled"] == []
    refused = carol.call("POST", f"/chats/{channel['id']}/scheduled", json={
        "client_id": new_client_id(), "text": "me too",
        "send_at": server.clock.now_ms() + 60_000})
    assert refused.status_code == 403
    assert carol.call("DELETE", f"/chats/{channel['id']}/scheduled/{post['id']}"
                      ).status_code == 404

    # Bob loses his admin role before the time: the post is refused, not sent.
    second = _schedule(bob, channel["id"], "after the demotion", 1200, server)
    server.clock.advance(601)
    wait_until(lambda: "launch day!" in _texts(carol, channel["id"]), timeout=10,
               message="the co-admin's post")
    alice.ok("PATCH", f"/chats/{channel['id']}/members/{bob.id}", json={"role": "subscriber"})
    server.clock.advance(601)
    sweep = server.app.state.services.scheduled
    wait_until(lambda: server.run_async(_state(server, second["id"])) == "failed",
               timeout=10, message="the refused post")
    assert server.run_async(sweep.do_send_due()) == 0
    assert _texts(carol, channel["id"]) == ["launch day!"]


async def _state(server: LiveServer, scheduled_id: int) -> str:
    runtime = server.app.state.runtime
    async with runtime.db.read() as conn:
        row = await runtime.stores.scheduled.get(conn, scheduled_id)
    assert row is not None
    return str(row["state"])


def test_bad_schedules_are_refused_clearly(server: LiveServer, alice: Api, bob: Api,
                                           carol: Api) -> None:
    chat = alice.direct(bob)
    now = server.clock.now_ms()
    cases = [({"text": "x", "send_at": now - 1000}, 400, "invalid_send_at"),
             ({"text": "x", "send_at": now + 400 * 86_400_000}, 400, "invalid_send_at"),
             ({"text": "", "send_at": now + 60_000}, 400, "empty_message"),
             ({"text": "x", "send_at": "tomorrow"}, 422, "invalid_request")]
    for body, status, code in cases:
        answer = alice.call("POST", f"/chats/{chat['id']}/scheduled",
                            json={"client_id": new_client_id(), **body})
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), body
    # Someone else's chat, and someone else's scheduled message.
    outsider = carol.call("POST", f"/chats/{chat['id']}/scheduled", json={
        "client_id": new_client_id(), "text": "x", "send_at": now + 60_000})
    assert outsider.status_code == 404
    mine = _schedule(alice, chat["id"], "private", 600, server)
    assert bob.call("PATCH", f"/chats/{chat['id']}/scheduled/{mine['id']}",
                    json={"text": "changed"}).status_code == 404
    assert alice.call("PATCH", f"/chats/{chat['id']}/scheduled/{mine['id']}",
                      json={}).status_code == 400
    assert alice.call("DELETE", f"/chats/{chat['id']}/scheduled/999999").status_code == 404


def test_a_send_cut_short_by_a_crash_goes_out_once_after_a_restart(server: LiveServer,
                                                                  alice: Api,
                                                                  bob: Api) -> None:
    """A process claimed a scheduled message, sent it, and died before recording that: the
    claim goes stale, the next sweep sends it again, and the repeat is answered with the
    original message (its client id): Bob sees it once."""
    chat = alice.direct(bob)
    row = _schedule(alice, chat["id"], "exactly once", 20, server)
    alice.ok("POST", f"/chats/{chat['id']}/messages",
             json={"client_id": row["client_id"], "text": "exactly once"})

    async def as_if_died_mid_send() -> None:
        runtime = server.app.state.runtime
        async with runtime.db.write() as conn:
            await runtime.stores.scheduled.change(conn, row["id"], {"state": "sending"},
                                                  now=server.clock.now_ms())

    server.run_async(as_if_died_mid_send())
    server.clock.advance(21)
    sweep = server.app.state.services.scheduled
    assert server.run_async(sweep.do_send_due()) == 0  # a fresh claim is left to its owner
    server.clock.advance(60)
    wait_until(lambda: server.run_async(_state(server, row["id"])) == "sent", timeout=10,
               message="the stale claim taken over")
    assert _texts(bob, chat["id"]) == ["exactly once"]


async def test_the_sdk_schedules_lists_edits_and_cancels(server: LiveServer, alice: Api,
                                                         bob: Api) -> None:
    from darbuka.client.http import HttpApi

    chat = alice.direct(bob)
    api = HttpApi(server.url, alice.token)
    try:
        at = server.clock.now_ms() + 600_000
        first = await api.schedule(chat["id"], "from the SDK", at, client_id="sdk-1")
        again = await api.schedule(chat["id"], "from the SDK", at, client_id="sdk-1")
        assert (first.id, first.state, again.id) == (again.id, "scheduled", first.id)
        moved = await api.edit_scheduled(chat["id"], first.id, send_at_ms=at + 60_000)
        assert moved.send_at == at + 60_000
        assert [s.id for s in await api.scheduled(chat["id"])] == [first.id]
        await api.cancel_scheduled(chat["id"], first.id)
        assert await api.scheduled(chat["id"]) == []
    finally:
        await api.aclose()
