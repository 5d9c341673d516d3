"""Storage: tables, migrations and the stores, held together by one `Stores` object."""

from __future__ import annotations

from dataclasses import dataclass, field

from darbuka.storage.bots import BotStore
from darbuka.storage.chats import ChatStore
from darbuka.storage.db import Database
from darbuka.storage.events import EventStore
from darbuka.storage.messages import MessageStore
from darbuka.storage.users import DeviceStore, DuplicateKey, LoginCodeStore, UserStore

__all__ = ["Database", "DuplicateKey", "Stores"]


@dataclass(frozen=True, slots=True)
class Stores:
    users: UserStore = field(default_factory=UserStore)
    devices: DeviceStore = field(default_factory=DeviceStore)
    codes: LoginCodeStore = field(default_factory=LoginCodeStore)
    chats: ChatStore = field(default_factory=ChatStore)
    messages: MessageStore = field(default_factory=MessageStore)
    events: EventStore = field(default_factory=EventStore)
    bots: BotStore = field(default_factory=BotStore)
