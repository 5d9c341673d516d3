"""What the adapters (`api/`, `botapi/`, `gateway/`, the public pages) see: the services they
call and the settings, nothing below them — no database, stores, writer or bus.

Routes parse, call one of these, and render. A rule that an adapter would need a store for
belongs in a service; `tests/test_layers.py` keeps adapters from importing storage, the
writer or the bus.
"""

from __future__ import annotations

from dataclasses import dataclass

from darbuka.safety.accounts import AccountService
from darbuka.safety.alerts import AlertService
from darbuka.safety.appeals import AppealService
from darbuka.safety.banks import BankService
from darbuka.safety.moderation import ModerationService
from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService
from darbuka.safety.previews import PreviewService
from darbuka.safety.retro import RetroScanner
from darbuka.safety.transparency import TransparencyService
from darbuka.services.adminlog import AdminLogService
from darbuka.services.auth import AuthService
from darbuka.services.avatars import AvatarService
from darbuka.services.bans import BanService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.contacts import ContactService
from darbuka.services.drafts import DraftService
from darbuka.services.exports import ExportService
from darbuka.services.health import HealthService
from darbuka.services.imports import ImportService
from darbuka.services.joinrequests import JoinRequestService
from darbuka.services.media import MediaService
from darbuka.services.members import MemberService
from darbuka.services.messages import MessageService
from darbuka.services.mutes import MuteService
from darbuka.services.polls import PollService
from darbuka.services.privacy import PrivacyService
from darbuka.services.public import PublicService
from darbuka.services.push import PushService
from darbuka.services.reactions import ReactionService
from darbuka.services.scheduled import ScheduledService
from darbuka.services.search import SearchService
from darbuka.services.stickers import StickerService
from darbuka.services.sync import SyncService
from darbuka.services.uploads import UploadService
from darbuka.services.users import UserService
from darbuka.settings import Settings

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    # people and their devices
    auth: AuthService
    users: UserService
    contacts: ContactService
    privacy: PrivacyService
    # chats and messages
    chats: ChatService
    members: MemberService
    bans: BanService
    join_requests: JoinRequestService
    admin_log: AdminLogService
    mutes: MuteService
    drafts: DraftService
    public: PublicService
    messages: MessageService
    scheduled: ScheduledService
    reactions: ReactionService
    polls: PollService
    sync: SyncService
    # Web Push subscriptions (the delivery job runs in `background.py`)
    push: PushService
    search: SearchService
    # media
    uploads: UploadService
    media: MediaService
    stickers: StickerService
    avatars: AvatarService
    # imports of other messengers' exports (operators' commands)
    imports: ImportService
    # people's downloads of their own data
    exports: ExportService
    bots: BotService
    # trust and safety
    moderation: ModerationService
    orders: OrderService
    alerts: AlertService
    appeals: AppealService
    preservation: PreservationService
    previews: PreviewService
    transparency: TransparencyService
    banks: BankService
    scans: RetroScanner
    accounts: AccountService
    health: HealthService
