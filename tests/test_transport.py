"""The WebSocket transport itself: framing, control frames, handshakes and shutdown.

These hold for the lean protocol in gateway/protocol.py, which does the work an ASGI server
would otherwise do; the meaning of frames is tested in test_socket.py.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, Socket, new_client_id

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def live(server: LiveServer, api: Api) -> Socket:
    sock = Socket(server.ws_url, api.token or "", cursor=api.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    return sock


def test_a_fragmented_frame_is_put_together(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    sock = live(server, alice)
    frame = orjson.dumps({"type": "send", "id": 1, "chat_id": chat["id"],
                          "client_id": new_client_id(), "text": "in three pieces"}).decode()
    sock.ws.send([frame[:10], frame[10:20], frame[20:]])  # one message, three frames
    ack = sock.recv_until(lambda f: f["type"] == "ack")
    assert ack["message"]["text"] == "in three pieces"
    sock.close()


def test_fragments_together_over_the_limit_close_with_1009(server: LiveServer,
                                                           alice: Api) -> None:
    sock = live(server, alice)
    piece = "x" * 40_000  # each frame fits in 64 KiB; the message does not
    sock.ws.send([piece, piece])
    with pytest.raises(ConnectionClosed) as closed:
        sock.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    # The server carries on.
    again = live(server, alice)
    again.send_json({"type": "ping"})
    assert again.recv()["type"] == "pong"
    again.close()


def test_control_pings_are_answered_and_count_as_heard(server: LiveServer,
                                                       alice: Api) -> None:
    sock = live(server, alice)
    pong = sock.ws.ping(b"are you there")
    assert pong.wait(5)
    sock.close()


def test_frames_sent_before_ready_are_handled_after_it(server: LiveServer, alice: Api,
                                                       bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = alice.sync()["cursor"]
    with connect(server.ws_url) as ws:
        # Auth and a send in one burst, without waiting for `ready`.
        ws.send(orjson.dumps({"type": "auth", "token": alice.token, "cursor": cursor}).decode())
        ws.send(orjson.dumps({"type": "send", "id": "early", "chat_id": chat["id"],
                              "client_id": new_client_id(), "text": "early bird"}).decode())
        kinds = []
        while "ack" not in kinds:
            kinds.append(orjson.loads(ws.recv(timeout=5))["type"])
    assert kinds.index("ready") < kinds.index("ack")
    assert [m["text"] for m in bob.history(chat["id"])][-1] == "early bird"


def test_only_the_gateway_path_upgrades(server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(server.url.replace("http", "ws") + "/api/v1/elsewhere")
    assert refused.value.response.status_code == 404


def test_a_socket_that_never_signs_in_is_closed(server: LiveServer, alice: Api,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import darbuka.gateway.socket as socket_module

    monkeypatch.setattr(socket_module, "AUTH_TIMEOUT_S", 0.3)
    with connect(server.ws_url) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400


def test_stopping_the_server_tells_sockets_to_come_back(database_url: str,
                                                        tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path)
    alice = server.sign_up("Alice")
    sock = live(server, alice)
    server.thread.stop()
    with pytest.raises(ConnectionClosed) as closed:
        sock.recv(timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code in (1001, 1012)  # going away / service restart
