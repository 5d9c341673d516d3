"""HTTP and WebSocket routes: parse, call one service, render."""

from darbuka.api.routes import api_router

__all__ = ["api_router"]
