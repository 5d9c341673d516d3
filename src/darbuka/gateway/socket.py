"""One WebSocket connection: auth in the first frame, resume from a cursor, live events.

Frames are JSON text. Client → server: auth, send, read, delivered, typing, ping. Server → client:
events (each with its cursor), ack, error, reset, ready, pong. See docs/protocol.md.
The bytes on the wire are handled by `gateway/protocol.py`; this module is the meaning.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from darbuka.clock import Clock
from darbuka.errors import ApiError
from darbuka.logs import REQUEST_ID
from darbuka.services.access import event_frame
from darbuka.services.auth import TOUCH_EVERY_MS, AuthService, signs_out
from darbuka.services.hub import Hub
from darbuka.services.messages import MessageService
from darbuka.services.sending import SendResult, check_send
from darbuka.services.sync import SETTLE_S, SyncService
from darbuka.stream import Ephemeral, Event, encode_cursor

__all__ = ["Gateway", "Link", "SocketConnection"]

log = logging.getLogger(__name__)

PONG = b'{"type":"pong"}'
AUTH_TIMEOUT_S = 10.0
# Frames a client may send before `ready` (they are handled after it).
EARLY_FRAMES_MAX = 100
# Close codes (4000-4999 are ours): the client should resume from its cursor on 4008;
# 4403 follows `account.restricted` (the account was suspended or banned); 4401 a bad token,
# or `device.revoked` naming this socket's device (signed out, expired or banned).
CLOSE_UNAUTHORIZED, CLOSE_BAD_REQUEST, CLOSE_OVERFLOW, CLOSE_IDLE = 4401, 4400, 4008, 4000
CLOSE_RESTRICTED = 4403


class Link(Protocol):
    """What a connection needs of its socket (`protocol.GatewayProtocol` is the real one)."""

    @property
    def paused(self) -> bool:
        """Whether the transport is full: queue frames instead of writing them."""
        ...

    def send(self, payload: bytes) -> None: ...

    async def drained(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...

    def abort(self) -> None: ...


def _error_frame(err: ApiError, request_id: Any = None) -> bytes:
    frame: dict[str, Any] = {"type": "error", **err.as_dict()}
    if request_id is not None:
        frame["id"] = request_id
    return orjson.dumps(frame)


class Gateway:
    """Holds what every connection needs, and the sweeper that closes silent ones."""

    def __init__(self, *, hub: Hub, auth: AuthService, messages: MessageService,
                 sync: SyncService, clock: Clock, queue_limit: int, idle_timeout_s: float,
                 frames_in_flight: int = 128, frame_ids: bool = False) -> None:
        self.hub = hub
        self.auth = auth
        self.messages = messages
        self.sync = sync
        self.clock = clock
        self.queue_limit = queue_limit
        self.idle_timeout_s = idle_timeout_s
        self.frames_in_flight = frames_in_flight
        # Give each frame a request id for the logs (JSON logs only: see _TracedConnection).
        self.frame_ids = frame_ids
        self._frames = itertools.count(1)
        # Signed-in connections.
        self.connections: set[SocketConnection] = set()
        self.overflows = 0
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid()}.{id(self) & 0xFFFF:x}."
        self._sweeper: asyncio.Task[None] | None = None

    def next_key(self) -> str:
        return f"{self._prefix}{next(self._ids)}"

    def frame_id(self, key: str) -> str:
        return f"{key}-{next(self._frames)}"

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="ws-sweeper")

    async def stop(self) -> None:
        if self._sweeper:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for conn in tuple(self.connections):
            conn.close_soon(1001)

    async def _sweep(self) -> None:
        touched = self.clock.monotonic()
        while True:
            await asyncio.sleep(min(10.0, self.idle_timeout_s / 3))
            now = self.clock.monotonic()
            deadline = now - self.idle_timeout_s
            for conn in tuple(self.connections):
                if conn.last_heard < deadline:
                    conn.close_soon(CLOSE_IDLE)
            if now - touched >= TOUCH_EVERY_MS / 1000:
                # A device that keeps a socket open is in use: it must not expire as idle.
                touched = now
                self.auth.touch_later({conn.device_id for conn in self.connections})

    def open(self, link: Link) -> SocketConnection:
        """A socket finished its handshake; it has AUTH_TIMEOUT_S to sign in."""
        return _TracedConnection(self, link) if self.frame_ids else SocketConnection(self, link)


class SocketConnection:
    """A hub sink for one socket, driven by its link's callbacks.

    Delivery never waits on the socket: frames go straight to the transport, and while the
    transport is full (the client reads slower than we write) into `_out`. A client that
    stops reading fills `_out` and is disconnected (resume from your cursor), so it never
    slows anyone else.
    """

    __slots__ = ("_attached", "_early", "_gw", "_held", "_in_flight", "_link", "_opener",
                 "_out", "_state", "_tasks", "_timer", "_waiting", "device_id", "key",
                 "last_heard", "last_pos", "user_id")

    def __init__(self, gateway: Gateway, link: Link) -> None:
        self._gw = gateway
        self._link = link
        self.user_id = 0
        self.device_id = 0
        self.key = gateway.next_key()
        self.last_pos = 0
        self.last_heard = gateway.clock.monotonic()
        # "auth" → "opening" (signing in, replaying) → "live" → "closed"
        self._state = "auth"
        self._attached = False
        self._out: deque[bytes] | None = None
        # Events that arrive while we replay from storage; None once live.
        self._held: list[Event] | None = []
        self._early: list[bytes] | None = None
        self._opener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] | None = None
        # Frames being handled (sends not stored yet, marks, typing); at the gateway's
        # `frames_in_flight` reading stops, and frames already read wait in `_waiting`.
        self._in_flight = 0
        self._waiting: deque[bytes] | None = None
        loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = loop.call_later(
            AUTH_TIMEOUT_S, self.close_soon, CLOSE_BAD_REQUEST)

    # -- the link's callbacks -------------------------------------------------------------

    def heard(self) -> None:
        self.last_heard = self._gw.clock.monotonic()

    def on_message(self, raw: bytes) -> None:
        if self._state == "live" and self._waiting is not None:
            self._waiting.append(raw)  # the rest of a chunk read before reading paused
        elif self._state == "live":
            self._handle_raw(raw)
        elif self._state == "auth":
            self._state = "opening"
            self._link.pause_reading()  # later frames wait in the kernel until `ready`
            self._opener = asyncio.get_running_loop().create_task(self._open(raw))
        elif self._state == "opening":
            early = self._early = self._early or []
            if len(early) >= EARLY_FRAMES_MAX:
                self.close_soon(CLOSE_BAD_REQUEST)
            else:
                early.append(raw)

    def on_writable(self) -> None:
        out, link = self._out, self._link
        while out and not link.paused:
            link.send(out.popleft())

    def on_closed(self) -> None:
        self._state = "closed"
        self._out = None
        if self._timer is not None:
            self._timer.cancel()
        # A running `_open` sees the state and stops at its next step.
        if self._attached:
            self._gw.hub.detach(self)
            self._attached = False
        self._gw.connections.discard(self)

    # -- the sink side --------------------------------------------------------------------

    def push(self, event: Event) -> None:
        if self._held is None:
            self._deliver(event)
        elif signs_out(event.type, event.body, self.device_id):
            self.close_soon(CLOSE_UNAUTHORIZED)  # signed out while replaying: stop at once
        else:
            self._held.append(event)

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
            self._enqueue(event_frame(event, self.user_id))
        if event.type == "account.restricted":
            self.close_soon(CLOSE_RESTRICTED)
        elif signs_out(event.type, event.body, self.device_id):
            self.close_soon(CLOSE_UNAUTHORIZED)

    def _enqueue(self, frame: bytes) -> None:
        if self._state == "closed":
            return
        out = self._out
        if not out and not self._link.paused:
            self._link.send(frame)
            return
        if out is None:
            out = self._out = deque()
        if len(out) >= self._gw.queue_limit:
            # The client stopped reading. Cut it off; it resumes from its cursor later.
            self._gw.overflows += 1
            self.close_soon(CLOSE_OVERFLOW, abort=True)
            return
        out.append(frame)

    def close_soon(self, code: int, *, abort: bool = False) -> None:
        if self._state == "closed":
            return
        self._out = None
        if abort:
            self._link.abort()
        else:
            self._link.close(code)
        self.on_closed()

    def _spawn(self, coro: Any) -> None:
        if self._tasks is None:
            self._tasks = set()
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._track(task)

    def _track(self, work: asyncio.Future[Any]) -> None:
        """Count a frame in progress; at the limit, stop reading until some are done, so one
        client cannot pile up tasks or queued sends."""
        self._in_flight += 1
        work.add_done_callback(self._settled)
        if self._in_flight >= self._gw.frames_in_flight and self._waiting is None:
            self._waiting = deque()
            self._link.pause_reading()

    def _settled(self, _work: asyncio.Future[Any]) -> None:
        self._in_flight -= 1
        waiting, limit = self._waiting, self._gw.frames_in_flight
        if waiting is None or self._state != "live":
            return
        while waiting and self._in_flight < limit:
            self._handle_raw(waiting.popleft())
        if not waiting and self._in_flight < limit:
            self._waiting = None
            self._link.resume_reading()

    # -- signing in and catching up -------------------------------------------------------

    async def _open(self, first: bytes) -> None:
        try:
            await self._sign_in_and_catch_up(first)
        except Exception:
            log.exception("opening a socket failed")
            self.close_soon(1011)

    async def _sign_in_and_catch_up(self, first: bytes) -> None:
        gw, link = self._gw, self._link
        try:
            frame = orjson.loads(first)
            if not isinstance(frame, dict) or frame.get("type") != "auth":
                raise ApiError("the first frame must be {\"type\": \"auth\", \"token\": ...}",
                               code="auth_required")
            principal = await gw.auth.authenticate(frame.get("token"))
            after = gw.sync.check_cursor(frame.get("cursor"))
        except orjson.JSONDecodeError:
            self.close_soon(CLOSE_BAD_REQUEST)
            return
        except ApiError as err:
            link.send(_error_frame(err))
            self.close_soon(CLOSE_UNAUTHORIZED if err.status == 401 else CLOSE_BAD_REQUEST)
            return
        if self._state == "closed":
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.user_id, self.device_id = principal.user_id, principal.device_id
        await gw.hub.attach(self)
        self._attached = True
        if self._state == "closed":
            self.on_closed()  # closed while attaching: undo it
            return
        try:
            await gw.auth.check_signed_in(principal)
        except ApiError as err:
            self._enqueue(_error_frame(err))
            self.close_soon(CLOSE_UNAUTHORIZED)
            return
        if self._state == "closed":
            return
        gw.connections.add(self)
        await self._catch_up(after)
        if self._state == "closed":
            return
        held, self._held = self._held or [], None
        for event in held:
            self._deliver(event)
        self._enqueue(orjson.dumps({"type": "ready", "cursor": encode_cursor(self.last_pos)}))
        self._state = "live"
        self._opener = None
        early, self._early = self._early or [], None
        for raw in early:
            self._handle_raw(raw)
        if self._waiting is None:  # else it resumes once frames in flight are done
            link.resume_reading()

    async def _catch_up(self, after: int | None) -> None:
        """Replay from storage (or reset), waiting for the client to read as we go."""
        sync = self._gw.sync
        if await sync.needs_reset(self.user_id, after):
            state = await sync.reset_state(self.user_id)
            self.last_pos = int(state["cursor"])
            await self._write(orjson.dumps({"type": "reset", "cursor": state["cursor"],
                                            "chats": state["chats"]}))
            return
        assert after is not None  # noqa: S101 - needs_reset is true for None
        self.last_pos = after
        # Dispatched before this socket attached: the replay must reach it (see `Hub`).
        reach = self._gw.hub.dispatched
        while self._state != "closed":
            page = await sync.page(self.user_id, self.last_pos)
            for event in page.events:
                await self._write(orjson.dumps(event))
            self.last_pos = page.last_pos
            if page.more:
                continue
            if page.bound is None or page.bound >= reach:
                return
            await asyncio.sleep(SETTLE_S)  # committed: the head's proof follows shortly

    async def _write(self, frame: bytes) -> None:
        self._link.send(frame)
        await self._link.drained()

    # -- frames from the client -----------------------------------------------------------

    def _handle_raw(self, raw: bytes) -> None:
        frame: Any = None
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
            self._spawn(self._typing(frame))
        elif kind == "read":
            self._spawn(self._mark(frame, self._gw.messages.do_mark_read))
        elif kind == "delivered":
            self._spawn(self._mark(frame, self._gw.messages.do_mark_delivered))
        else:
            raise ApiError(f"unknown frame type {kind!r}", code="unknown_type")

    def _send(self, frame: dict[str, Any]) -> None:
        request_id = _request_id(frame)
        req = check_send(self.user_id, frame.get("chat_id"), frame.get("client_id"),
                         frame.get("text"), frame.get("reply_to"), frame.get("forward_of"),
                         origin=f"{self.key}:{orjson.dumps(request_id).decode()}",
                         media_id=frame.get("media_id"), kind=frame.get("kind"),
                         media_ids=frame.get("media_ids"), markup=frame.get("markup"),
                         poll=frame.get("poll"))
        future = self._gw.messages.submit_send(req)
        future.add_done_callback(lambda f: self._on_stored(f, request_id))
        self._track(future)

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

    async def _typing(self, frame: dict[str, Any]) -> None:
        chat_id = frame.get("chat_id")
        try:
            # The cheap in-memory check first (junk frames cost no read); the service then
            # reads the membership and, in a direct chat, whether either side blocked.
            if not isinstance(chat_id, int) or not self._gw.hub.is_member(self.user_id, chat_id):
                raise ApiError("no such chat", code="chat_not_found")
            await self._gw.messages.do_typing(self.user_id, chat_id)
        except ApiError as err:
            self._enqueue(_error_frame(err, _request_id(frame)))

    async def _mark(self, frame: dict[str, Any],
                    do_mark: Callable[[int, int, Any], Awaitable[Any]]) -> None:
        """A `read` or `delivered` frame; only failures are answered."""
        try:
            chat_id = frame.get("chat_id")
            if not isinstance(chat_id, int) or isinstance(chat_id, bool):
                raise ApiError("chat_id must be a chat id", code="invalid_chat_id")
            await do_mark(self.user_id, chat_id, frame.get("seq"))
        except ApiError as err:
            self._enqueue(_error_frame(err, _request_id(frame)))


class _TracedConnection(SocketConnection):
    """A connection whose every frame has a request id for the logs (JSON logs): what the
    frame starts, tasks too, logs with it. A class of its own so that without JSON logs a
    frame pays nothing for it."""

    __slots__ = ()

    def on_message(self, raw: bytes) -> None:
        token = REQUEST_ID.set(self._gw.frame_id(self.key))
        try:
            super().on_message(raw)
        finally:
            REQUEST_ID.reset(token)


def _request_id(frame: Any) -> Any:
    if isinstance(frame, dict):
        value = frame.get("id")
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            return value
    return None
