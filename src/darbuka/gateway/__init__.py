"""The WebSocket gateway: one connection per device, resumed from a cursor, live events
from the hub (`services/hub.py`)."""
