"""The Darbuka Python SDK: an async client with a persistent outbox and live events.

Media: `Client.upload` (resumable tus with a progress callback) and `Client.send_file`
(upload + media message through the outbox, resumed across restarts).
Social: contacts, privacy and blocks, presence, public chats, invite links, admin rights,
pins, reactions and views (`darbuka.client.social.SocialApi`, inherited by `Client`).
"""

from darbuka.backoff import Backoff
from darbuka.client.client import Client, EventStream
from darbuka.client.http import ApiError
from darbuka.client.models import (
    Chat,
    ContactMatch,
    Event,
    Mention,
    Message,
    OutboxItem,
    Reaction,
    User,
)
from darbuka.client.social_models import (
    BlockedUser,
    ContactImport,
    Invite,
    Presence,
    Privacy,
    PublicChat,
    PublicPreview,
    ReactionCount,
    Reactions,
    ViewReport,
)
from darbuka.client.store import LocalStore
from darbuka.client.uploads import TusUploader, guess_kind

__all__ = ["ApiError", "Backoff", "BlockedUser", "Chat", "Client", "ContactImport",
           "ContactMatch", "Event", "EventStream", "Invite", "LocalStore", "Mention", "Message",
           "OutboxItem", "Presence", "Privacy", "PublicChat", "PublicPreview", "Reaction",
           "ReactionCount", "Reactions", "TusUploader", "User", "ViewReport", "guess_kind"]
