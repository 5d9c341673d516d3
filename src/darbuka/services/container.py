"""The services one server process runs, built once by the composition root (`darbuka.app`)."""

from __future__ import annotations

from dataclasses import dataclass

from darbuka.bus.base import Bus
from darbuka.gateway.hub import Hub
from darbuka.services.auth import AuthService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.messages import MessageService
from darbuka.services.sync import SyncService
from darbuka.services.users import UserService
from darbuka.services.writer import Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores

__all__ = ["Services"]


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    stores: Stores
    writer: Writer
    bus: Bus
    hub: Hub
    auth: AuthService
    users: UserService
    chats: ChatService
    messages: MessageService
    sync: SyncService
    bots: BotService
