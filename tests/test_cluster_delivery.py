"""Live delivery across server processes never loses an event.

Two `darbuka serve` processes (real OS processes) on one PostgreSQL database, made fresh
for each test, and one `redis-server` the test starts itself on a free port (so it may kill
it). Every socket must get every event of its user live, once, in order — exactly what
`/sync` returns from storage afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from darbuka.cli_common import runtime_for
from darbuka.container import build_runtime
from darbuka.services.ratelimit import WRITES
from darbuka.services.sending import check_send
from darbuka.settings import Settings
from darbuka.storage import Database
from darbuka.storage.migrate import migrate
from darbuka.testing import ServerProcess
from tests.conftest import _pg_admin
from tests.helpers import Api, Socket, new_client_id, wait_until
from tests.redis_server import RedisServer, needs_redis_server

pytestmark = needs_redis_server

SECRET = "cluster-test-secret"
# The write limits count in Redis, and this is about delivery while Redis is away: no limits.
NO_WRITE_LIMITS = {f"write_limit_{write}": "" for write in WRITES}
# Frames that are not events of the stream.
NOT_EVENTS = ("ready", "reset", "ack", "pong", "typing", "error")
# Outlasts redis-py's own reconnect retries (about 4 s at most): the fault under test.
OUTAGE_S = 5.0
PHONE = {"Alice": "+447700900301", "Bob": "+447700900302", "Carol": "+447700900303"}


@dataclass
class Cluster:
    servers: list[ServerProcess]
    redis: RedisServer
    env: dict[str, str]
    admin_dir: Path
    settings: dict[str, str]

    def admin(self, *args: str, redis: bool = True) -> str:
        """`darbuka admin …` as an operator runs it, on the same database and (unless told
        otherwise) the same Redis."""
        env = self.env if redis else {k: v for k, v in self.env.items()
                                      if k != "DARBUKA_REDIS_URL"}
        done = subprocess.run(
            [sys.executable, "-m", "darbuka", "admin", *args, "--data-dir", str(self.admin_dir)],
            capture_output=True, text=True, env=env, check=True, timeout=60)
        return done.stdout

    def people(self, *who: tuple[str, ServerProcess]) -> list[Api]:
        """Accounts with a token each, signed in to the server given (`issue-token`'s
        path, in one runtime for them all: a process start per person is slow)."""
        tokens = asyncio.run(_issue_tokens(self.settings, self.admin_dir,
                                           [name for name, _ in who]))
        people = []
        for token, (_, server) in zip(tokens, who, strict=True):
            api = Api(server.url, token)
            api.user = api.ok("GET", "/me")
            people.append(api)
        return people

    def log(self, index: int) -> str:
        return Path(self.servers[index].log.name).read_text(errors="replace")


def _settings(settings: dict[str, str], data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=settings["database_url"], secret_key=SECRET,
                    redis_url=settings.get("redis_url", ""),
                    redis_prefix=settings.get("redis_prefix", "darbuka"))


async def _issue_tokens(settings: dict[str, str], data_dir: Path,
                        names: list[str]) -> list[str]:
    tokens = []
    async with runtime_for(_settings(settings, data_dir)) as runtime:
        for name in names:
            token, _ = await runtime.services.auth.do_issue_token(PHONE[name], name=name)
            tokens.append(token)
    return tokens


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await migrate(db)
    finally:
        await db.dispose()


def _server(data_dir: Path, settings: dict[str, str]) -> ServerProcess:
    data_dir.mkdir()
    return ServerProcess(data_dir, **settings)


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Cluster]:
    with running_cluster(pg_url, tmp_path) as running:
        yield running


@contextmanager
def running_cluster(pg_url: str, tmp_path: Path, **extra: str) -> Iterator[Cluster]:
    """Two servers and a Redis of their own on a new schema; `extra` settings for both."""
    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    redis = RedisServer(tmp_path / "redis")
    settings = {"database_url": pg_url, "redis_url": redis.url, "secret_key": SECRET,
                "log_level": "info", **NO_WRITE_LIMITS, **extra}
    servers: list[ServerProcess] = []
    try:
        # Migrated first, so the two can start side by side (each migrates at start).
        asyncio.run(_migrate(pg_url))
        starts = [threading.Thread(target=lambda name=name: servers.append(
            _server(tmp_path / name, settings))) for name in ("a", "b")]
        for thread in starts:
            thread.start()
        for thread in starts:
            thread.join()
        assert len(servers) == 2, "a server did not start; see its server.log"
        servers.sort(key=lambda server: server.log.name)  # a, then b
        env = {**os.environ, **{f"DARBUKA_{k.upper()}": v for k, v in settings.items()},
               "DARBUKA_LOG_LEVEL": "warning"}
        yield Cluster(servers, redis, env, tmp_path / "admin", settings)
    finally:
        for server in servers:
            server.stop()
        redis.kill()


def stream_events(sock: Socket) -> list[dict[str, Any]]:
    return [f for f in sock.frames if f["type"] not in NOT_EVENTS]


def read_until(sock: Socket, done: Any, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Read frames until `done(events so far)`; return the stream's events."""
    deadline = time.monotonic() + timeout
    while not done(stream_events(sock)):
        sock.recv(timeout=max(0.01, deadline - time.monotonic()))
    return stream_events(sock)


