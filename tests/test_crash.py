"""A server killed with SIGKILL in the middle of a send storm loses no acked message, and
clients that resend everything with the same client ids end with each message exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from darbuka.testing import LIFTED_WRITE_LIMITS, ServerProcess
from tests.helpers import Api, Socket

TOTAL = 2000
# The server is killed by the thread that reads acks, the moment this many have arrived.
KILL_AFTER = 200


def _token(data_dir: Path, env: dict[str, str], phone: str) -> str:
    out = subprocess.run([sys.executable, "-m", "darbuka", "admin", "issue-token", "--phone",
                          phone, "--data-dir", str(data_dir)], capture_output=True, text=True,
                         env=env, check=True, timeout=60)
    return out.stdout.strip().splitlines()[-1]


def _storm(sock: Socket, chat_id: int, acked: dict[str, int], server: ServerProcess) -> None:
    """Fire every send without waiting, then collect acks; kill the server mid-way."""
    for i in range(TOTAL):
        sock.send_json({"type": "send", "id": i, "chat_id": chat_id,
                        "client_id": f"storm-{i}", "text": f"message {i}"})
    try:
        while True:
            frame = sock.recv(timeout=30)
            if frame["type"] == "ack":
                acked[frame["message"]["client_id"]] = frame["message"]["id"]
                if len(acked) == KILL_AFTER:
                    server.kill()
    except (ConnectionClosed, TimeoutError, OSError):
        return


def _all_messages(api: Api, chat_id: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    after = 0
    while True:
        page = api.history(chat_id, after=after, limit=200)
        if not page:
            return messages
        messages += page
        after = page[-1]["seq"]


def test_sigkill_during_a_send_storm_loses_no_acked_message(database_url: str,
                                                            tmp_path: Path) -> None:
    env = {**os.environ, "DARBUKA_DATABASE_URL": database_url, "DARBUKA_LOG_LEVEL": "warning"}
    alice_token = _token(tmp_path, env, "+447700900001")
    bob_token = _token(tmp_path, env, "+447700900002")
    settings = {"database_url": database_url, **LIFTED_WRITE_LIMITS}
    server = ServerProcess(tmp_path, **settings)
    alice = Api(server.url, alice_token)
    alice.user = alice.ok("GET", "/me")
    bob = Api(server.url, bob_token)
    bob.user = bob.ok("GET", "/me")
    chat = alice.direct(bob)
    bob_cursor = bob.sync()["cursor"]

    acked: dict[str, int] = {}
    sock = Socket(server.ws_url, alice_token, cursor=alice.sync()["cursor"])
    sock.ready()
    storm = threading.Thread(target=_storm, args=(sock, chat["id"], acked, server))
    storm.start()
    storm.join(timeout=120)
    sock.close()
    assert server.proc.returncode is not None, "the server should have been killed"
    assert KILL_AFTER <= len(acked) < TOTAL, "the kill should land in the middle of the storm"

    server = ServerProcess(tmp_path, port=server.port, **settings)
    try:
        stored = {m["client_id"]: m["id"] for m in _all_messages(alice, chat["id"])}
        # Every ack was a promise: the message it named survived the kill, unchanged.
        assert {cid: stored.get(cid) for cid in acked} == acked
        # The client retries everything; repeats return the originals, the rest is new.
        for i in range(TOTAL):
            body = {"client_id": f"storm-{i}", "text": f"message {i}"}
            message = alice.ok("POST", f"/chats/{chat['id']}/messages", json=body)
            if f"storm-{i}" in stored:
                assert message["id"] == stored[f"storm-{i}"]
        final = _all_messages(bob, chat["id"])
        texts = [m["text"] for m in final]
        assert len(final) == TOTAL
        assert sorted(texts) == sorted(f"message {i}" for i in range(TOTAL))
        assert [m["seq"] for m in final] == list(range(1, TOTAL + 1))
        # Nothing was half-written: the recipient's event stream holds each message once,
        # in order, with no gap where the kill struck.
        events, _ = bob.sync_all(bob_cursor)
        assert [e["message"]["id"] for e in events if e["type"] == "message.new"] == [
            m["id"] for m in final]
    finally:
        alice.close()
        bob.close()
        server.stop()
