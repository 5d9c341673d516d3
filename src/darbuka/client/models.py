"""Typed views of what the server sends. Unknown fields are kept in `raw`, never an error:
a newer server may add fields, and an older SDK must keep working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Chat", "ContactMatch", "Event", "Mention", "Message", "OutboxItem", "Reaction",
           "User"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class User:
    id: int
    display_name: str = ""
    username: str | None = None
    kind: str = "person"
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> User:
        return cls(id=int(data["id"]), display_name=data.get("display_name") or "",
                   username=data.get("username"), kind=data.get("kind", "person"), raw=data)


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    chat_id: int
    seq: int
    sender_id: int | None
    text: str = ""
    created_at: int = 0
    client_id: str | None = None
    edited_at: int | None = None
    deleted: bool = False
    reply_to: int | None = None
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Message:
        return cls(id=int(data["id"]), chat_id=int(data["chat_id"]), seq=int(data["seq"]),
                   sender_id=data.get("sender_id"), text=data.get("text", ""),
                   created_at=int(data.get("created_at", 0)), client_id=data.get("client_id"),
                   edited_at=data.get("edited_at"), deleted=bool(data.get("deleted")),
                   reply_to=data.get("reply_to"), raw=data)


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    kind: str
    title: str = ""
    member_count: int = 0
    last_seq: int = 0
    unread_count: int = 0
    role: str | None = None
    last_message: Message | None = None
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Chat:
        last = data.get("last_message")
        return cls(id=int(data["id"]), kind=data["kind"], title=data.get("title", ""),
                   member_count=int(data.get("member_count", 0)),
                   last_seq=int(data.get("last_seq", 0)),
                   unread_count=int(data.get("unread_count", 0)), role=data.get("role"),
                   last_message=Message.from_json(last) if last else None, raw=data)


@dataclass(frozen=True, slots=True)
class Event:
    """One change from the stream: `type` as in docs/api.md (`message.new`, ...).

    `reset` is not a stored event: the client was too far behind, `chats` is fresh state.
    """

    type: str
    cursor: str | None
    data: Json

    @property
    def message(self) -> Message | None:
        body = self.data.get("message")
        return Message.from_json(body) if isinstance(body, dict) else None

    @property
    def chats(self) -> list[Chat]:
        return [Chat.from_json(c) for c in self.data.get("chats", [])]

    # The social events, typed: each is None on an event of another type.

    @property
    def contact(self) -> ContactMatch | None:
        """`contact.joined`: someone whose number you uploaded signed up."""
        return ContactMatch.from_json(self.data) if self.type == "contact.joined" else None

    @property
    def mention(self) -> Mention | None:
        """`mention`: a message named you by @username."""
        return Mention.from_json(self.data) if self.type == "mention" else None

    @property
    def reaction(self) -> Reaction | None:
        """`reaction.added` / `reaction.removed` (see `Reaction.added`)."""
        if self.type not in ("reaction.added", "reaction.removed"):
            return None
        return Reaction.from_json(self.data, added=self.type == "reaction.added")

    @property
    def blocked_user_id(self) -> int | None:
        """`user.blocked` / `user.unblocked` (on your own devices only): whom."""
        if self.type not in ("user.blocked", "user.unblocked"):
            return None
        return int(self.data["user_id"])

    @property
    def privacy(self) -> dict[str, str] | None:
        """`privacy.updated`: the settings that changed, e.g. `{"last_seen": "nobody"}`."""
        if self.type != "privacy.updated":
            return None
        return {str(k): str(v) for k, v in (self.data.get("privacy") or {}).items()}


@dataclass(frozen=True, slots=True)
class ContactMatch:
    """A user found by a number from your address book (as the server normalised it)."""

    user: User
    phone: str

    @classmethod
    def from_json(cls, data: Json) -> ContactMatch:
        return cls(user=User.from_json(data["user"]), phone=str(data.get("phone", "")))


@dataclass(frozen=True, slots=True)
class Mention:
    chat_id: int
    message_id: int
    seq: int
    by: int | None

    @classmethod
    def from_json(cls, data: Json) -> Mention:
        by = data.get("by")
        return cls(chat_id=int(data["chat_id"]), message_id=int(data["message_id"]),
                   seq=int(data.get("seq", 0)), by=int(by) if by is not None else None)


@dataclass(frozen=True, slots=True)
class Reaction:
    """`user_id` added (or took back) `emoji` on `message_id`."""

    chat_id: int
    message_id: int
    user_id: int
    emoji: str
    added: bool = True

    @classmethod
    def from_json(cls, data: Json, *, added: bool = True) -> Reaction:
        return cls(chat_id=int(data["chat_id"]), message_id=int(data["message_id"]),
                   user_id=int(data["user_id"]), emoji=str(data["emoji"]), added=added)


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A send that is queued on this device and not yet acknowledged by the server."""

    client_id: str
    chat_id: int
    text: str
    queued_at: float
    attempts: int = 0
    error: str | None = None
    kind: str | None = None       # photo, voice, video, sticker, file; None for text
    media_id: str | None = None   # known once the upload has been created
    file: str | None = None       # the local file being uploaded, for a media send
