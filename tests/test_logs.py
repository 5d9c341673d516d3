"""JSON logs (`DARBUKA_LOG_FORMAT=json`): one object a line, each with the id of the HTTP
request or socket frame it was written for; the id is answered in `X-Request-Id`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from darbuka.logs import REQUEST_ID
from darbuka.testing import ServerProcess
from tests.conftest import make_server
from tests.helpers import Socket, wait_until


def _lines(log: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in log.read_text().splitlines() if line.strip()]


def test_every_line_is_json_and_carries_its_request_id(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, log_format="json", log_level="info")
    try:
        sent = httpx.post(server.url + "/api/v1/auth/request-code",
                          json={"phone": "+447700900201"},
                          headers={"X-Request-Id": "edge-7f3a.1"})
        assert sent.headers["x-request-id"] == "edge-7f3a.1"
        made = httpx.post(server.url + "/api/v1/auth/request-code",
                          json={"phone": "+447700900202"},
                          headers={"X-Request-Id": "not sane; " + "x" * 100})
        generated = made.headers["x-request-id"]
        assert "sane" not in generated
        assert 0 < len(generated) <= 64
        assert " " not in generated
        other = httpx.get(server.url + "/api/v1/health").headers["x-request-id"]
        assert other != generated
        log = tmp_path / "server.log"

        def codes_logged() -> list[dict[str, Any]] | None:
            found = [e for e in _lines(log) if e["logger"] == "darbuka.codes"]
            return found if len(found) == 2 else None

        codes = wait_until(codes_logged)
    finally:
        server.stop()
    by_phone = {("201" if "+447700900201" in e["message"] else "202"): e for e in codes}
    assert by_phone["201"]["request_id"] == "edge-7f3a.1"
    assert by_phone["202"]["request_id"] == generated
    assert by_phone["201"]["level"] == "warning"
    assert {"time", "logger", "message"} <= set(by_phone["201"])
    lines = _lines(log)  # uvicorn's own lines are JSON too (each parsed above)
    assert any(e["logger"].startswith("uvicorn") for e in lines)


def test_text_logs_add_nothing_to_requests(tmp_path: Path) -> None:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path)
    try:
        assert "x-request-id" not in httpx.get(srv.url + "/api/v1/health").headers
    finally:
        srv.thread.stop()


def test_each_socket_frame_has_a_request_id_of_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, log_format="json")
    try:
        alice, bob = srv.sign_up("Alice"), srv.sign_up("Bob")
        chat = alice.direct(bob)
        messages = srv.app.state.gateway.messages
        seen: list[str | None] = []
        typing = messages.do_typing

        async def recording(user_id: int, chat_id: int) -> None:
            seen.append(REQUEST_ID.get())  # what a log line written here would carry
            await typing(user_id, chat_id)

        monkeypatch.setattr(messages, "do_typing", recording)
        socket = Socket(srv.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
        try:
            socket.ready()
            for _ in range(2):
                socket.send_json({"type": "typing", "chat_id": chat["id"]})
            wait_until(lambda: len(seen) == 2)
        finally:
            socket.close()
        assert all(seen)
        assert seen[0] != seen[1]
        assert REQUEST_ID.get() is None
    finally:
        srv.thread.stop()


def test_an_unknown_log_format_is_refused(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "darbuka", "migrate", "--data-dir",
                           str(tmp_path)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DARBUKA_LOG_FORMAT": "xml"}, check=False)
    assert done.returncode == 2
    assert "DARBUKA_LOG_FORMAT must be one of text, json" in done.stderr
