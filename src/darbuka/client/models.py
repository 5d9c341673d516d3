"""Typed views of what the server sends. Unknown fields are kept in `raw`, never an error:
a newer server may add fields, and an older SDK must keep working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from darbuka.client.polls import Poll, PollResults
from darbuka.markup import to_code_points

__all__ = ["BlockedUser", "Chat", "ContactImport", "ContactMatch", "Draft", "DraftChange", "Event",
           "Invite", "Mention", "Message", "Mute", "MuteChange", "OutboxItem", "Presence",
           "Privacy", "PublicChat", "PublicPreview", "Reaction", "ReactionCount",
           "ReactionTally", "Reactions", "ScheduledMessage", "SearchHit", "SearchResults",
           "User", "ViewReport"]

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
    # Ranges over `text` as the server sends them: offsets in UTF-16 code units.
    markup: tuple[Json, ...] = ()
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Message:
        return cls(id=int(data["id"]), chat_id=int(data["chat_id"]), seq=int(data["seq"]),
                   sender_id=data.get("sender_id"), text=data.get("text", ""),
                   created_at=int(data.get("created_at", 0)), client_id=data.get("client_id"),
                   edited_at=data.get("edited_at"), deleted=bool(data.get("deleted")),
                   reply_to=data.get("reply_to"), markup=tuple(data.get("markup") or ()),
                   raw=data)

    @property
    def poll(self) -> Poll | None:
        """A poll message's poll (its question is `text`)."""
        body = self.raw.get("poll")
        return Poll.from_json(body) if isinstance(body, dict) else None

    def markup_spans(self) -> list[Json]:
        """`markup` with `from` and `length` in code points: Python indexes into `text`
        (`text[m["from"]:m["from"] + m["length"]]`)."""
        return to_code_points(self.text, self.markup)


@dataclass(frozen=True, slots=True)
class Mute:
    """Your mute of a chat: until `until` (ms since the epoch; None: until turned off),
    with your @mentions let through when `mentions`."""

    until: int | None = None
    mentions: bool = False

    def holds_at(self, at_ms: int) -> bool:
        """A timed mute ends by itself: the server sends nothing when it does."""
        return self.until is None or at_ms < self.until

    @classmethod
    def from_json(cls, data: Json | None) -> Mute | None:
        if not data:
            return None
        until = data.get("until")
        return cls(until=None if until is None else int(until),
                   mentions=bool(data.get("mentions")))


@dataclass(frozen=True, slots=True)
class Draft:
    """What you were writing in a chat, on any of your devices (the latest `updated_at`,
    the server's time in ms, wins)."""

    text: str
    updated_at: int

    @classmethod
    def from_json(cls, data: Json | None) -> Draft | None:
        if not data:
            return None
        return cls(text=str(data["text"]), updated_at=int(data["updated_at"]))


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
    # Yours alone: as of when the chat list was fetched (see `Mute.holds_at`).
    mute: Mute | None = None
    draft: Draft | None = None
    raw: Json = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Json) -> Chat:
        last = data.get("last_message")
        return cls(id=int(data["id"]), kind=data["kind"], title=data.get("title", ""),
                   member_count=int(data.get("member_count", 0)),
                   last_seq=int(data.get("last_seq", 0)),
                   unread_count=int(data.get("unread_count", 0)), role=data.get("role"),
                   last_message=Message.from_json(last) if last else None,
                   mute=Mute.from_json(data.get("mute")),
                   draft=Draft.from_json(data.get("draft")), raw=data)


@dataclass(frozen=True, slots=True)
class MuteChange:
    """`mute.updated`: the chat's mute as set on one of your devices (None: unmuted)."""

    chat_id: int
    mute: Mute | None


