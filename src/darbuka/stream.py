"""The event stream's records: what the writer makes, the bus carries and the hub delivers.

An `Event` is one committed change at a stream position; an `Ephemeral` is a notice that is
never stored (typing). Both are plain data here, below every layer that handles them: how a
given viewer sees an event (a message's `client_id` only to its sender) is decided by the
one door, `services/access.py`, which fills the per-viewer frame cache kept on the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["EPOCH_SPAN", "Ephemeral", "Event", "encode_cursor", "epoch_of", "epoch_start",
           "next_epoch", "parse_cursor"]

# Stream epochs. A database restored from a backup hands out again positions that clients
# already saw (with other events), so their cursors would replay the wrong events and skip
# the lost ones silently. A restore therefore starts a new epoch: positions jump to the next
# multiple of EPOCH_SPAN, and a cursor from another epoch gets `reset`. The epoch is held in
# the stream position itself (stored, and carried by every cursor), so cursors stay plain
# integers for every client and for the Bot API's markers. 10**14 positions last centuries at
# 10,000 events a second and keep 90 epochs below 2**53 (JavaScript numbers).
EPOCH_SPAN = 10**14


def epoch_of(pos: int) -> int:
    return pos // EPOCH_SPAN


def epoch_start(epoch: int) -> int:
    """The position an epoch starts after: its first event is this plus one."""
    return epoch * EPOCH_SPAN


def next_epoch(head: int, *, at_least: int = 0) -> int:
    """The epoch a restore starts: after the head's, and no earlier than `at_least`."""
    return max(epoch_of(head) + 1, at_least)


def encode_cursor(pos: int) -> str:
    # One shard today. A multi-shard cursor will be "p0.p1...", which old parsers reject
    # with a clean 400 instead of misreading it.
    return str(pos)


def parse_cursor(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 19:
        raise ValueError("cursor is not one this server issued")
    return int(raw)


@dataclass(slots=True, eq=False)
class Event:
    pos: int
    type: str
    body: dict[str, Any]
    # Exactly one scope: a chat (every member sees it) or a user (only their devices).
    chat_id: int | None = None
    user_id: int | None = None
    # Users let into / out of the chat by this event: the hub updates its routing. An event
    # scoped to one user names that chat in its body's `chat_id` (a channel's membership
    # events reach only the member concerned and the channel's admins).
    joined: tuple[int, ...] = ()
    left: tuple[int, ...] = ()
    # "<sink key>:<request id>" when a socket sent this; that socket gets an ack instead.
    origin: str | None = None
    _frames: dict[str, bytes] = field(default_factory=dict)

    def stored_payload(self) -> bytes:
        return orjson.dumps({"type": self.type, **self.body})

    def stored_routing(self) -> bytes | None:
        """`joined` and `left` as stored beside the payload (None when both are empty): an
        event read back from storage to fill a gap in live delivery routes like the one
        published."""
        if not self.joined and not self.left:
            return None
        return orjson.dumps({"j": self.joined, "l": self.left})

    @classmethod
    def from_stored(cls, pos: int, payload: bytes, routing: bytes | None, *,
                    chat_id: int | None, user_id: int | None) -> Event:
        """The event as `stored_payload` and `stored_routing` wrote it (without `origin`:
        the socket that sent it is on the process that published it)."""
        body = orjson.loads(payload)
        type_ = body.pop("type")
        moved = orjson.loads(routing) if routing else {}
        return cls(pos=pos, type=type_, body=body, chat_id=chat_id, user_id=user_id,
                   joined=tuple(moved.get("j", ())), left=tuple(moved.get("l", ())))

    def frame(self, variant: str, body: Callable[[], dict[str, Any]]) -> bytes:
        """The wire form for one kind of viewer (`variant`), encoded once per kind."""
        frame = self._frames.get(variant)
        if frame is None:
            frame = orjson.dumps({"type": self.type, "cursor": encode_cursor(self.pos),
                                  **body()})
            self._frames[variant] = frame
        return frame

    def ack_frame(self, request_id: Any) -> bytes:
        """The sender's socket gets this in place of the event (the message is its own)."""
        return orjson.dumps({"type": "ack", "id": request_id, "cursor": encode_cursor(self.pos),
                             "message": self.body.get("message")})


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """A notice that is never stored (typing): delivered to a chat's connected members."""

    chat_id: int
    sender_id: int
    frame: bytes
