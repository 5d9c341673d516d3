"""The composition root's first half: one server process's parts, built once from settings.

Built in the direction the layers point — settings → storage and bus → services → safety →
the adapters' view (`adapters.Services`). Nothing is looked up later: every part gets what
it uses here, and `app.py` (the HTTP app) and the `darbuka admin …` commands start from the
`Runtime` this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from darbuka.adapters import Services
from darbuka.bus import Bus, Handlers, MemoryBus
from darbuka.bus.redis import RedisBus
from darbuka.clock import Clock, SystemClock
from darbuka.files import private_dir
from darbuka.media.blobs import FsBlobStore
from darbuka.safety.accounts import AccountService
from darbuka.safety.appeals import AppealService
from darbuka.safety.banks import BankService
from darbuka.safety.mediaremoval import MediaBanker, hold_media
from darbuka.safety.moderation import ModerationService
from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService
from darbuka.safety.transparency import TransparencyService
from darbuka.secret import load_secret
from darbuka.services.auth import AuthService
from darbuka.services.avatars import AvatarService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.codes import CodeSender, make_code_sender
from darbuka.services.contacts import ContactService
from darbuka.services.health import HealthService
from darbuka.services.hub import Hub
from darbuka.services.media import MediaService
from darbuka.services.members import MemberService
from darbuka.services.messages import MessageService
from darbuka.services.privacy import PhoneHasher, PrivacyService
from darbuka.services.public import PublicService
from darbuka.services.ratelimit import RateLimiter, WriteLimits
from darbuka.services.reactions import ReactionService
from darbuka.services.stickers import StickerService
from darbuka.services.sync import SyncService
from darbuka.services.uploads import UploadService
from darbuka.services.users import UserService
from darbuka.services.writer import Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate

__all__ = ["Runtime", "build_runtime", "open_storage"]


@dataclass(frozen=True, slots=True)
class Runtime:
    """Everything one process runs. Only the composition root (and tests reading state)
    touches the parts below the services: the adapters get `services` alone."""

    settings: Settings
    clock: Clock
    db: Database
    stores: Stores
    bus: Bus
    writer: Writer
    # Live routing of this process: the gateway's sockets attach here.
    hub: Hub
    services: Services


@dataclass(frozen=True, slots=True)
class _Base:
    settings: Settings
    clock: Clock
    db: Database
    stores: Stores
    bus: Bus
    writer: Writer
    hub: Hub


def _base(settings: Settings, clock: Clock) -> _Base:
    db = Database(settings.effective_database_url,
                  sqlite_synchronous=settings.sqlite_synchronous)
    stores = Stores()
    bus: Bus = (RedisBus(settings.redis_url, prefix=settings.redis_prefix)
                if settings.redis_url else MemoryBus())
    writer = Writer(db, stores, clock, bus.publish, max_batch=settings.commit_max_batch,
                    window_ms=settings.commit_window_ms)

    async def load_chats(user_id: int) -> tuple[int, set[int]]:
        async with db.read() as conn:
            head = await stores.events.head(conn)
        async with db.read() as conn:
            return head, await stores.chats.chat_ids_of(conn, user_id)

    hub = Hub(load_chats)
    bus.subscribe(Handlers(events=hub.dispatch, ephemeral=hub.dispatch_ephemeral))
    return _Base(settings, clock, db, stores, bus, writer, hub)


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  code_sender: CodeSender | None = None) -> Runtime:
    private_dir(Path(settings.data_dir))  # the database, the secret and the media live here
    base = _base(settings, clock or SystemClock())
    services = _services(base, code_sender)
    return Runtime(settings=settings, clock=base.clock, db=base.db, stores=base.stores,
                   bus=base.bus, writer=base.writer, hub=base.hub, services=services)


async def open_storage(runtime: Runtime) -> None:
    """Bring the database to the current schema and make sure the event stream exists."""
    await migrate(runtime.db, then=runtime.stores.events.ensure_stream)


def _services(b: _Base, code_sender: CodeSender | None) -> Services:
    settings, db, stores, writer, clock = b.settings, b.db, b.stores, b.writer, b.clock
    sender = code_sender or make_code_sender(settings.code_sender, settings.code_webhook_url)
    secret = load_secret(settings)
    hasher = PhoneHasher(secret)
    # One limiter for every rate limit of the process; in Redis when processes share one.
    limiter = RateLimiter(clock, redis_url=settings.redis_url, prefix=settings.redis_prefix)
    writes = WriteLimits(limiter, settings)
    contacts = ContactService(db, stores, writer, settings, hasher, writes=writes)
    auth = AuthService(db, stores, writer, clock, limiter, sender, settings,
                       secret, on_sign_up=contacts.on_sign_up)
    chats = ChatService(db, stores, writer, hasher, writes=writes)
    members = MemberService(db, stores, writer, hasher, writes=writes)
    media_dir = Path(settings.data_dir) / "media"
    banks = BankService(db, stores, writer, clock, poll_s=settings.safety_bank_poll_s)
    blobs = FsBlobStore(media_dir / "blobs")
    # Uploads are matched against the banks as they are processed; review matches are held.
    media = MediaService(db, stores, writer, clock, settings, blobs, media_dir / "partial",
                         screen=banks.screen_upload, hold=hold_media, writes=writes)
    banker = MediaBanker(db, stores, banks, blobs)
    transparency = TransparencyService(db, stores, reuploads=stores.banks.count_refused)
    return Services(
        settings=settings, auth=auth, contacts=contacts,
        users=UserService(db, stores, writer, limiter, settings, writes=writes),
        privacy=PrivacyService(db, stores, writer, hasher, b.hub.is_online, writes=writes),
        chats=chats, members=members,
        public=PublicService(db, stores, writer, members, limiter, settings, clock,
                             writes=writes),
        messages=MessageService(db, stores, writer, b.bus.publish_ephemeral, media,
                                writes=writes),
        reactions=ReactionService(db, stores, writer, writes=writes),
        sync=SyncService(db, stores, settings, b.hub, chats.list_for),
        uploads=UploadService(db, stores, writer, clock, settings, media_dir / "partial",
                              on_complete=media.enqueue, writes=writes),
        media=media, stickers=StickerService(db, stores, writer, media, writes=writes),
        avatars=AvatarService(db, stores, writer, media, writes=writes),
        bots=BotService(db, stores, writer, writes=writes,
                        allow_private_webhooks=settings.bot_webhook_allow_private),
        moderation=ModerationService(db, stores, writer, clock, on_media_removed=banker.bank,
                                     writes=writes),
        orders=OrderService(db, stores, writer, clock,
                            disable_on_receipt=settings.order_disable_on_receipt,
                            alert_before_ms=settings.order_alert_before_s * 1000,
                            writes=writes),
        appeals=AppealService(db, stores, writer, clock, writes=writes),
        preservation=PreservationService(writer),
        transparency=transparency, banks=banks, accounts=AccountService(writer),
        health=HealthService(db, stores, writer, b.bus, redis_url=settings.redis_url,
                             max_bus_lag_s=settings.ready_max_bus_lag_s),
    )
