"""Addresses: who the server believes a client is, and where it lets bots make it connect."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from darbuka.services import targets
from darbuka.services.targets import is_public
from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, wait_until


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("trust", [True, False])
def test_a_client_cannot_pick_its_address_through_a_proxy(database_url: str, tmp_path: Path,
                                                          trust: bool) -> None:
    """Behind a proxy that appends the peer to X-Forwarded-For, the part the client wrote
    (the left) is not believed: a fresh fake address per request buys no fresh limit."""
    server = make_server(database_url, tmp_path, code_requests_per_ip_hour=3,
                         trust_proxy_headers=trust)
    try:
        api = Api(server.url)
        statuses = []
        for i in range(4):
            # What nginx's `$proxy_add_x_forwarded_for` makes of a client that sent its own
            # header: "<what the client wrote>, <the client's real address>".
            forwarded = f"203.0.113.{i}, 198.51.100.7"
            statuses.append(api.call("POST", "/auth/request-code",
                                     json={"phone": f"+44163296097{i}"},
                                     headers={"X-Forwarded-For": forwarded}).status_code)
        assert statuses == [200, 200, 200, 429]
        # Another real client behind the same proxy has a budget of its own — when the proxy
        # is believed at all.
        other = api.call("POST", "/auth/request-code", json={"phone": "+441632960975"},
                         headers={"X-Forwarded-For": "198.51.100.8"})
        assert other.status_code == (200 if trust else 429)
    finally:
        server.thread.stop()


@pytest.mark.parametrize("url", [
    "http://[::127.0.0.1]:9/hook",        # IPv4-compatible IPv6: loopback
    "http://[::ffff:127.0.0.1]/hook",     # IPv4-mapped
    "http://[::ffff:10.0.0.1]/hook",
    "http://[2002:7f00:1::1]/hook",       # 6to4 around 127.0.0.1
    "http://[64:ff9b::a00:1]/hook",       # NAT64 around 10.0.0.1
    "http://[64:ff9b:1::c0a8:1]/hook",    # local-use NAT64 around 192.168.0.1
])
def test_webhooks_never_reach_a_private_address_in_ipv6_clothing(server: LiveServer,
                                                                 url: str) -> None:
    bot = make_bot(server)
    error = bot.call("POST", "/subscriptions", json={"url": url}, expect=400)
    assert error["code"] == "invalid.url"


def test_public_addresses_stay_allowed() -> None:
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946",
                    "::ffff:93.184.216.34", "64:ff9b::5db8:d822"):
        assert is_public(address), address
    for address in ("127.0.0.1", "10.1.2.3", "100.64.0.1", "169.254.169.254", "::1",
                    "fe80::1", "fc00::1", "::", "::ffff:169.254.169.254"):
        assert not is_public(address), address


def test_a_webhook_goes_to_the_address_that_was_checked(hook_server: LiveServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the name is resolved once, for the check; the POST goes to that very
    address with the name as Host. A sender that resolved the name again (here: a name the
    machine's own resolver does not know) would never deliver."""
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"] if host == "hooks.rebind.test" else []

    monkeypatch.setattr(targets, "_system_resolve", resolve)
    seen: list[tuple[str, dict[str, Any]]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            seen.append((self.headers["host"], orjson.loads(body)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return None

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        port = receiver.server_address[1]
        bot = make_bot(hook_server)
        bot.call("POST", "/subscriptions", json={"url": f"http://hooks.rebind.test:{port}/h"})
        alice = hook_server.sign_up("Alice")
        chat = alice.group("hooks", [])
        alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
        alice.send(chat["id"], "over the checked address")
        wait_until(lambda: any(u.get("update_type") == "message_created" for _, u in seen),
                   timeout=10, message="the webhook")
        assert {host for host, _ in seen} == {f"hooks.rebind.test:{port}"}
        assert set(lookups) == {"hooks.rebind.test"}
    finally:
        receiver.shutdown()
        receiver.server_close()
