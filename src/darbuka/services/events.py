"""Events: what changed, at which stream position, and how each viewer sees it.

A message's `client_id` is the sender's own idempotency key, so only the sender's devices see
it; everyone else gets the same event without it (it also keeps a 20-character text message
under 200 bytes on the wire).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["EVENT_TYPES", "SOCKET_FRAMES", "Event", "encode_cursor", "parse_cursor",
           "render_stored"]

# Every stored event type, with what it carries. docs/api.md lists each (a test checks).
EVENT_TYPES: dict[str, str] = {
    "message.new": "a message was sent (also system messages): `message`",
    "message.edited": "a message's text changed: the whole `message`",
    "message.deleted": "a message was deleted for everyone: `message` with `deleted: true` "
                       "(and `removed: true` when moderators removed it)",
    "chat.created": "a chat you are in was created: `chat`",
    "chat.updated": "title or description changed: `chat`",
    "chat.read": "someone read up to `seq` in `chat_id` (`user_id`); read implies delivered",
    "chat.delivered": "`user_id`'s devices received `chat_id` up to `seq` (not in channels, "
                      "nor across a block in a direct chat)",
    "member.joined": "`user_id` joined `chat_id` with `role` (`by` who); carries `chat`",
    "member.left": "`user_id` left or was removed from `chat_id` (`by` who)",
    "member.updated": "`user_id`'s `role` in `chat_id` changed (and for admins `rights`)",
    "user.updated": "your own profile changed (on another device), or the profile photo "
                    "of someone in one of your direct chats or groups (then with "
                    "`chat_id`): `user`",
    "message.restored": "a removed message was reinstated (after an appeal or a withdrawn "
                        "order): the whole `message`; apply it like `message.edited`",
    "account.restricted": "your account was suspended (`until`) or banned: `status`, "
                          "`statement_id`; the socket then closes with 4403",
    "moderation.statement": "a statement of reasons for a decision about your content or "
                            "account: `statement` (DSA Transparency Database fields)",
    "report.resolved": "a report you made was decided: `report` with its `outcome`",
    "appeal.decided": "your appeal was decided: `appeal` (`upheld` or `reversed`)",
    "moderation.alert": "staff only: a removal order's one-hour clock is running low: `alert`",
    # social
    "contact.joined": "someone whose number you uploaded joined: `user`, `phone`",
    "privacy.updated": "your privacy settings changed: the changed keys in `privacy`",
    "user.blocked": "you blocked `user_id` (only your devices hear it)",
    "user.unblocked": "you unblocked `user_id`",
    "mention": "you were @mentioned: `chat_id`, `message_id`, `seq`, `by`",
    "reaction.added": "`user_id` reacted with `emoji` to `message_id` in `chat_id`",
    "reaction.removed": "`user_id` took back `emoji` on `message_id` in `chat_id`",
    "bot.callback": "(bots) a user pressed a callback button: `callback_id`, `payload`, "
                    "`user_id`, `chat_id`, `message`",
    "bot.answer": "a bot answered your button press: `callback_id`, `chat_id`, "
                  "`message_id`, `notification`",
}

# Socket frames that are not stored events.
SOCKET_FRAMES: dict[str, str] = {
    "ready": "replay finished; live events follow (`cursor`)",
    "reset": "too far behind: fresh `chats` and a new `cursor`",
    "ack": "your `send` (`id`) is stored: `message`, `cursor` (or `repeat: true`)",
    "error": "a frame failed: `error` {code, message}, `id` of the frame",
    "typing": "`user_id` is typing in `chat_id` (never stored)",
    "pong": "answer to `ping`",
}


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
    # Users let into / out of the chat by this event: the gateway updates its routing.
    joined: tuple[int, ...] = ()
    left: tuple[int, ...] = ()
    # "<sink key>:<request id>" when a socket sent this; that socket gets an ack instead.
    origin: str | None = None
    _frames: dict[str, bytes] = field(default_factory=dict)

    def stored_payload(self) -> bytes:
        return orjson.dumps({"type": self.type, **self.body})

    def frame_for(self, viewer_id: int) -> bytes:
        """The wire form this viewer gets, encoded once per kind of viewer."""
        variant = "own" if self._is_sender(viewer_id) else "all"
        frame = self._frames.get(variant)
        if frame is None:
            body = self.body if variant == "own" else _without_client_id(self.body)
            frame = orjson.dumps({"type": self.type, "cursor": encode_cursor(self.pos), **body})
            self._frames[variant] = frame
        return frame

    def ack_frame(self, request_id: Any) -> bytes:
        return orjson.dumps({"type": "ack", "id": request_id, "cursor": encode_cursor(self.pos),
                             "message": self.body.get("message")})

    def _is_sender(self, viewer_id: int) -> bool:
        message = self.body.get("message")
        return isinstance(message, dict) and message.get("sender_id") == viewer_id


def _without_client_id(body: dict[str, Any]) -> dict[str, Any]:
    message = body.get("message")
    if not isinstance(message, dict) or "client_id" not in message:
        return body
    return {**body, "message": {k: v for k, v in message.items() if k != "client_id"}}


def render_stored(pos: int, payload: bytes, viewer_id: int) -> dict[str, Any]:
    """A stored event as `viewer_id` sees it, with its cursor."""
    data: dict[str, Any] = orjson.loads(payload)
    message = data.get("message")
    if isinstance(message, dict) and message.get("sender_id") != viewer_id:
        message.pop("client_id", None)
    return {"type": data.pop("type"), "cursor": encode_cursor(pos), **data}
