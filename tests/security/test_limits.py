"""Writes are limited per account (a review found none: one socket queued 3,000 sends in
0.07 s, and 300 reaction toggles made someone else's send take 3.4 s instead of 79 ms), and
one socket cannot pile up work in the server: past `ws_frames_in_flight` it is not read."""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from darbuka.settings import Settings
from tests.conftest import LiveServer, _pg_admin, make_server
from tests.helpers import Api, Socket, new_client_id, wait_until
from tests.media_helpers import TUS

REDIS_URL = os.environ.get("DARBUKA_TEST_REDIS_URL", "")
# The limits as shipped (make_server lifts them for the other tests).
DEFAULTS = {f.name: getattr(Settings(), f.name) for f in fields(Settings)
            if f.name.startswith("write_limit_")}
TWO_A_MINUTE = dict.fromkeys(DEFAULTS, "2/minute")


@pytest.fixture
def strict(database_url: str, tmp_path: Path) -> Any:
    server = make_server(database_url, tmp_path, **TWO_A_MINUTE)
    yield server
    server.thread.stop()


def _limited(response: httpx.Response) -> None:
    assert response.status_code == 429, (response.status_code, response.text)
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 60


def _third_is_refused(write: Callable[[], httpx.Response]) -> None:
    first, _second, third = write(), write(), write()
    assert first.status_code < 400, first.text
    _limited(third)


def test_every_kind_of_write_is_limited(strict: LiveServer) -> None:
    owner = strict.sign_up()
    users = [strict.sign_up() for _ in range(8)]
    group = owner.group("limits", users)
    gid = group["id"]
    post = owner.send(gid, "react to me")
    path = f"/chats/{gid}/messages/{post['id']}"
    sender, reactor, marker, typist, uploader, reporter, creator, editor = users

    _third_is_refused(lambda: sender.call("POST", f"/chats/{gid}/messages", json={
        "client_id": new_client_id(), "text": "hi"}))
    emojis = iter(["👍", "🎉", "🔥"])
    _third_is_refused(lambda: reactor.call("PUT", f"{path}/reactions",
                                           json={"emoji": next(emojis)}))
    _third_is_refused(lambda: marker.call("POST", f"/chats/{gid}/read", json={"seq": 1}))
    _third_is_refused(lambda: typist.call("POST", f"/chats/{gid}/typing"))
    _third_is_refused(lambda: uploader.call("POST", "/uploads/", headers={
        **TUS, "Upload-Length": "10", "Upload-Metadata": ""}))
    _third_is_refused(lambda: reporter.call("POST", "/reports", json={
        "target_type": "message", "target_id": post["id"], "reason": "spam"}))
    _third_is_refused(lambda: creator.call("POST", "/chats", json={"kind": "group",
                                                                    "title": "one more"}))
    _third_is_refused(lambda: editor.call("PATCH", "/me", json={"display_name": "Ed"}))
    # Limits are per account: the owner still writes.
    owner.send(gid, "still here")


def test_the_window_moves_with_the_clock(strict: LiveServer) -> None:
    alice = strict.sign_up()
    for _ in range(2):
        alice.ok("PATCH", "/me", json={"display_name": "Alice"})
    _limited(alice.call("PATCH", "/me", json={"display_name": "Alice"}))
    strict.clock.advance(60)
    alice.ok("PATCH", "/me", json={"display_name": "Alice"})


def test_a_refused_socket_frame_is_an_error_with_its_id(strict: LiveServer) -> None:
    alice, bob = strict.sign_up(), strict.sign_up()
    chat = alice.direct(bob)
    sock = Socket(strict.ws_url, alice.token or "")
    sock.ready()
    for n in range(3):
        sock.send_json({"type": "send", "id": f"s{n}", "chat_id": chat["id"],
                        "client_id": new_client_id(), "text": f"m{n}"})
    refused = sock.recv_until(lambda f: f["type"] == "error" and f.get("id") == "s2")
    assert refused["error"]["code"] == "rate_limited"
    for n in range(3):
        sock.send_json({"type": "read", "id": f"r{n}", "chat_id": chat["id"], "seq": n + 1})
    refused = sock.recv_until(lambda f: f["type"] == "error")
    assert (refused["id"], refused["error"]["code"]) == ("r2", "rate_limited")
    sock.close()


