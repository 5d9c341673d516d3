"""The services one server process runs, built once by the composition root (`darbuka.app`)."""

from __future__ import annotations

from dataclasses import dataclass

from darbuka.bus.base import Bus
from darbuka.gateway.hub import Hub
from darbuka.safety.appeals import AppealService
from darbuka.safety.banks import BankService
from darbuka.safety.moderation import ModerationService
from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService
from darbuka.safety.transparency import TransparencyService
from darbuka.services.auth import AuthService
from darbuka.services.avatars import AvatarService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.contacts import ContactService
from darbuka.services.media import MediaService
from darbuka.services.messages import MessageService
from darbuka.services.privacy import PrivacyService
from darbuka.services.public import PublicService
from darbuka.services.reactions import ReactionService
from darbuka.services.stickers import StickerService
from darbuka.services.sync import SyncService
from darbuka.services.uploads import UploadService
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
    moderation: ModerationService
    orders: OrderService
    appeals: AppealService
    preservation: PreservationService
    transparency: TransparencyService
    # social
    contacts: ContactService
    privacy: PrivacyService
    public: PublicService
    reactions: ReactionService
    banks: BankService
    uploads: UploadService
    media: MediaService
    stickers: StickerService
    avatars: AvatarService
    bots: BotService