def assert_live_is_stored(api: Api, sock: Socket, since: str) -> None:
    """What reached the socket live is what storage holds for the user: every event, once,
    in order."""
    live = stream_events(sock)
    stored, _ = api.sync_all(since)
    cursors = [int(e["cursor"]) for e in live]
    assert cursors == sorted(set(cursors)), "live events came out of order or twice"
    assert live == stored


def _every_socket_saw(sockets: list[tuple[Api, Socket, str]], sent: list[int]) -> None:
    """Each socket got every message live, and what it got live is what storage has."""
    for api, sock, since in sockets:
        events = read_until(sock, lambda ev: len(message_ids(ev)) >= len(sent))
        assert sorted(message_ids(events)) == sorted(sent)
        assert_live_is_stored(api, sock, since)
        sock.close()


def message_ids(events: list[dict[str, Any]]) -> list[int]:
    return [e["message"]["id"] for e in events if e["type"] == "message.new"]


def open_socket(api: Api, server: ServerProcess) -> tuple[Socket, str]:
    cursor = api.sync()["cursor"]
    sock = Socket(server.ws_url, api.token or "", cursor=cursor)
    sock.ready()
    return sock, cursor


def test_people_on_two_processes_get_every_message_live_once_in_order(
        cluster: Cluster) -> None:
    a, b = cluster.servers
    alice, bob, carol = cluster.people(("Alice", a), ("Bob", b), ("Carol", a))
    chat = alice.group("Across", [bob, carol])
    sockets = [(alice, *open_socket(alice, a)), (bob, *open_socket(bob, b)),
               (carol, *open_socket(carol, b)), (carol, *open_socket(carol, a))]

    sent: list[int] = []
    # Two processes commit in turn as fast as they can: their publishes race to Redis.
    senders = [threading.Thread(target=lambda who=who: sent.extend(
        who.send(chat["id"], f"{who.user['display_name']} {i}")["id"] for i in range(40)))
        for who in (alice, bob)]
    for thread in senders:
        thread.start()
    for thread in senders:
        thread.join()

    _every_socket_saw(sockets, sent)


def test_admin_commands_reach_sockets_on_both_processes_live(cluster: Cluster) -> None:
    a, b = cluster.servers
    alice, bob = cluster.people(("Alice", a), ("Bob", b))
    chat = bob.direct(alice)
    on_a, since_a = open_socket(alice, a)
    on_b, since_b = open_socket(alice, b)

    cluster.admin("verify", "--phone", PHONE["Alice"])
    cluster.admin("set-kind", "--phone", PHONE["Alice"], "--kind", "brand")
    # An operator who forgot DARBUKA_REDIS_URL: nothing is published, nothing follows.
    cluster.admin("set-kind", "--phone", PHONE["Alice"], "--kind", "blogger", redis=False)
    for sock in (on_a, on_b):
        read_until(sock, lambda ev: len(ev) == 3)
    sent = bob.send(chat["id"], "after the operator")
    for sock, since in ((on_a, since_a), (on_b, since_b)):
        events = read_until(sock, lambda ev: sent["id"] in message_ids(ev))
        changes = [e["user"] for e in events if e["type"] == "user.updated"]
        assert [(u["id"], u.get("verified"), u["kind"]) for u in changes] == [
            (alice.id, True, "person"), (alice.id, True, "brand"), (alice.id, True, "blogger")]
        assert [e["type"] for e in events] == ["user.updated"] * 3 + ["message.new"]
        assert_live_is_stored(alice, sock, since)
        sock.close()


async def _commit_without_publishing(settings: dict[str, str], workdir: Path,
                                     sender_id: int, chat_id: int, text: str) -> int:
    """A process that commits a message and never publishes it (its bus reaches no one,
    as if it died between COMMIT and PUBLISH)."""
    # No redis_url: its bus reaches no other process.
    runtime = build_runtime(_settings({"database_url": settings["database_url"]}, workdir))
    runtime.writer.start()
    try:
        req = check_send(sender_id, chat_id, new_client_id(), text)
        result = await runtime.services.messages.submit_send(req)
        return int(result.message["id"])
    finally:
        await runtime.writer.stop()
        await runtime.db.dispose()