def test_bots_are_limited_and_told_when_to_retry(strict: LiveServer, alice: Api) -> None:
    from tests.botapi_helpers import make_bot

    bot = make_bot(strict, "Chatty")
    chat_id = alice.group("bots", [])["id"]
    alice.ok("POST", f"/chats/{chat_id}/members", json={"user_ids": [bot.id]})
    answers = [bot.http.post("/messages", params={"chat_id": chat_id}, json={"text": "hi"})
               for _ in range(3)]
    assert answers[0].status_code == 200, answers[0].text
    assert answers[2].status_code == 429
    assert answers[2].json()["code"] == "too.many.requests"
    assert int(answers[2].headers["retry-after"]) >= 1


def _latency(sender: Socket, receiver: Socket, chat_id: int, count: int) -> list[float]:
    """Send → deliver times of `count` messages, one after the other, paced at 25 a second:
    faster, the sender meets its own limit (30 a second) and the refused send never
    arrives."""
    times = []
    for _ in range(count):
        if times:
            time.sleep(max(0.0, 0.04 - times[-1]))
        text = uuid.uuid4().hex
        started = time.perf_counter()
        sender.send_json({"type": "send", "id": text, "chat_id": chat_id,
                          "client_id": text, "text": text})
        receiver.recv_until(lambda f, t=text: f["type"] == "message.new"
                            and f["message"]["text"] == t, timeout=60)
        times.append(time.perf_counter() - started)
    return times


class _Flood:
    """User A: 3,000 sends on one socket and 300 reaction toggles over HTTP, all at once,
    counting what the server refused. Unlimited, the toggles queue 300 transactions on the
    writer ahead of everyone else's sends."""

    def __init__(self, server: LiveServer, api: Api, chat_id: int, message_id: int) -> None:
        self.sock = Socket(server.ws_url, api.token or "")
        self.sock.ready()
        self.api, self.chat_id, self.message_id = api, chat_id, message_id
        self.acks = self.refused = self.reactions_refused = 0
        self.threads = [threading.Thread(target=self._send), threading.Thread(target=self._read),
                        threading.Thread(target=lambda: asyncio.run(self._react()))]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=120)

    def _send(self) -> None:
        for n in range(3000):
            self.sock.send_json({"type": "send", "id": n, "chat_id": self.chat_id,
                                 "client_id": f"flood-{n}", "text": f"flood {n}"})

    def _read(self) -> None:
        try:
            while self.acks + self.refused < 3000:
                frame = self.sock.recv(timeout=60)
                if frame["type"] == "ack":
                    self.acks += 1
                elif frame["type"] == "error":
                    assert frame["error"]["code"] == "rate_limited", frame
                    self.refused += 1
        except (ConnectionClosed, TimeoutError):
            return

    async def _react(self) -> None:
        path = f"/chats/{self.chat_id}/messages/{self.message_id}/reactions"
        limits = httpx.Limits(max_connections=300)
        async with httpx.AsyncClient(base_url=self.api.base_url + "/api/v1", timeout=120,
                                     limits=limits, headers={
                                         "authorization": f"Bearer {self.api.token}"}) as http:
            answers = await asyncio.gather(*(
                http.put(path, json={"emoji": emoji}) if n % 2 == 0
                else http.delete(path, params={"emoji": emoji})
                for n in range(100) for emoji in "👍🎉🔥"))
        for answer in answers:
            if answer.status_code == 429:
                assert int(answer.headers["retry-after"]) >= 1
                self.reactions_refused += 1


