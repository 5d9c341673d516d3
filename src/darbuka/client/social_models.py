"""Typed answers of the social calls (contacts, privacy, public chats, invites, reactions).

Like `models`, unknown fields are kept in `raw` where a view may grow, never an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from darbuka.client.models import ContactMatch, Message, User

__all__ = ["BlockedUser", "ContactImport", "Invite", "Presence", "Privacy", "PublicChat",
           "PublicPreview", "ReactionCount", "Reactions", "ViewReport"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ContactImport:
    """What an address-book upload found. `malformed`: entries that are no possible number;
    `duplicates`: the same number spelled again; `limited`: new numbers held back by the
    daily or lifetime quota (upload them again later)."""

    users: list[ContactMatch]
    malformed: int = 0
    duplicates: int = 0
    limited: int = 0

    @classmethod
    def from_json(cls, data: Json) -> ContactImport:
        return cls(users=[ContactMatch.from_json(u) for u in data.get("users", [])],
                   malformed=int(data.get("malformed", 0)),
                   duplicates=int(data.get("duplicates", 0)),
                   limited=int(data.get("limited", 0)))


@dataclass(frozen=True, slots=True)
class Privacy:
    """Each is `everyone`, `contacts` (people whose number you uploaded) or `nobody`."""

    find_by_phone: str = "everyone"
    last_seen: str = "everyone"
    group_add: str = "everyone"

    @classmethod
    def from_json(cls, data: Json) -> Privacy:
        return cls(find_by_phone=data.get("find_by_phone", "everyone"),
                   last_seen=data.get("last_seen", "everyone"),
                   group_add=data.get("group_add", "everyone"))


@dataclass(frozen=True, slots=True)
class BlockedUser:
    user: User
    since: int  # milliseconds since the epoch

    @classmethod
    def from_json(cls, data: Json) -> BlockedUser:
        return cls(user=User.from_json(data["user"]), since=int(data.get("since", 0)))


@dataclass(frozen=True, slots=True)
class Presence:
    """`online`, `offline` (with `last_seen_at` in ms when known) or `hidden`."""

    user_id: int
    status: str
    last_seen_at: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> Presence:
        seen = data.get("last_seen_at")
        return cls(user_id=int(data["user_id"]), status=str(data["status"]),
                   last_seen_at=int(seen) if seen is not None else None)


@dataclass(frozen=True, slots=True)
class PublicChat:
    """What anyone may know of a public group or channel (no owner, no member list)."""

    id: int
    kind: str
    title: str = ""
    description: str = ""
    member_count: int = 0
    handle: str | None = None
    verified: bool = False
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> PublicChat:
        return cls(id=int(data["id"]), kind=str(data["kind"]), title=data.get("title") or "",
                   description=data.get("description") or "",
                   member_count=int(data.get("member_count", 0)), handle=data.get("handle"),
                   verified=bool(data.get("verified")), raw=data)


@dataclass(frozen=True, slots=True)
class PublicPreview:
    """A public chat and, for a channel, its last 50 posts (oldest first)."""

    chat: PublicChat
    posts: list[Message]

    @classmethod
    def from_json(cls, data: Json) -> PublicPreview:
        return cls(chat=PublicChat.from_json(data["chat"]),
                   posts=[Message.from_json(p) for p in data.get("posts", [])])


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite link. `token` is known only in the answer that created it; listings
    leave it None. `expires_at` is in ms; `max_uses` None means unlimited."""

    id: int
    chat_id: int
    token: str | None = None
    expires_at: int | None = None
    max_uses: int | None = None
    uses: int = 0
    revoked: bool = False
    created_by: int | None = None
    created_at: int = 0

    @classmethod
    def from_json(cls, data: Json) -> Invite:
        return cls(id=int(data["id"]), chat_id=int(data["chat_id"]), token=data.get("token"),
                   expires_at=data.get("expires_at"), max_uses=data.get("max_uses"),
                   uses=int(data.get("uses", 0)), revoked=bool(data.get("revoked")),
                   created_by=data.get("created_by"), created_at=int(data.get("created_at", 0)))


@dataclass(frozen=True, slots=True)
class ReactionCount:
    emoji: str
    count: int
    mine: bool = False

    @classmethod
    def from_json(cls, data: Json) -> ReactionCount:
        return cls(emoji=str(data["emoji"]), count=int(data["count"]),
                   mine=bool(data.get("mine")))


@dataclass(frozen=True, slots=True)
class Reactions:
    """A message's reactions (most first) and, for a channel post, its view count."""

    message_id: int
    reactions: list[ReactionCount]
    views: int = 0

    @classmethod
    def from_json(cls, data: Json) -> Reactions:
        return cls(message_id=int(data["message_id"]),
                   reactions=[ReactionCount.from_json(r) for r in data.get("reactions", [])],
                   views=int(data.get("views", 0)))


@dataclass(frozen=True, slots=True)
class ViewReport:
    """`counted`: the posts whose count went up (first view by you); `views`: the counts."""

    counted: list[int]
    views: dict[int, int]

    @classmethod
    def from_json(cls, data: Json) -> ViewReport:
        return cls(counted=[int(i) for i in data.get("counted", [])],
                   views={int(k): int(v) for k, v in (data.get("views") or {}).items()})
