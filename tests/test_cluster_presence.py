"""Presence holds across server processes: someone connected to one process is online to a
contact asking another, and offline there once they disconnect, or once the claims of a
process that died run out. Real OS processes on one PostgreSQL database and one Redis."""

from __future__ import annotations

import time
from pathlib import Path

from darbuka.bus.presence import CACHE_S
from tests.helpers import Api, wait_until
from tests.redis_server import needs_redis_server
from tests.test_cluster_delivery import PHONE, open_socket, running_cluster

pytestmark = needs_redis_server

# Short, so the test waits seconds: claims last TTL_S and are renewed every REFRESH_S.
TTL_S, REFRESH_S = 2.0, 0.5


def status(viewer: Api, user: Api) -> str:
    return str(viewer.ok("GET", f"/users/{user.id}/presence")["status"])


def becomes(viewer: Api, user: Api, wanted: str, within: float) -> float:
    """Seconds until `viewer` sees `user` as `wanted`, failing past `within`."""
    start = time.monotonic()
    wait_until(lambda: status(viewer, user) == wanted, timeout=within,
               message=f"{user.user['display_name']} {wanted}")
    return time.monotonic() - start


def test_online_on_one_process_is_online_on_the_other(pg_url: str, tmp_path: Path) -> None:
    with running_cluster(pg_url, tmp_path, presence_ttl_s=str(TTL_S),
                         presence_refresh_s=str(REFRESH_S)) as cluster:
        a, b = cluster.servers
        alice, bob = cluster.people(("Alice", a), ("Bob", b))
        # Only her contacts see her presence, and Bob is one.
        alice.ok("PATCH", "/me/privacy", json={"last_seen": "contacts"})
        alice.ok("POST", "/contacts/import", json={"phones": [PHONE["Bob"]]})
        assert status(bob, alice) == "offline"

        sock, _ = open_socket(alice, a)
        becomes(bob, alice, "online", within=TTL_S)
        # Past several TTLs, her claim is renewed: still online.
        deadline = time.monotonic() + 3 * TTL_S
        while time.monotonic() < deadline:
            assert status(bob, alice) == "online"
            time.sleep(REFRESH_S)
        sock.close()
        becomes(bob, alice, "offline", within=TTL_S)

        # A process that dies withdraws nothing: its claims run out.
        open_socket(alice, a)
        becomes(bob, alice, "online", within=TTL_S)
        a.kill()
        # Her last claim was made at most TTL_S before; B may reuse an answer for CACHE_S.
        becomes(bob, alice, "offline", within=TTL_S + CACHE_S)
