"""The Darbuka Python SDK: an async client with a persistent outbox and live events.

Media: `Client.upload` (resumable tus with a progress callback) and `Client.send_file`
(upload + media message through the outbox, resumed across restarts).
People and chats: contacts, privacy and blocks, presence, public chats, invite links, admin
rights, pins, reactions and views, mutes and drafts are calls of `Client` too (from
`darbuka.client.http`).
"""

from darbuka.backoff import Backoff
from darbuka.client.client import Client, EventStream
from darbuka.client.http import ApiError
from darbuka.client.models import (
    BlockedUser,
    Chat,
    ContactImport,
    ContactMatch,
    Draft,
    DraftChange,
    Event,
    Invite,
    Mention,
    Message,
    Mute,
    MuteChange,
    OutboxItem,
    Presence,
    Privacy,
    PublicChat,
    PublicPreview,
    Reaction,
    ReactionCount,
    Reactions,
    ReactionTally,
    User,
    ViewReport,
)
from darbuka.client.polls import Poll, PollResults, poll_lines
from darbuka.client.store import LocalStore
from darbuka.client.uploads import TusUploader, guess_kind

__all__ = ["ApiError", "Backoff", "BlockedUser", "Chat", "Client", "ContactImport", "ContactMatch",
           "Draft", "DraftChange", "Event", "EventStream", "Invite", "LocalStore", "Mention",
           "Message", "Mute", "MuteChange", "OutboxItem", "Poll", "PollResults", "Presence",
           "Privacy", "PublicChat",
           "PublicPreview", "Reaction", "ReactionCount", "ReactionTally", "Reactions",
           "TusUploader", "User", "ViewReport", "guess_kind", "poll_lines"]
