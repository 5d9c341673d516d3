"""uvicorn's WebSocket protocol, plus a way for the gateway to cut a stuck connection.

ASGI has no "abort": a polite close waits until the peer reads, and a peer that stopped
reading never does, so its buffers would stay with us. This protocol puts the transport's
abort into the scope (`scope["extensions"]["darbuka.abort"]["abort"]`).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["AbortableWebSocketProtocol"]


class AbortableWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and self.transport is not None:
            scope.setdefault("extensions", {})["darbuka.abort"] = {"abort": self.transport.abort}
