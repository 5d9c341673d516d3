"""Bot API test helpers: a bot account, a Bot API client, a webhook receiver on loopback."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson

from tests.conftest import LiveServer

__all__ = ["BotApi", "Receiver", "make_bot"]


class BotApi:
    def __init__(self, base_url: str, token: str, user: dict[str, Any]) -> None:
        self.token = token
        self.user = user
        self.base_url = base_url + "/botapi"
        self.http = httpx.Client(base_url=self.base_url, params={"access_token": token},
                                 timeout=30)

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def call(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, (method, path, response.status_code,
                                                response.text)
        return response.json()

    def updates(self, marker: int | None = None, timeout: int = 5) -> dict[str, Any]:
        params: dict[str, Any] = {"timeout": timeout}
        if marker is not None:
            params["marker"] = marker
        result: dict[str, Any] = self.call("GET", "/updates", params=params)
        return result

    def close(self) -> None:
        self.http.close()


def make_bot(server: LiveServer, name: str = "Echo") -> BotApi:
    token, user = server.run_async(server.app.state.services.bots.do_create_bot(name))
    return BotApi(server.url, token, user)


class Receiver:
    """A webhook endpoint on loopback that records what it gets and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                if owner.status == 200:
                    owner.received.append(orjson.loads(body))
                self.send_response(owner.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def texts(self) -> list[str]:
        return [u["message"]["body"]["text"] for u in self.received
                if u["update_type"] == "message_created"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
