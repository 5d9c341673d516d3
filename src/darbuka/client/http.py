"""The request/response half of the SDK: sign-in, chats, messages over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from darbuka.backoff import Backoff
from darbuka.client.models import Chat, Message, User
from darbuka.client.social import SocialApi

__all__ = ["ApiError", "HttpApi"]

# Worth another try with the same client id: the server may not have stored the send.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class ApiError(Exception):
    """The server said no: `status`, and `code`/`message` from its error body.

    `retry_after` is the server's `Retry-After` in seconds (on 429 and 503), else None."""

    def __init__(self, status: int, code: str, message: str, *,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUS


def _seconds(header: str | None) -> float | None:
    """Retry-After as seconds; the HTTP-date form (which the server never sends) is None."""
    try:
        return max(0.0, float(header)) if header else None
    except ValueError:
        return None


class HttpApi(SocialApi):
    """Sign-in, profile, chats and messages over HTTP; the social calls come from
    `SocialApi` (contacts, privacy, public chats, invites, rights, reactions, views)."""

    def __init__(self, server: str, token: str | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.server + "/api/v1", timeout=30,
                                       transport=transport)
        self.token: str | None = None
        if token:
            self.use_token(token)

    def use_token(self, token: str) -> None:
        self.token = token
        self._http.headers["authorization"] = f"Bearer {token}"

    async def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One signed-in request under /api/v1; an `ApiError` unless it succeeded."""
        response = await self._http.request(method, path, **kwargs)
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
            code, message = str(error["code"]), str(error["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "http_error", response.text[:200]
        raise ApiError(response.status_code, code, message,
                       retry_after=_seconds(response.headers.get("retry-after")))

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- sign-in and profile --------------------------------------------------------------

    async def request_code(self, phone: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/auth/request-code",
                                                 json={"phone": phone})
        return result

    async def sign_in(self, phone: str, code: str, *, device_name: str = "sdk") -> User:
        """Trade the code for a token; the client uses it from now on (see `token`)."""
        result = await self.call("POST", "/auth/sign-in", json={
            "phone": phone, "code": code, "device_name": device_name})
        self.use_token(result["token"])
        return User.from_json(result["user"])

    async def me(self) -> User:
        return User.from_json(await self.call("GET", "/me"))

    async def user(self, user_id: int) -> User:
        return User.from_json(await self.call("GET", f"/users/{user_id}"))

    # -- chats ----------------------------------------------------------------------------

    async def chats(self) -> list[Chat]:
        return [Chat.from_json(c) for c in (await self.call("GET", "/chats"))["chats"]]

    async def chat(self, chat_id: int) -> Chat:
        return Chat.from_json(await self.call("GET", f"/chats/{chat_id}"))

    async def create_group(self, title: str, member_ids: list[int] | None = None, *,
                           kind: str = "group", public: bool = False) -> Chat:
        body = {"kind": kind, "title": title, "member_ids": member_ids or [], "public": public}
        return Chat.from_json(await self.call("POST", "/chats", json=body))

    async def direct(self, user_id: int) -> Chat:
        return Chat.from_json(await self.call("POST", "/chats", json={"kind": "direct",
                                                                       "user_id": user_id}))

    async def add_members(self, chat_id: int, user_ids: list[int]) -> list[int]:
        result = await self.call("POST", f"/chats/{chat_id}/members", json={"user_ids": user_ids})
        return list(result["added"])

    # -- messages -------------------------------------------------------------------------

    async def history(self, chat_id: int, *, before: int | None = None,
                      after: int | None = None, limit: int = 50) -> list[Message]:
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if after is not None:
            params["after"] = after
        result = await self.call("GET", f"/chats/{chat_id}/messages", params=params)
        return [Message.from_json(m) for m in result["messages"]]

    async def send_now(self, chat_id: int, text: str, *, client_id: str | None = None,
                       attempts: int = 6, media_id: str | None = None,
                       kind: str | None = None) -> Message:
        """Send over HTTP and wait for the stored message, retrying transient failures
        (and `media_not_ready`) with the same client id, so a retry never doubles.
        `media_id` (from `upload`) makes it a media message; `text` is then its caption.
        Survives no restart: for that, use `Client.send` / `Client.send_file`."""
        body: dict[str, Any] = {"client_id": client_id or str(uuid.uuid4()), "text": text}
        if media_id is not None:
            body |= {"media_id": media_id, "kind": kind}
        backoff = Backoff(base=0.2, cap=5.0)
        for attempt in range(attempts):
            try:
                return Message.from_json(await self.call("POST", f"/chats/{chat_id}/messages",
                                                         json=body))
            except ApiError as err:
                retry = err.transient or err.code == "media_not_ready"
                if not retry or attempt == attempts - 1:
                    raise
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
            await asyncio.sleep(backoff.next_delay())
        raise AssertionError("unreachable")

    async def edit(self, chat_id: int, message_id: int, text: str) -> Message:
        return Message.from_json(await self.call(
            "PATCH", f"/chats/{chat_id}/messages/{message_id}", json={"text": text}))

    async def delete(self, chat_id: int, message_id: int) -> Message:
        return Message.from_json(await self.call(
            "DELETE", f"/chats/{chat_id}/messages/{message_id}"))

    async def mark_read(self, chat_id: int, seq: int) -> None:
        await self.call("POST", f"/chats/{chat_id}/read", json={"seq": seq})

    async def mark_delivered(self, chat_id: int, seq: int) -> int:
        """Tell the chat this device has everything up to `seq` (the sender's ✓✓). Marks
        move forward only; returns the mark the server holds."""
        answer = await self.call("POST", f"/chats/{chat_id}/delivered", json={"seq": seq})
        return int(answer["seq"])
