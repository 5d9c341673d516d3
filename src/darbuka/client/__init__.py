"""The Darbuka Python SDK: an async client with a persistent outbox and live events.

Media uploads (tus) come with the media API; `Client` will grow an `upload` method then.
"""

from darbuka.client.backoff import Backoff
from darbuka.client.client import Client, EventStream
from darbuka.client.http import ApiError
from darbuka.client.models import Chat, Event, Message, OutboxItem, User
from darbuka.client.store import LocalStore

__all__ = ["ApiError", "Backoff", "Chat", "Client", "Event", "EventStream", "LocalStore", "Message",
           "OutboxItem", "User"]
