"""The Darbuka Python SDK: an async client with a persistent outbox and live events.

Media: `Client.upload` (resumable tus with a progress callback) and `Client.send_file`
(upload + media message through the outbox, resumed across restarts).
"""

from darbuka.client.backoff import Backoff
from darbuka.client.client import Client, EventStream
from darbuka.client.http import ApiError
from darbuka.client.models import Chat, Event, Message, OutboxItem, User
from darbuka.client.store import LocalStore
from darbuka.client.uploads import TusUploader, guess_kind

__all__ = ["ApiError", "Backoff", "Chat", "Client", "Event", "EventStream", "LocalStore", "Message",
           "OutboxItem", "TusUploader", "User", "guess_kind"]
