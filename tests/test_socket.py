"""The WebSocket gateway: auth, acks after commit, resume without races, backpressure."""

from __future__ import annotations

import base64
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, Socket, new_client_id, wait_until


def live_socket(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    return sock


def test_send_over_the_socket_is_acked_after_commit(server: LiveServer, alice: Api,
                                                    bob: Api) -> None:
    chat = alice.direct(bob)
    a, b = live_socket(server, alice), live_socket(server, bob)
    client_id = new_client_id()
    a.send_json({"type": "send", "id": 7, "chat_id": chat["id"], "client_id": client_id,
                 "text": "over the socket"})
    ack = a.recv_until(lambda f: f["type"] == "ack")
    assert ack["id"] == 7
    assert ack["message"]["client_id"] == client_id
    # Acked means stored: the history has it already.
    assert bob.history(chat["id"])[-1]["id"] == ack["message"]["id"]
    event = b.recv_until(lambda f: f["type"] == "message.new")
    assert event["message"]["id"] == ack["message"]["id"]
    assert event["cursor"] == ack["cursor"]
    # The sending socket got the ack instead of an echo.
    assert not [f for f in a.frames if f["type"] == "message.new"]
    a.close()
    b.close()


def test_other_devices_of_the_sender_get_the_event_with_client_id(server: LiveServer,
                                                                  alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    phone, laptop = live_socket(server, alice), live_socket(server, alice)
    phone.send_json({"type": "send", "id": "p1", "chat_id": chat["id"],
                     "client_id": "c-1", "text": "from my phone"})
    phone.recv_until(lambda f: f["type"] == "ack")
    event = laptop.recv_until(lambda f: f["type"] == "message.new")
    assert event["message"]["client_id"] == "c-1"
    phone.close()
    laptop.close()


def test_a_repeated_send_is_acked_with_the_original(server: LiveServer, alice: Api,
                                                    bob: Api) -> None:
    chat = alice.direct(bob)
    a = live_socket(server, alice)
    frame = {"type": "send", "id": 1, "chat_id": chat["id"], "client_id": "same",
             "text": "once"}
    a.send_json(frame)
    first = a.recv_until(lambda f: f["type"] == "ack")
    a.send_json({**frame, "id": 2})
    second = a.recv_until(lambda f: f["type"] == "ack")
    assert second["repeat"] is True
    assert second["message"] == first["message"]
    assert len(bob.history(chat["id"])) == 1
    a.close()


def test_send_errors_come_back_with_the_request_id(server: LiveServer, alice: Api,
                                                   bob: Api, carol: Api) -> None:
    chat = bob.direct(carol)
    a = live_socket(server, alice)
    a.send_json({"type": "send", "id": 3, "chat_id": chat["id"], "client_id": "x",
                 "text": "intruding"})
    error = a.recv_until(lambda f: f["type"] == "error")
    assert error["id"] == 3
    assert error["error"]["code"] == "chat_not_found"
    a.send_json({"type": "send", "id": 4, "chat_id": chat["id"], "client_id": "y",
                 "text": "x" * 5000})
    assert a.recv_until(lambda f: f["type"] == "error")["error"]["code"] == "text_too_long"
    a.close()


def test_resume_replays_what_was_missed_then_goes_live(server: LiveServer, alice: Api,
                                                       bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    missed = [alice.send(chat["id"], f"missed {i}")["id"] for i in range(5)]
    b = Socket(server.ws_url, bob.token or "", cursor=cursor)
    ready = b.ready()
    replayed = [f["message"]["id"] for f in b.frames if f["type"] == "message.new"]
    assert replayed == missed
    assert ready["cursor"] == b.frames[-2]["cursor"]
    live = alice.send(chat["id"], "live")
    assert b.recv_until(lambda f: f["type"] == "message.new")["message"]["id"] == live["id"]
    b.close()


def test_resume_during_a_send_storm_misses_nothing_and_repeats_nothing(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    total = 600
    stop = threading.Event()

    def storm() -> None:
        sender = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
        sender.ready()
        for i in range(total):
            sender.send_json({"type": "send", "id": i, "chat_id": chat["id"],
                              "client_id": f"storm-{i}", "text": f"s{i}"})
        wait_until(lambda: sum(f["type"] == "ack" for f in _drain(sender)) >= total
                   or stop.is_set(), timeout=60, message="acks")
        sender.close()

    thread = threading.Thread(target=storm)
    thread.start()
    # Connect several times while the storm runs: each resumes from the old cursor.
    for _ in range(3):
        time.sleep(0.05)
        b = Socket(server.ws_url, bob.token or "", cursor=cursor)
        b.ready()
        b.close()
    b = Socket(server.ws_url, bob.token or "", cursor=cursor)
    b.ready()
    thread.join(timeout=60)
    stop.set()
    wait_until(lambda: len(_messages(b)) >= total, timeout=30, message="all messages")
    seqs = [f["message"]["seq"] for f in b.frames if f["type"] == "message.new"]
    assert seqs == list(range(1, total + 1))
    b.close()


def _drain(sock: Socket) -> list[dict[str, Any]]:
    while True:
        try:
            sock.recv(timeout=0.05)
        except TimeoutError:
            return sock.frames


def _messages(sock: Socket) -> list[dict[str, Any]]:
    _drain(sock)
    return [f for f in sock.frames if f["type"] == "message.new"]


def test_membership_changes_apply_to_live_sockets(server: LiveServer, alice: Api,
                                                  bob: Api) -> None:
    group = alice.group("G", [])
    b = live_socket(server, bob)
    alice.ok("POST", f"/chats/{group['id']}/members", json={"user_ids": [bob.id]})
    assert b.recv_until(lambda f: f["type"] == "member.joined")["chat"]["id"] == group["id"]
    alice.send(group["id"], "welcome")
    b.recv_until(lambda f: f["type"] == "message.new" and f["message"].get("text") == "welcome")
    alice.call("DELETE", f"/chats/{group['id']}/members/{bob.id}", expect=204)
    b.recv_until(lambda f: f["type"] == "member.left")
    alice.send(group["id"], "secret")
    # A marker in another chat of bob's shows delivery has happened; the secret must not.
    direct = alice.direct(bob)
    alice.send(direct["id"], "marker")
    b.recv_until(lambda f: f["type"] == "message.new" and f["message"].get("text") == "marker")
    assert "secret" not in [f["message"].get("text") for f in b.frames if "message" in f]
    b.close()


def test_typing_is_delivered_and_never_stored(server: LiveServer, alice: Api,
                                              bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    a, b = live_socket(server, alice), live_socket(server, bob)
    a.send_json({"type": "typing", "chat_id": chat["id"]})
    typing = b.recv_until(lambda f: f["type"] == "typing")
    assert typing == {"type": "typing", "chat_id": chat["id"], "user_id": alice.id}
    alice.call("POST", f"/chats/{chat['id']}/typing", expect=204)
    b.recv_until(lambda f: f["type"] == "typing")
    assert bob.sync(cursor)["events"] == []
    a.close()
    b.close()


def test_ping_pong_and_read_over_the_socket(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "read me")
    a, b = live_socket(server, alice), live_socket(server, bob)
    b.send_json({"type": "ping"})
    b.recv_until(lambda f: f["type"] == "pong")
    b.send_json({"type": "read", "chat_id": chat["id"], "seq": message["seq"]})
    read = a.recv_until(lambda f: f["type"] == "chat.read")
    assert read["user_id"] == bob.id
    assert read["seq"] == message["seq"]
    a.close()
    b.close()


def test_the_token_goes_in_the_first_frame(server: LiveServer, alice: Api) -> None:
    bad = Socket(server.ws_url, "dk_not_a_token")
    assert bad.recv()["error"]["code"] == "invalid_token"
    with pytest.raises(ConnectionClosed) as closed:
        bad.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_silent_sockets_are_closed(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, ws_idle_timeout_s=1.5)
    try:
        alice = server.sign_up("Alice")
        quiet = live_socket(server, alice)
        chatty = live_socket(server, alice)
        deadline = time.monotonic() + 10
        closed: ConnectionClosed | None = None
        while closed is None and time.monotonic() < deadline:
            chatty.send_json({"type": "ping"})  # the chatty one keeps its socket alive
            try:
                quiet.recv(timeout=0.3)
            except TimeoutError:
                continue
            except ConnectionClosed as exc:
                closed = exc
        assert closed is not None
        assert closed.rcvd is not None
        assert closed.rcvd.code == 4000
        chatty.send_json({"type": "ping"})
        chatty.recv_until(lambda f: f["type"] == "pong")
        chatty.close()
    finally:
        server.thread.stop()


def raw_socket_that_never_reads(server: LiveServer, token: str, cursor: str) -> socket.socket:
    """A WebSocket client with a tiny receive buffer that never reads after the handshake."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.thread.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response
    payload = orjson.dumps({"type": "auth", "token": token, "cursor": cursor})
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | 126]) + len(payload).to_bytes(2, "big") + mask + masked)
    return sock


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_client_that_stops_reading_is_cut_off_and_others_carry_on(
        database_url: str, tmp_path: Path) -> None:
    # Bursts from one commit batch must fit a reading client's queue: keep batches smaller.
    server = make_server(database_url, tmp_path, ws_queue_limit=200, commit_max_batch=64)
    try:
        alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
        group = alice.group("Busy", [bob, carol])
        stuck = raw_socket_that_never_reads(server, bob.token or "", bob.sync()["cursor"])
        reader = live_socket(server, carol)
        sender = live_socket(server, alice)
        total = 2000  # 4 KB each: 8 MB, far more than kernel buffers hold for the stuck client
        for i in range(total):
            sender.send_json({"type": "send", "id": i, "chat_id": group["id"],
                              "client_id": f"big-{i}", "text": f"{i:05d}" + "x" * 4000})
        wait_until(lambda: len(_messages(reader)) >= total, timeout=60, message="delivery")
        got = [f["message"]["seq"] for f in reader.frames if f["type"] == "message.new"]
        assert got == list(range(2, total + 2))  # seq 1 is the creation message
        gateway = server.app.state.gateway
        assert gateway.overflows == 1
        assert wait_until(lambda: len(gateway.connections) == 2, message="the cut")
        stuck.close()
        reader.close()
        sender.close()
    finally:
        server.thread.stop()
