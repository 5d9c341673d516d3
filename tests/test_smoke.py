from __future__ import annotations

from tests.conftest import LiveServer
from tests.helpers import Api, Socket


def test_two_users_chat_over_http_and_socket(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    sock = Socket(server.ws_url, bob.token or "", cursor=bob.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    sent = alice.send(chat["id"], "hello bob")
    event = sock.recv_until(lambda f: f["type"] == "message.new")
    assert event["message"]["id"] == sent["id"]
    assert event["message"]["text"] == "hello bob"
    assert "client_id" not in event["message"]
    sock.close()
