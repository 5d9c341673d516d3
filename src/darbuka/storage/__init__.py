"""Storage: tables, migrations and the stores, held together by one `Stores` object."""

from __future__ import annotations

from dataclasses import dataclass, field

from darbuka.storage.admin_log import AdminLogStore
from darbuka.storage.alerts import AlertStore
from darbuka.storage.banks import BankStore
from darbuka.storage.bans import BanStore
from darbuka.storage.bots import BotStore
from darbuka.storage.chats import ChatStore
from darbuka.storage.codes import LoginCodeStore
from darbuka.storage.contacts import ContactStore
from darbuka.storage.db import Conn, Database
from darbuka.storage.devices import DeviceStore
from darbuka.storage.events import EventStore
from darbuka.storage.handles import HandleStore
from darbuka.storage.held import HeldStore
from darbuka.storage.imports import ExportStore, ImportStore
from darbuka.storage.installation import InstallationStore
from darbuka.storage.invites import InviteStore
from darbuka.storage.jobs import JobStore
from darbuka.storage.join_requests import JoinRequestStore
from darbuka.storage.media import MediaStore
from darbuka.storage.messages import MessageStore
from darbuka.storage.polls import PollStore
from darbuka.storage.post_views import ViewStore
from darbuka.storage.preferences import PreferenceStore
from darbuka.storage.privacy import PrivacyStore
from darbuka.storage.public import PublicStore
from darbuka.storage.push import PushStore
from darbuka.storage.reactions import ReactionStore
from darbuka.storage.rights import RightsStore
from darbuka.storage.safety import SafetyStore
from darbuka.storage.scheduled import ScheduledStore
from darbuka.storage.search import SearchStore
from darbuka.storage.stickers import StickerStore
from darbuka.storage.users import DuplicateKey, UserStore

__all__ = ["Conn", "Database", "DuplicateKey", "Stores"]


@dataclass(frozen=True, slots=True)
class Stores:
    users: UserStore = field(default_factory=UserStore)
    devices: DeviceStore = field(default_factory=DeviceStore)
    codes: LoginCodeStore = field(default_factory=LoginCodeStore)
    chats: ChatStore = field(default_factory=ChatStore)
    messages: MessageStore = field(default_factory=MessageStore)
    events: EventStore = field(default_factory=EventStore)
    safety: SafetyStore = field(default_factory=SafetyStore)
    contacts: ContactStore = field(default_factory=ContactStore)
    privacy: PrivacyStore = field(default_factory=PrivacyStore)
    preferences: PreferenceStore = field(default_factory=PreferenceStore)
    handles: HandleStore = field(default_factory=HandleStore)
    public: PublicStore = field(default_factory=PublicStore)
    invites: InviteStore = field(default_factory=InviteStore)
    rights: RightsStore = field(default_factory=RightsStore)
    reactions: ReactionStore = field(default_factory=ReactionStore)
    polls: PollStore = field(default_factory=PollStore)
    views: ViewStore = field(default_factory=ViewStore)
    banks: BankStore = field(default_factory=BankStore)
    media: MediaStore = field(default_factory=MediaStore)
    stickers: StickerStore = field(default_factory=StickerStore)
    bots: BotStore = field(default_factory=BotStore)
    installation: InstallationStore = field(default_factory=InstallationStore)
    jobs: JobStore = field(default_factory=JobStore)
    alerts: AlertStore = field(default_factory=AlertStore)
    bans: BanStore = field(default_factory=BanStore)
    join_requests: JoinRequestStore = field(default_factory=JoinRequestStore)
    admin_log: AdminLogStore = field(default_factory=AdminLogStore)
    held: HeldStore = field(default_factory=HeldStore)
    scheduled: ScheduledStore = field(default_factory=ScheduledStore)
    push: PushStore = field(default_factory=PushStore)
    search: SearchStore = field(default_factory=SearchStore)
    imports: ImportStore = field(default_factory=ImportStore)
    exports: ExportStore = field(default_factory=ExportStore)
