"""One WebSocket connection: auth in the first frame, resume from a cursor, live events.

Frames are JSON text. Client → server: auth, send, read, typing, ping. Server → client:
events (each with its cursor), ack, error, reset, ready, pong. See docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections import deque
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from darbuka.bus.base import Bus, Ephemeral
from darbuka.clock import Clock
from darbuka.errors import ApiError
from darbuka.gateway.hub import Hub
from darbuka.services.auth import AuthService
from darbuka.services.events import Event, encode_cursor
from darbuka.services.messages import MessageService, SendResult, check_send
from darbuka.services.sync import SyncService

__all__ = ["Gateway", "SocketConnection"]

log = logging.getLogger(__name__)

PONG = b'{"type":"pong"}'
AUTH_TIMEOUT_S = 10.0
CLOSE_GRACE_S = 5.0
# Close codes (4000-4999 are ours): the client should resume from its cursor on 4008.
CLOSE_UNAUTHORIZED, CLOSE_BAD_REQUEST, CLOSE_OVERFLOW, CLOSE_IDLE = 4401, 4400, 4008, 4000


def _error_frame(err: ApiError, request_id: Any = None) -> bytes:
    frame: dict[str, Any] = {"type": "error", **err.as_dict()}
    if request_id is not None:
        frame["id"] = request_id
    return orjson.dumps(frame)


class Gateway:
    """Holds what every connection needs, and the sweeper that closes silent ones."""

    def __init__(self, *, hub: Hub, bus: Bus, auth: AuthService, messages: MessageService,
                 sync: SyncService, clock: Clock, queue_limit: int, idle_timeout_s: float,
                 ) -> None:
        self.hub = hub
        self.bus = bus
        self.auth = auth
        self.messages = messages
        self.sync = sync
        self.clock = clock
        self.queue_limit = queue_limit
        self.idle_timeout_s = idle_timeout_s
        self.connections: set[SocketConnection] = set()
        self.overflows = 0
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid()}.{id(self) & 0xFFFF:x}."
        self._sweeper: asyncio.Task[None] | None = None

    def next_key(self) -> str:
        return f"{self._prefix}{next(self._ids)}"

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="ws-sweeper")

    async def stop(self) -> None:
        if self._sweeper:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for conn in tuple(self.connections):
            conn.close_soon(1001)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(10.0, self.idle_timeout_s / 3))
            deadline = self.clock.monotonic() - self.idle_timeout_s
            for conn in tuple(self.connections):
                if conn.last_heard < deadline:
                    conn.close_soon(CLOSE_IDLE)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            async with asyncio.timeout(AUTH_TIMEOUT_S):
                first = await ws.receive_text()
            frame = orjson.loads(first)
            if not isinstance(frame, dict) or frame.get("type") != "auth":
                raise ApiError("the first frame must be {\"type\": \"auth\", \"token\": ...}",
                               code="auth_required")
            principal = await self.auth.authenticate(frame.get("token"))
            after = self.sync.check_cursor(frame.get("cursor"))
        except (TimeoutError, WebSocketDisconnect, orjson.JSONDecodeError, KeyError):
            await _close_quietly(ws, CLOSE_BAD_REQUEST)
            return
        except ApiError as err:
            with contextlib.suppress(Exception):
                await ws.send_text(_error_frame(err).decode())
            await _close_quietly(ws, CLOSE_UNAUTHORIZED if err.status == 401
                                 else CLOSE_BAD_REQUEST)
            return
        conn = SocketConnection(self, ws, principal.user_id)
        self.connections.add(conn)
        try:
            await conn.run(after)
        finally:
            self.connections.discard(conn)


async def _close_quietly(ws: WebSocket, code: int) -> None:
    """Close politely; a peer that will not read the close frame gets its link cut."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_GRACE_S):
            await ws.close(code)
            return
    _abort(ws)


def _abort(ws: WebSocket) -> None:
    """Drop the TCP connection at once, unsent bytes and all (see gateway/protocol.py)."""
    extension = (ws.scope.get("extensions") or {}).get("darbuka.abort")
    if extension is not None:
        extension["abort"]()