def test_an_event_nobody_published_is_filled_from_the_database(cluster: Cluster,
                                                               tmp_path: Path) -> None:
    a, b = cluster.servers
    alice, bob = cluster.people(("Alice", a), ("Bob", b))
    chat = alice.direct(bob)
    sockets = [(alice, *open_socket(alice, a)), (bob, *open_socket(bob, b))]

    unpublished = asyncio.run(_commit_without_publishing(
        cluster.settings, tmp_path / "dead", alice.id, chat["id"], "committed, never published"))
    # Nothing follows it: the processes find it by the database's head.
    for _, sock, _ in sockets:
        assert message_ids(read_until(sock, lambda ev: bool(message_ids(ev)))) == [unpublished]
    later = bob.send(chat["id"], "the next one")["id"]
    for api, sock, since in sockets:
        assert message_ids(read_until(sock, lambda ev: later in message_ids(ev))) == [
            unpublished, later]
        assert_live_is_stored(api, sock, since)
        sock.close()
    for index in (0, 1):
        wait_until(lambda index=index: "from the database" in cluster.log(index),
                   message="the gap fill in the server's log")


def test_redis_killed_and_restarted_mid_stream_loses_no_live_event(cluster: Cluster) -> None:
    a, b = cluster.servers
    alice, bob, carol = cluster.people(("Alice", a), ("Bob", b), ("Carol", b))
    chat = alice.group("Through the outage", [bob, carol])
    sockets = [(alice, *open_socket(alice, a)), (bob, *open_socket(bob, b)),
               (carol, *open_socket(carol, a))]

    sent: list[int] = []
    stop = threading.Event()

    def keep_sending(who: Api) -> None:
        i = 0
        while not stop.is_set():
            sent.append(who.send(chat["id"], f"{who.user['display_name']} {i}")["id"])
            i += 1
            stop.wait(0.05)  # about 20 a second from each process

    senders = [threading.Thread(target=keep_sending, args=(who,)) for who in (alice, bob)]
    for thread in senders:
        thread.start()
    try:
        wait_until(lambda: len(sent) >= 20, timeout=30, message="sends before the outage")
        cluster.redis.kill()
        before_restart = len(sent)
        time.sleep(OUTAGE_S)  # the outage itself; the senders go on meanwhile
        assert len(sent) > before_restart + 20, "sends went on while Redis was down"
        cluster.redis.start()
        after_restart = len(sent)
        wait_until(lambda: len(sent) >= after_restart + 40, timeout=30,
                   message="sends after the restart")
    finally:
        stop.set()
        for thread in senders:
            thread.join()

    _every_socket_saw(sockets, sent)
    for index in (0, 1):
        # A subscriber may still be backing off: what it missed came from the database.
        wait_until(lambda index=index: "Redis subscription back (reconnect 1)"
                   in cluster.log(index), timeout=30, message="the reconnect in the log")
        assert "from the database" in cluster.log(index)


def test_a_server_killed_mid_storm_fails_over_and_no_event_is_lost(cluster: Cluster) -> None:
    """Alice storms sends into a group through process A, which is SIGKILLed half-way (some
    commits never published, some sends never answered). She reconnects to B and sends
    everything again: every ack was kept, repeats return the originals, and Bob and Carol on
    B got every message live, once, in order — what storage holds."""
    a, b = cluster.servers
    alice, bob, carol = cluster.people(("Alice", a), ("Bob", b), ("Carol", b))
    chat = alice.group("Failover", [bob, carol])
    watchers = [(bob, *open_socket(bob, b)), (carol, *open_socket(carol, b))]
    total, kill_after = 600, 150
    storm, _ = open_socket(alice, a)
    for i in range(total):
        storm.send_json({"type": "send", "id": i, "chat_id": chat["id"],
                         "client_id": f"storm-{i}", "text": f"storm {i}"})
    acked: dict[str, int] = {}
    try:
        while True:
            frame = storm.recv(timeout=30)
            if frame["type"] == "ack":
                acked[frame["message"]["client_id"]] = frame["message"]["id"]
                if len(acked) == kill_after:
                    a.kill()
    except (ConnectionClosed, TimeoutError, OSError):
        pass
    assert kill_after <= len(acked) < total, "the kill should land mid-storm"

    # The client's outbox sends everything again, to the process still standing.
    again = Api(b.url, alice.token)
    ids = [again.ok("POST", f"/chats/{chat['id']}/messages",
                    json={"client_id": f"storm-{i}", "text": f"storm {i}"})["id"]
           for i in range(total)]
    assert {f"storm-{i}": ids[i] for i in range(total) if f"storm-{i}" in acked} == acked
    assert len(set(ids)) == total
    _every_socket_saw(watchers, ids)
