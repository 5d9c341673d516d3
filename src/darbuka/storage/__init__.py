"""Storage: tables, migrations and the stores, held together by one `Stores` object."""

from __future__ import annotations

from dataclasses import dataclass, field

from darbuka.storage.chats import ChatStore
from darbuka.storage.db import Database
from darbuka.storage.events import EventStore
from darbuka.storage.media import MediaStore
from darbuka.storage.messages import MessageStore
from darbuka.storage.stickers import StickerStore
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
    media: MediaStore = field(default_factory=MediaStore)
    stickers: StickerStore = field(default_factory=StickerStore)