class SocketConnection:
    """A hub sink that writes to one socket through a bounded queue.

    Delivery never waits on the socket: frames go to `_out`, and one short-lived task drains
    it. A client that stops reading fills the queue and is disconnected (close code 4008:
    resume from your cursor), so it never slows anyone else.
    """

    __slots__ = ("_closing", "_gw", "_held", "_out", "_sender", "_tasks", "_ws", "key",
                 "last_heard", "last_pos", "user_id")

    def __init__(self, gateway: Gateway, ws: WebSocket, user_id: int) -> None:
        self._gw = gateway
        self._ws = ws
        self.user_id = user_id
        self.key = gateway.next_key()
        self.last_pos = 0
        self.last_heard = gateway.clock.monotonic()
        self._out: deque[bytes] = deque()
        self._sender: asyncio.Task[None] | None = None
        # Events that arrive while we replay from storage; None once live.
        self._held: list[Event] | None = []
        self._closing = False
        self._tasks: set[asyncio.Task[Any]] | None = None

    # -- the sink side --------------------------------------------------------------------

    def push(self, event: Event) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self._deliver(event)

    def push_ephemeral(self, notice: Ephemeral) -> None:
        if self._held is None:
            self._enqueue(notice.frame)

    def _deliver(self, event: Event) -> None:
        if event.pos <= self.last_pos:
            return  # already replayed from storage
        self.last_pos = event.pos
        origin = event.origin
        if origin is not None and origin.startswith(self.key + ":"):
            self._enqueue(event.ack_frame(orjson.loads(origin[len(self.key) + 1:])))
        else:
            self._enqueue(event.frame_for(self.user_id))

    def _enqueue(self, frame: bytes) -> None:
        if self._closing:
            return
        if len(self._out) >= self._gw.queue_limit:
            # The client stopped reading. Cut it off; it resumes from its cursor later.
            self._gw.overflows += 1
            self.close_soon(CLOSE_OVERFLOW, abort=True)
            return
        self._out.append(frame)
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._out:
                await self._ws.send_text(self._out.popleft().decode())
        except Exception:  # the peer is gone; the receive side ends the connection
            self.close_soon(1011)
        finally:
            self._sender = None

    def close_soon(self, code: int, *, abort: bool = False) -> None:
        if self._closing:
            return
        self._closing = True
        self._out.clear()
        if self._sender is not None:
            self._sender.cancel()
        if abort:
            _abort(self._ws)
        else:
            self._spawn(_close_quietly(self._ws, code))

    def _spawn(self, coro: Any) -> None:
        if self._tasks is None:
            self._tasks = set()
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- the connection's life ------------------------------------------------------------

    async def run(self, after: int | None) -> None:
        gw = self._gw
        await gw.hub.attach(self)
        try:
            await self._catch_up(after)
            held, self._held = self._held or [], None
            for event in held:
                self._deliver(event)
            self._enqueue(orjson.dumps({"type": "ready", "cursor": encode_cursor(self.last_pos)}))
            await self._receive_loop()
        except WebSocketDisconnect:
            pass
        finally:
            gw.hub.detach(self)
            self._closing = True
            if self._sender is not None:
                self._sender.cancel()

    async def _catch_up(self, after: int | None) -> None:
        """Replay from storage (or reset), writing straight to the socket with backpressure."""
        sync = self._gw.sync
        if await sync.needs_reset(self.user_id, after):
            state = await sync.reset_state(self.user_id)
            self.last_pos = int(state["cursor"])
            await self._ws.send_text(orjson.dumps({"type": "reset", "cursor": state["cursor"],
                                                   "chats": state["chats"]}).decode())
            return
        assert after is not None  # noqa: S101 - needs_reset is true for None
        self.last_pos = after
        while True:
            page = await sync.page(self.user_id, self.last_pos)
            for event in page.events:
                await self._ws.send_text(orjson.dumps(event).decode())
            self.last_pos = page.last_pos
            if not page.more:
                return

    async def _receive_loop(self) -> None:
        ws, clock = self._ws, self._gw.clock
        while not self._closing:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            self.last_heard = clock.monotonic()
            raw = message.get("text") or message.get("bytes") or b""
            try:
                frame = orjson.loads(raw)
                if not isinstance(frame, dict):
                    raise ApiError("frames are JSON objects", code="malformed_frame")
                self._handle(frame)
            except orjson.JSONDecodeError:
                self._enqueue(_error_frame(ApiError("not JSON", code="malformed_json")))
            except ApiError as err:
                self._enqueue(_error_frame(err, _request_id(frame)))

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "send":
            self._send(frame)
        elif kind == "ping":
            self._enqueue(PONG)
        elif kind == "typing":
            self._typing(frame.get("chat_id"))
        elif kind == "read":
            self._spawn(self._read(frame))
        else:
            raise ApiError(f"unknown frame type {kind!r}", code="unknown_type")

    def _send(self, frame: dict[str, Any]) -> None:
        request_id = _request_id(frame)
        req = check_send(self.user_id, frame.get("chat_id"), frame.get("client_id"),
                         frame.get("text"), frame.get("reply_to"), frame.get("forward_of"),
                         origin=f"{self.key}:{orjson.dumps(request_id).decode()}")
        future = self._gw.messages.submit_send(req)
        future.add_done_callback(lambda f: self._on_stored(f, request_id))

    def _on_stored(self, future: asyncio.Future[SendResult], request_id: Any) -> None:
        """New messages are acked in stream order by `_deliver`; here: repeats and errors."""
        if future.cancelled():
            return
        err = future.exception()
        if isinstance(err, ApiError):
            self._enqueue(_error_frame(err, request_id))
        elif err is not None:
            self._enqueue(_error_frame(ApiError("could not send", code="internal"), request_id))
        elif future.result().repeated:
            self._enqueue(orjson.dumps({"type": "ack", "id": request_id, "repeat": True,
                                        "message": future.result().message}))

    def _typing(self, chat_id: Any) -> None:
        if not isinstance(chat_id, int) or not self._gw.hub.is_member(self.user_id, chat_id):
            raise ApiError("no such chat", code="chat_not_found")
        frame = orjson.dumps({"type": "typing", "chat_id": chat_id, "user_id": self.user_id})
        self._gw.bus.publish_ephemeral(Ephemeral(chat_id, self.user_id, frame))

    async def _read(self, frame: dict[str, Any]) -> None:
        try:
            chat_id = frame.get("chat_id")
            if not isinstance(chat_id, int):
                raise ApiError("chat_id must be a chat id", code="invalid_chat_id")
            await self._gw.messages.do_mark_read(self.user_id, chat_id, frame.get("seq"))
        except ApiError as err:
            self._enqueue(_error_frame(err, _request_id(frame)))


def _request_id(frame: Any) -> Any:
    if isinstance(frame, dict):
        value = frame.get("id")
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
    return None