def test_one_flooding_user_does_not_slow_the_others(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, **DEFAULTS)
    try:
        flooder, bob, carol = server.sign_up(), server.sign_up(), server.sign_up()
        own = flooder.group("my flood", [])["id"]
        target = flooder.send(own, "toggle me")["id"]
        chat = bob.direct(carol)["id"]
        sender = Socket(server.ws_url, bob.token or "")
        receiver = Socket(server.ws_url, carol.token or "")
        sender.ready()
        receiver.ready()
        _latency(sender, receiver, chat, 5)  # warm up
        quiet = statistics.median(_latency(sender, receiver, chat, 20))

        flood = _Flood(server, flooder, own, target)
        flood.start()
        loaded = statistics.median(_latency(sender, receiver, chat, 20))
        flood.join()
        print(f"bob → carol p50: {quiet * 1000:.1f} ms quiet, {loaded * 1000:.1f} ms while "
              f"A floods; A's sends: {flood.acks} stored, {flood.refused} refused; "
              f"reactions: {flood.reactions_refused} of 300 refused")
        # Most of the flood is refused before it costs the writer anything.
        assert flood.refused >= 2000
        assert flood.acks + flood.refused == 3000
        assert flood.reactions_refused >= 100
        # Generous: a shared, slow machine. Unlimited, the flood costs seconds per send.
        assert loaded <= 5 * quiet + 0.25, (quiet, loaded)
        for sock in (sender, receiver, flood.sock):
            sock.close()
    finally:
        server.thread.stop()


def test_a_socket_has_a_bounded_number_of_frames_in_flight(database_url: str,
                                                            tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, ws_frames_in_flight=8)
    try:
        alice, bob = server.sign_up(), server.sign_up()
        chat = alice.direct(bob)["id"]
        loop = server.thread.loop
        assert loop is not None
        idle = server.run_async(_task_count())
        stop = threading.Event()
        peak = asyncio.run_coroutine_threadsafe(_peak_tasks(stop), loop)
        sock = Socket(server.ws_url, alice.token or "")
        sock.ready()
        for n in range(1500):
            kind = ("read", "delivered", "typing")[n % 3]
            sock.send_json({"type": kind, "chat_id": chat, "seq": 0})
        for n in range(500):
            sock.send_json({"type": "send", "id": n, "chat_id": chat,
                            "client_id": f"c{n}", "text": f"m{n}"})
        wait_until(lambda: sum(f["type"] == "ack" for f in _drain(sock)) >= 500, timeout=120,
                   message="every send stored")
        stop.set()
        # The sampler's own task and the request's are counted too; without the bound the
        # frames of one read were thousands of tasks at once.
        assert peak.result(30) - idle <= 8 + 6
        sock.close()
    finally:
        server.thread.stop()


async def _task_count() -> int:
    return len(asyncio.all_tasks())


async def _peak_tasks(stop: threading.Event) -> int:
    peak = 0
    while not stop.is_set():
        peak = max(peak, len(asyncio.all_tasks()))
        await asyncio.sleep(0)
    return peak


def _drain(sock: Socket) -> list[dict[str, Any]]:
    try:
        while True:
            sock.recv(timeout=0.2)
    except TimeoutError:
        pass
    return sock.frames


@pytest.mark.skipif(not REDIS_URL, reason="DARBUKA_TEST_REDIS_URL is not set")
def test_limits_hold_across_server_processes(pg_url: str, tmp_path: Path) -> None:
    asyncio.run(_pg_admin(pg_url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex[:8]}",
              "secret_key": "shared-secret", "write_limit_chats": "3/minute"}
    first = make_server(pg_url, tmp_path / "a", **shared)
    second = make_server(pg_url, tmp_path / "b", **shared)
    try:
        alice = first.sign_up()
        there = Api(second.url, alice.token)
        body = {"kind": "group", "title": "counted once"}
        alice.ok("POST", "/chats", json=body)
        there.ok("POST", "/chats", json=body)
        alice.ok("POST", "/chats", json=body)
        _limited(there.call("POST", "/chats", json=body))
        _limited(alice.call("POST", "/chats", json=body))
    finally:
        first.thread.stop()
        second.thread.stop()