@dataclass(frozen=True, slots=True)
class DraftChange:
    """`draft.updated`: the chat's draft as saved on one of your devices, or None when it
    was cleared (blank, or by your send there)."""

    chat_id: int
    draft: Draft | None


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
    def reaction_tally(self) -> ReactionTally | None:
        """`reaction.counts` (channels): a message's counts, nobody named."""
        return ReactionTally.from_json(self.data) if self.type == "reaction.counts" else None

    @property
    def poll_results(self) -> PollResults | None:
        """`poll.results`: a poll's new counts (or that it closed), nobody named."""
        return PollResults.from_json(self.data) if self.type == "poll.results" else None

    @property
    def mute_change(self) -> MuteChange | None:
        if self.type != "mute.updated":
            return None
        return MuteChange(int(self.data["chat_id"]), Mute.from_json(self.data.get("mute")))

    @property
    def draft_change(self) -> DraftChange | None:
        if self.type != "draft.updated":
            return None
        return DraftChange(int(self.data["chat_id"]), Draft.from_json(self.data.get("draft")))

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
    """`user_id` added (or took back) `emoji` on `message_id`. In a channel only the
    reacting user's devices and the channel's owner and admins hear it; subscribers get a
    `ReactionTally`."""

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
class ReactionTally:
    """A channel post's reactions as every subscriber sees them: counts, most first, with
    nobody named and no `mine` (the channel's owner and admins also get who reacted, as
    `Reaction`s)."""

    chat_id: int
    message_id: int
    reactions: list[ReactionCount]

    @classmethod
    def from_json(cls, data: Json) -> ReactionTally:
        return cls(chat_id=int(data["chat_id"]), message_id=int(data["message_id"]),
                   reactions=[ReactionCount.from_json(r) for r in data.get("reactions", [])])


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
    markup: str | None = None     # JSON of the ranges over `text` (UTF-16 offsets)

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
class ScheduledMessage:
    """A message the server holds until `send_at` (ms): `scheduled`, then `sent` (with its
    `message_id`), `cancelled`, or `failed` (refused at its time; `error` says why)."""

    id: int
    chat_id: int
    sender_id: int
    client_id: str
    text: str
    send_at: int
    state: str
    message_id: int | None = None
    error: Json | None = None

    @classmethod
    def from_json(cls, data: Json) -> ScheduledMessage:
        message_id = data.get("message_id")
        return cls(id=int(data["id"]), chat_id=int(data["chat_id"]),
                   sender_id=int(data["sender_id"]), client_id=str(data["client_id"]),
                   text=str(data["text"]), send_at=int(data["send_at"]),
                   state=str(data["state"]),
                   message_id=int(message_id) if message_id is not None else None,
                   error=data.get("error"))


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


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A message found, and where it matched: [start, end) ranges of its text, in UTF-16
    code units as the server counts them (`spans` gives them as Python string slices)."""

    message: Message
    ranges: list[tuple[int, int]]

    @classmethod
    def from_json(cls, data: Json) -> SearchHit:
        return cls(message=Message.from_json(data["message"]),
                   ranges=[(int(a), int(b)) for a, b in data.get("ranges", [])])

    def spans(self) -> list[tuple[int, int]]:
        """The ranges as code-point offsets of `message.text` (Python's unit)."""
        text, out = self.message.text, []
        index_of: dict[int, int] = {}
        units = 0
        for index, char in enumerate(text):
            index_of[units] = index
            units += 2 if ord(char) > 0xFFFF else 1
        index_of[units] = len(text)
        for start, end in self.ranges:
            out.append((index_of.get(start, 0), index_of.get(end, len(text))))
        return out

    def marked(self) -> str:
        """The text on one line with each match in [brackets] (a terminal has no marks)."""
        text, out, last = self.message.text, [], 0
        for start, end in self.spans():
            out += [text[last:start], "[", text[start:end], "]"]
            last = end
        return "".join([*out, text[last:]]).replace("\n", " ")


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A page of search: messages newest first; `next_before` asks for the next page. The
    first page of a search across chats also has the chats and people whose names match."""

    messages: list[SearchHit]
    next_before: int | None = None
    chats: list[Chat] = field(default_factory=list)
    people: list[User] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Json) -> SearchResults:
        return cls(messages=[SearchHit.from_json(h) for h in data.get("messages", [])],
                   next_before=data.get("next_before"),
                   chats=[Chat.from_json(c) for c in data.get("chats", [])],
                   people=[User.from_json(u) for u in data.get("people", [])])
