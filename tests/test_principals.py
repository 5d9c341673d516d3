"""The token → account cache: a second at most, and forgotten at once on the events that
change what authentication decides."""

from __future__ import annotations

from typing import Any

from darbuka.services.principals import PrincipalCache
from darbuka.stream import Event
from tests.conftest import LiveServer
from tests.helpers import Api


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _rows(user_id: int, device_id: int) -> tuple[Any, Any]:
    return {"id": device_id, "user_id": user_id, "last_seen_at": 0}, {"id": user_id}


def _event(type_: str, **fields: Any) -> Event:
    return Event(pos=1, type=type_, body=fields.pop("body", {}), chat_id=None,
                 user_id=fields.pop("user_id", None))


def test_entries_last_a_second_and_go_with_their_user_events() -> None:
    ticks = Ticks()
    cache = PrincipalCache(monotonic=ticks)
    cache.put(b"a", *_rows(1, 10))
    cache.put(b"b", *_rows(1, 11))
    cache.put(b"c", *_rows(2, 12))
    assert cache.get(b"a") is not None
    ticks.now += 1.5
    assert cache.get(b"a") is None  # too old
    cache.put(b"a", *_rows(1, 10))
    cache.put(b"b", *_rows(1, 11))
    cache.put(b"c", *_rows(2, 12))
    cache.on_events([_event("message.new", user_id=1)])  # not a change to the account
    assert cache.get(b"a") is not None
    cache.on_events([_event("device.revoked", user_id=1, body={"device_id": 11})])
    assert cache.get(b"a") is None
    assert cache.get(b"b") is None
    assert cache.get(b"c") is not None
    # A profile change to a chat's members names the user in the body.
    cache.on_events([_event("user.updated", body={"user": {"id": 2}, "chat_id": 5})])
    assert cache.get(b"c") is None


def test_a_touch_updates_the_cached_device() -> None:
    cache = PrincipalCache(monotonic=Ticks())
    cache.put(b"a", *_rows(1, 10))
    cache.touched(b"a", 5_000)
    found = cache.get(b"a")
    assert found is not None
    assert found[0]["last_seen_at"] == 5_000


def test_requests_read_the_account_once_and_see_changes_at_once(server: LiveServer,
                                                               alice: Api) -> None:
    statements: list[str] = []
    alice.ok("GET", "/me")
    with server.app.state.runtime.db.watch_statements(statements.append):
        for _ in range(20):
            alice.ok("GET", "/me")
    reads = [s for s in statements if "FROM devices" in s]
    assert len(reads) <= 1  # 20 requests, at most one read of the device (on expiry)
    # A change with an event is seen by the very next request.
    alice.ok("PATCH", "/me", json={"display_name": "Alice Two"})
    assert alice.ok("GET", "/me")["display_name"] == "Alice Two"
    # And a revoked device is refused by the very next request.
    me = alice.ok("GET", "/devices")["devices"]
    current = next(d for d in me if d.get("current"))
    alice.call("DELETE", f"/devices/{current['id']}", expect=204)
    assert alice.call("GET", "/me").status_code == 401
