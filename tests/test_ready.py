"""`/api/v1/ready` checks what a request needs and names what failed; `/health` stays a
liveness answer that checks nothing."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from darbuka.bus.redis import encode_events
from darbuka.stream import Event
from darbuka.testing import free_port
from tests.conftest import LiveServer, make_server
from tests.test_bus import REDIS_URL, needs_redis


def _ready(server: LiveServer) -> httpx.Response:
    return httpx.get(server.url + "/api/v1/ready", timeout=10)


def _wait_status(server: LiveServer, status: int, timeout: float = 8.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = _ready(server)
        if answer.status_code == status or time.monotonic() > deadline:
            assert answer.status_code == status, answer.text
            body: dict[str, Any] = answer.json()
            return body
        time.sleep(0.05)


def test_ready_checks_the_database_and_the_writer(server: LiveServer) -> None:
    answer = _ready(server)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database", "writer", "bus"}
    assert body["checks"]["bus"]["lag_s"] == 0.0


def test_a_stopped_writer_makes_the_server_unready_but_alive(server: LiveServer) -> None:
    server.run_async(server.app.state.runtime.writer.stop())
    answer = _ready(server)
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["writer"]
    assert body["error"]["code"] == "not_ready"
    assert body["checks"]["database"]["ok"] is True
    assert httpx.get(server.url + "/api/v1/health").status_code == 200


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if not shutil.which("redis-server"):
        pytest.skip("no redis-server to start")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield url, proc
    proc.kill()
    proc.wait()


def test_redis_going_away_makes_the_server_unready(
        own_redis: tuple[str, subprocess.Popen[bytes]], tmp_path: Path) -> None:
    url, proc = own_redis
    server = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, redis_url=url)
    try:
        assert _ready(server).json()["checks"]["redis"]["ok"] is True
        proc.kill()
        proc.wait()
        body = _wait_status(server, 503)
        assert "redis" in body["failed"]
        assert "127.0.0.1" not in _ready(server).text  # the kind of failure, no addresses
    finally:
        server.thread.stop()


@needs_redis
def test_live_delivery_stuck_on_a_missing_event_makes_the_server_unready(
        tmp_path: Path) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    server = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, redis_url=REDIS_URL,
                         redis_prefix=prefix, ready_max_bus_lag_s=0.1)
    try:
        alice = server.sign_up("Alice")
        head = int(alice.sync()["cursor"])
        # A position two ahead arrives, as from a process that died before publishing the
        # one between: delivery waits on the missing one.
        redis.Redis.from_url(REDIS_URL).publish(f"{prefix}:events", encode_events([
            Event(pos=head + 2, type="user.updated", body={}, user_id=alice.id)]))
        body = _wait_status(server, 503, timeout=1.5)
        assert body["failed"] == ["bus"]
        assert body["checks"]["bus"]["lag_s"] > 0.1
    finally:
        server.thread.stop()
