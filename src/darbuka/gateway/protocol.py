"""The WebSocket transport for `/api/v1/ws`: framing on the event loop, no task per socket.

uvicorn hands every WebSocket upgrade to this protocol class. An ASGI WebSocket costs a task
with a deep coroutine stack, a receive queue and its scope for as long as the socket lives
(about 35 KB); a messenger keeps most sockets idle for hours, so here a connection is this
object, the sans-I/O framer of the `websockets` package and a `SocketConnection`: frames
are handled by callbacks, and a task runs only while a socket signs in and catches up.

No compression: our frames are small JSON (a 20-character message is ~160 bytes), and a
deflate context would cost far more memory per socket than it saves on the wire.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

if TYPE_CHECKING:
    from darbuka.gateway.socket import Gateway, SocketConnection

__all__ = ["GATEWAY_STATE_KEY", "WS_PATH", "GatewayProtocol"]

WS_PATH = "/api/v1/ws"
# The app's lifespan puts the gateway into the lifespan state under this key.
GATEWAY_STATE_KEY = "darbuka.gateway"
# How long a closing peer gets to answer our close frame before we drop the link.
CLOSE_GRACE_S = 5.0
_DATA = (Opcode.TEXT, Opcode.BINARY, Opcode.CONT)


class GatewayProtocol(asyncio.Protocol):
    """One WebSocket: the link a `SocketConnection` writes to and hears from."""

    __slots__ = ("_app_state", "_close_timer", "_connections", "_drained", "_fragments",
                 "_max_size", "_ws", "conn", "paused", "transport")

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._app_state = app_state
        self._connections: set[Any] = server_state.connections
        self._max_size: int = config.ws_max_size
        self._ws = ServerProtocol(max_size=self._max_size)
        self._fragments: list[bytes] | None = None
        self._drained: asyncio.Future[None] | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.Transport | None = None
        self.conn: SocketConnection | None = None
        self.paused = False

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._connections.add(self)

    def data_received(self, data: bytes) -> None:
        ws = self._ws
        ws.receive_data(data)
        for event in ws.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif isinstance(event, Frame):
                self._frame(event)
        # Pongs, close replies and protocol errors (e.g. 1009, too big) are queued by the
        # framer itself; write them out.
        self._flush()

    def eof_received(self) -> bool | None:
        return None  # let the transport close

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if self._close_timer is not None:
            self._close_timer.cancel()
        self._wake_drained()
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.on_closed()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._wake_drained()
        if self.conn is not None:
            self.conn.on_writable()

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the client to come back later (1012 Service Restart)."""
        if self._ws.state is State.OPEN:
            self.close(1012)
        elif self.transport is not None:
            self.transport.close()

    # -- the link a SocketConnection uses ------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._ws.state is State.OPEN

    def send(self, payload: bytes) -> None:
        """Write one text frame now (the transport buffers; see `paused`)."""
        if self._ws.state is State.OPEN:
            self._ws.send_text(payload)
            self._flush()

    async def drained(self) -> None:
        """Wait until the transport takes writes again (or the link is gone)."""
        if not self.paused or self.transport is None or self.transport.is_closing():
            return
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._drained)

    def pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake; a peer that never answers is cut off."""
        if self._ws.state is not State.OPEN:
            return
        self._ws.send_close(code, reason)
        self._flush()
        self.resume_reading()  # to hear the peer's close reply
        if self._close_timer is None and self.transport is not None:
            loop = asyncio.get_running_loop()
            self._close_timer = loop.call_later(CLOSE_GRACE_S, self.abort)

    def abort(self) -> None:
        """Drop the TCP connection at once, unsent bytes and all."""
        if self.transport is not None:
            self.transport.abort()

    # -- inside ---------------------------------------------------------------------------

    def _handshake(self, request: Request) -> None:
        ws = self._ws
        gateway: Gateway | None = self._app_state.get(GATEWAY_STATE_KEY)
        if request.path.partition("?")[0] != WS_PATH:
            response = ws.reject(404, "Not Found\n")
        elif gateway is None:
            response = ws.reject(503, "Starting up\n")
        else:
            response = ws.accept(request)
        ws.send_response(response)
        if response.status_code == 101 and gateway is not None:
            self.conn = gateway.open(self)

    def _frame(self, frame: Frame) -> None:
        conn = self.conn
        if conn is None:
            return
        conn.heard()
        if frame.opcode not in _DATA:
            return  # the framer answers pings and closes itself
        if frame.opcode is Opcode.CONT:
            if self._fragments is None:
                return  # the framer rejects a stray continuation
            self._fragments.append(bytes(frame.data))
        else:
            self._fragments = [bytes(frame.data)]
        if sum(map(len, self._fragments)) > self._max_size:
            self._fragments = None
            self.close(1009, "message too big")
            return
        if frame.fin:
            data, self._fragments = b"".join(self._fragments), None
            conn.on_message(data)

    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        for data in self._ws.data_to_send():
            if data:
                transport.write(data)
            else:  # the framer is done: end the TCP connection
                transport.close()

    def _wake_drained(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None
