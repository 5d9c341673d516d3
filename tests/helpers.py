"""Test clients: a signed-in HTTP user and a WebSocket reader, both over real loopback."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson
from websockets.sync.client import ClientConnection, connect

__all__ = ["Api", "Socket", "new_client_id", "wait_until"]


def new_client_id() -> str:
    return str(uuid.uuid4())


def wait_until(predicate: Any, *, timeout: float = 5.0, message: str = "condition") -> Any:
    """Poll with a deadline (no blind sleeps): return the first truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.01)


class Api:
    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.token = token
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url + "/api/v1", headers=headers, timeout=30)
        self.user: dict[str, Any] = {}

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def call(self, method: str, path: str, *, expect: int | None = None,
             **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.is_success, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def send(self, chat_id: int, text: str, **extra: Any) -> dict[str, Any]:
        body = {"client_id": new_client_id(), "text": text, **extra}
        message: dict[str, Any] = self.ok("POST", f"/chats/{chat_id}/messages", json=body)
        return message

    def group(self, title: str, members: list[Api], **extra: Any) -> dict[str, Any]:
        body = {"kind": "group", "title": title, "member_ids": [m.id for m in members], **extra}
        chat: dict[str, Any] = self.ok("POST", "/chats", json=body)
        return chat

    def direct(self, other: Api) -> dict[str, Any]:
        chat: dict[str, Any] = self.ok("POST", "/chats", json={"kind": "direct",
                                                               "user_id": other.id})
        return chat

    def history(self, chat_id: int, **params: Any) -> list[dict[str, Any]]:
        return list(self.ok("GET", f"/chats/{chat_id}/messages", params=params)["messages"])

    def sync(self, cursor: str | None = None, timeout: float = 0) -> dict[str, Any]:
        params: dict[str, Any] = {"timeout": timeout}
        if cursor is not None:
            params["cursor"] = cursor
        result: dict[str, Any] = self.ok("GET", "/sync", params=params)
        return result

    def sync_all(self, cursor: str) -> tuple[list[dict[str, Any]], str]:
        events: list[dict[str, Any]] = []
        while True:
            page = self.sync(cursor)
            events += page["events"]
            cursor = page["cursor"]
            if not page["more"]:
                return events, cursor

    def close(self) -> None:
        self.http.close()


class Socket:
    """A WebSocket client that reads frames into a list as the test asks for them."""

    def __init__(self, ws_url: str, token: str, cursor: str | None = None) -> None:
        self._cm = connect(ws_url, max_size=2**22, max_queue=None)
        self.ws: ClientConnection = self._cm.__enter__()
        auth: dict[str, Any] = {"type": "auth", "token": token}
        if cursor is not None:
            auth["cursor"] = cursor
        self.ws.send(orjson.dumps(auth).decode())
        self.frames: list[dict[str, Any]] = []
        self.cursor: str | None = cursor

    def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        frame: dict[str, Any] = orjson.loads(self.ws.recv(timeout=timeout))
        self.frames.append(frame)
        if "cursor" in frame and frame.get("type") != "error":
            self.cursor = frame["cursor"]
        return frame

    def recv_until(self, predicate: Any, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(timeout=max(0.01, deadline - time.monotonic()))
            if predicate(frame):
                return frame

    def ready(self) -> dict[str, Any]:
        return self.recv_until(lambda f: f["type"] in ("ready", "reset"))

    def send_json(self, frame: dict[str, Any]) -> None:
        self.ws.send(orjson.dumps(frame).decode())

    def close(self) -> None:
        self._cm.__exit__(None, None, None)
