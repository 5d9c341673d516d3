"""The rows that cross layers, typed: what the stores hand to services and safety.

TypedDicts, so rows stay plain dicts (cheap, and what SQLAlchemy gives) while mypy checks
every key: a mistyped `row["sender"]` fails the lint, not a request. Each mirrors its table
in `tables/`; a row read with extra columns (a join) is a subclass with those columns. For
the tables that take partial updates, `XFields` lists the columns (what an UPDATE may set,
and what `{**row, **changes}` may change) and `XRow` adds the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, TypedDict, TypeVar, cast

__all__ = ["ChatFields", "ChatRow", "DeviceRow", "EventRow", "LoginCodeRow", "MediaFields",
           "MediaRow", "MemberListRow", "MemberRow", "Membership", "MessageFields",
           "MessageRow", "PublicChatRow", "UserChatRow", "UserFields", "UserRow", "typed"]

R = TypeVar("R")


def typed(mapping: Mapping[Any, Any], _row: type[R]) -> R:
    """A row SQLAlchemy returned, as the TypedDict of its table (a copy: rows are ours)."""
    return cast(R, dict(mapping))


class UserFields(TypedDict, total=False):
    """What a change may set (an UPDATE's values); a row has every field."""

    phone: str | None
    username: str | None
    username_key: str | None
    display_name: str
    about: str
    kind: str  # one of kinds.ACCOUNT_KINDS
    created_at: int
    role: str  # one of kinds.STAFF_ROLES
    status: str  # active | suspended | banned
    restricted_until: int | None
    trusted_flagger: bool
    avatar: str | None
    verified: bool


class UserRow(UserFields):
    id: int


class DeviceRow(TypedDict):
    id: int
    user_id: int
    name: str
    token_hash: bytes
    created_at: int
    last_seen_at: int


class LoginCodeRow(TypedDict):
    phone: str
    code_hash: bytes  # empty: no code was sent (a guess at a number that asked for none)
    expires_at: int
    attempts: int  # code checks counted since the window began
    attempts_reset_at: int  # when that count starts over


class ChatFields(TypedDict, total=False):
    """What a change may set (an UPDATE's values); a row has every field."""

    kind: str  # direct | group | channel
    title: str
    description: str
    owner_id: int | None
    is_public: bool
    direct_key: str | None
    last_seq: int
    last_message_id: int | None
    member_count: int
    created_at: int
    closed: bool
    avatar: str | None
    pinned_message_id: int | None
    handle: str | None
    sign_posts: bool
    slow_mode_s: int  # 0: off
    join_approval: bool
    created_by: int | None


class ChatRow(ChatFields):
    id: int


class UserChatRow(ChatRow):
    """A chat in a user's chat list: with their role and read mark."""

    role: str
    last_read_seq: int
    m_id: int | None
    muted_until: int | None
    mute_mentions: bool
    draft: str | None
    draft_at: int | None


class PublicChatRow(ChatRow):
    """A public chat, with whether its owner is a verified account."""

    owner_verified: bool | None


class MemberRow(TypedDict):
    chat_id: int
    user_id: int
    role: str  # owner | admin | member | subscriber | blocked
    joined_at: int
    last_read_seq: int
    last_delivered_seq: int
    promoted_by: int | None  # who made them admin (None: from before it was kept)
    last_post_at: int | None  # for slow mode
    muted_until: int | None  # see services/mutes.py
    mute_mentions: bool
    draft: str | None
    draft_at: int | None


class MemberListRow(TypedDict):
    """A member as the member list shows them (the chat is the one asked about)."""

    user_id: int
    role: str
    joined_at: int
    last_read_seq: int
    last_delivered_seq: int


class Membership(NamedTuple):
    """A member's role, with what the send path needs of their chat."""

    role: str
    kind: str
    closed: bool
    slow_mode_s: int = 0
    last_post_at: int | None = None
    # The member keeps a draft there: their send clears it.
    has_draft: bool = False


class MessageFields(TypedDict, total=False):
    """What a change may set (an UPDATE's values); a row has every field."""

    chat_id: int
    seq: int
    sender_id: int | None
    client_id: str | None
    kind: str  # text | system | photo | voice | video | sticker | file | poll
    text: str
    reply_to: int | None
    forward_of: str | None  # JSON {chat_id, message_id, sender_id}
    system: str | None  # JSON of a system message's action
    created_at: int
    edited_at: int | None
    deleted: bool
    removed: bool
    media: str | None  # JSON: the media descriptor
    keyboard: str | None  # JSON rows of buttons
    markup: str | None  # JSON ranges over the text (darbuka.markup)
    poll: str | None  # JSON of a poll (services/polls.py)


class MessageRow(MessageFields):
    id: int


class MediaFields(TypedDict, total=False):
    """What a change may set (an UPDATE's values); a row has every field."""

    owner_id: int | None
    kind: str
    state: str  # uploading | processing | ready | failed | held | removed
    length: int
    received: int
    filename: str
    mime: str | None
    info: str | None  # JSON
    variants: str | None  # JSON {name: {key, size, mime}}
    error: str | None  # JSON {code, message}
    created_at: int
    expires_at: int | None


class MediaRow(MediaFields):
    id: str


class EventRow(TypedDict):
    pos: int
    chat_id: int | None
    user_id: int | None
    type: str
    payload: bytes
    created_at: int
    routing: bytes | None
