"""`GET /metrics`: off unless a token or a port of its own is set; Prometheus text with the
HTTP latency by route template, sockets, the writer, live delivery, media and webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from darbuka.testing import free_port
from tests.conftest import LiveServer, make_server
from tests.helpers import Socket
from tests.media_helpers import png, upload_ready

TOKEN = "metrics-secret"


@pytest.fixture
def metered(tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, metrics_token=TOKEN)
    yield srv
    srv.thread.stop()


def scrape(url: str, token: str | None = TOKEN) -> dict[tuple[str, tuple[tuple[str, str], ...]],
                                                         float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.get(url + "/metrics", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def test_no_metrics_unless_asked_for(server: LiveServer) -> None:
    answer = httpx.get(server.url + "/metrics", timeout=30)
    assert "darbuka_" not in answer.text
    assert server.app.state.metrics is None


def test_the_token_guards_the_metrics(metered: LiveServer) -> None:
    assert httpx.get(metered.url + "/metrics").status_code == 401
    wrong = httpx.get(metered.url + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert httpx.post(metered.url + "/metrics").status_code == 405


def test_latency_by_route_template_and_the_live_figures(metered: LiveServer) -> None:
    alice, bob = metered.sign_up("Alice"), metered.sign_up("Bob")
    chat = alice.direct(bob)
    for i in range(3):
        alice.send(chat["id"], f"hello {i}")
        alice.ok("GET", f"/chats/{chat['id']}")
    httpx.get(metered.url + "/botapi/me")  # refused (no token), but a route all the same
    socket = Socket(metered.ws_url, bob.token or "", cursor=bob.sync()["cursor"])
    try:
        socket.ready()
        alice.send(chat["id"], "live")
        socket.recv_until(lambda f: f["type"] == "message.new")
        found = scrape(metered.url)
    finally:
        socket.close()

    def count(method: str, route: str) -> float:
        key = ("darbuka_http_request_duration_seconds_count",
               (("method", method), ("route", route)))
        return found.get(key, 0.0)

    assert count("GET", "/api/v1/chats/{chat_id}") == 3
    assert count("POST", "/api/v1/chats/{chat_id}/messages") == 4
    assert count("GET", "/botapi/me") == 1
    # One series per route, never one per id.
    raw = f"/chats/{chat['id']}"
    assert not [k for k in found if raw in dict(k[1]).get("route", "")]
    assert found[("darbuka_sockets_open", ())] == 1
    assert found[("darbuka_writer_batch_size_count", ())] >= 4
    assert found[("darbuka_writer_commits_total", ())] >= found[
        ("darbuka_writer_batch_size_count", ())]
    assert found[("darbuka_writer_queue_depth", ())] == 0
    assert found[("darbuka_event_lag_positions", ())] == 0
    assert found[("darbuka_bus_reconnects_total", ())] == 0
    assert found[("darbuka_bus_gap_fills_total", ())] == 0
    assert found[("darbuka_events_delivered_total", ())] >= 1
    assert found[("darbuka_webhook_outcomes_total", (("outcome", "delivered"),))] == 0


def test_event_lag_counts_what_live_delivery_was_not_handed(metered: LiveServer) -> None:
    """An event committed but never published (as from a process killed between COMMIT and
    PUBLISH) is lag until live delivery catches up with it."""
    alice = metered.sign_up("Alice")
    runtime = metered.app.state.runtime

    async def commit_unpublished() -> None:
        async with runtime.db.write() as conn:
            (pos,) = await runtime.stores.events.reserve(conn, 1)
            await runtime.stores.events.append(conn, [{
                "pos": pos, "chat_id": None, "user_id": alice.id, "type": "user.updated",
                "payload": b'{"type":"user.updated"}', "created_at": 0}])

    metered.run_async(commit_unpublished())
    assert scrape(metered.url)[("darbuka_event_lag_positions", ())] == 1


def test_media_processing_time_by_kind(metered: LiveServer) -> None:
    alice = metered.sign_up("Alice")
    upload_ready(alice, png(), kind="photo", filename="p.png")
    found = scrape(metered.url)
    assert found[("darbuka_media_processing_seconds_count", (("kind", "photo"),))] == 1


def test_a_metrics_port_of_its_own(tmp_path: Path) -> None:
    port = free_port()
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, metrics_port=port,
                      metrics_token=TOKEN)
    try:
        assert "darbuka_" not in httpx.get(srv.url + "/metrics",
                                           headers={"Authorization": f"Bearer {TOKEN}"}).text
        metrics_url = f"http://127.0.0.1:{port}"
        assert httpx.get(metrics_url + "/metrics").status_code == 401
        assert httpx.get(metrics_url + "/other").status_code == 404
        srv.sign_up("Alice")
        found = scrape(metrics_url)
        key = ("darbuka_http_request_duration_seconds_count",
               (("method", "POST"), ("route", "/api/v1/auth/sign-in")))
        assert found[key] == 1
    finally:
        srv.thread.stop()


def test_webhook_outcomes(tmp_path: Path) -> None:
    from tests.botapi_helpers import Receiver, make_bot
    from tests.helpers import wait_until

    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, metrics_token=TOKEN,
                      bot_webhook_allow_private=True, bot_webhook_retry_base_s=0.05,
                      bot_webhook_retry_max_s=0.2)
    receiver = Receiver(status=500)
    try:
        alice, bot = srv.sign_up("Alice"), make_bot(srv)
        bot.call("POST", "/subscriptions", json={"url": receiver.url})
        chat = alice.group("hooks", [])
        alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
        alice.send(chat["id"], "one")

        def outcome(name: str) -> float:
            return scrape(srv.url)[("darbuka_webhook_outcomes_total", (("outcome", name),))]

        wait_until(lambda: outcome("failed") >= 2, timeout=10, message="failed POSTs")
        receiver.status = 200
        wait_until(lambda: receiver.texts() == ["one"], timeout=10)
        wait_until(lambda: outcome("delivered") >= 1, timeout=5)
        assert outcome("dropped") == 0
    finally:
        receiver.close()
        srv.thread.stop()


def test_histogram_buckets_are_cumulative_and_their_bounds_inclusive() -> None:
    from darbuka.ops.metrics import Buckets

    series = Buckets((0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 7.0):
        series.observe(value)
    assert series.cumulative() == [("0.1", 2), ("1.0", 4), ("+Inf", 5)]
    assert series.sum == 8.65
