"""The composition root's first half: one server process's parts, built once from settings.

Built in the direction the layers point — settings → storage and bus → services → safety →
the adapters' view (`adapters.Services`). Nothing is looked up later: every part gets what
it uses here, and `app.py` (the HTTP app) and the `darbuka admin …` commands start from the
`Runtime` this returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from darbuka.adapters import Services
from darbuka.bus import Bus, FetchEvents, Handlers, MemoryBus, Stored
from darbuka.bus.presence import LocalPresence, Presence, RedisPresence
from darbuka.bus.redis import RedisBus
from darbuka.clock import Clock, SystemClock
from darbuka.files import private_dir
from darbuka.media.blobs import BlobStore
from darbuka.media.objects import FsObjectStore, ObjectStore
from darbuka.media.partials import Partials, adopt_single_files
from darbuka.media.s3 import S3ObjectStore
from darbuka.safety.accounts import AccountService
from darbuka.safety.alerts import AlertService
from darbuka.safety.appeals import AppealService
from darbuka.safety.banks import BankService
from darbuka.safety.blob_sweep import SweepReport, sweep_blobs
from darbuka.safety.held import HeldSends
from darbuka.safety.heldsends import LinkScreen
from darbuka.safety.mediaremoval import MediaBanker, hold_media
from darbuka.safety.moderation import ModerationService
from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService
from darbuka.safety.previews import PreviewService
from darbuka.safety.retro import RetroScanner
from darbuka.safety.transparency import TransparencyService
from darbuka.secret import check_fingerprint, fingerprint, load_secret
from darbuka.services.adminlog import AdminLogService
from darbuka.services.antispam import NewAccountLimits, Spread
from darbuka.services.auth import AuthService
from darbuka.services.avatars import AvatarService
from darbuka.services.bans import BanService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.codes import CodeSender, make_code_sender
from darbuka.services.contacts import ContactService
from darbuka.services.drafts import DraftService
from darbuka.services.exports import ExportService
from darbuka.services.health import HealthService
from darbuka.services.hub import Hub
from darbuka.services.imports import ImportService
from darbuka.services.joinrequests import JoinRequestService
from darbuka.services.media import MediaService
from darbuka.services.members import MemberService
from darbuka.services.messages import MessageService
from darbuka.services.mutes import MuteService
from darbuka.services.polls import PollService
from darbuka.services.principals import PrincipalCache
from darbuka.services.privacy import PhoneHasher, PrivacyService
from darbuka.services.public import PublicService
from darbuka.services.push import PushService
from darbuka.services.ratelimit import RateLimiter, WriteLimits
from darbuka.services.reactions import ReactionService
from darbuka.services.scheduled import ScheduledService
from darbuka.services.search import SearchService
from darbuka.services.stickers import StickerService
from darbuka.services.sync import SyncService
from darbuka.services.uploads import UploadService
from darbuka.services.users import UserService
from darbuka.services.webpush import PushSender, load_push_key
from darbuka.services.writer import Writer
from darbuka.settings import Settings
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.migrate import migrate
from darbuka.stream import Ephemeral, Event

__all__ = ["Runtime", "build_runtime", "check_database", "object_store", "open_storage",
           "sweep_stored_files"]


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
    # Who is online in the cluster; the hub tells it of this process's users.
    presence: Presence
    # Where blobs and unfinished uploads are kept (a folder, or an S3 bucket).
    objects: ObjectStore
    # What keys the hashes of codes and numbers; checked against the database at start.
    secret: bytes
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
    presence: Presence
    principals: PrincipalCache


def _base(settings: Settings, clock: Clock) -> _Base:
    db = Database(settings.effective_database_url,
                  sqlite_synchronous=settings.sqlite_synchronous)
    stores = Stores()
    bus: Bus = (RedisBus(settings.redis_url, prefix=settings.redis_prefix,
                         fetch=_stored_events(db, stores))
                if settings.redis_url else MemoryBus())
    writer = Writer(db, stores, clock, bus.publish, max_batch=settings.commit_max_batch,
                    window_ms=settings.commit_window_ms)

    async def load_chats(user_id: int) -> tuple[int, set[int], frozenset[int]]:
        # One snapshot: the chat ids are exactly those as of the head and what lies past it.
        async with db.read() as conn:
            head = await stores.events.head(conn)
            shown = await stores.events.committed_past(conn, head)
            return head, await stores.chats.chat_ids_of(conn, user_id), shown

    presence: Presence = (
        RedisPresence(settings.redis_url, prefix=settings.redis_prefix,
                      ttl_s=settings.presence_ttl_s, refresh_s=settings.presence_refresh_s)
        if settings.redis_url else LocalPresence())
    hub = Hub(load_chats, on_presence=presence.mark)
    if isinstance(bus, RedisBus):
        # The bus delivers in position order, each position delivered or proven absent:
        # what it delivered is a complete head too (a read after it must not stop short
        # of an event a sink was already given). Told before the hub hears it.
        bus.subscribe(Handlers(events=stores.events.note_delivered, ephemeral=_ignore))
    # Forgotten first: whatever an event triggers already sees the account as it now is.
    principals = PrincipalCache()
    bus.subscribe(Handlers(events=principals.on_events, ephemeral=_ignore))
    bus.subscribe(Handlers(events=hub.dispatch, ephemeral=hub.dispatch_ephemeral))
    return _Base(settings, clock, db, stores, bus, writer, hub, presence, principals)


def _ignore(_notice: Ephemeral) -> None:
    return None


def _stored_events(db: Database, stores: Stores) -> FetchEvents:
    """How the bus reads positions it missed: the head first, then the span up to it, so
    every position up to that head is either read or will never exist."""
    async def fetch(after: int, upto: int) -> Stored:
        async with db.read() as conn:
            head = await stores.events.head(conn)
            upto = min(upto, head)
            rows = await stores.events.between(conn, after, upto) if upto > after else []
        return Stored(head, [Event.from_stored(r["pos"], r["payload"], r["routing"],
                                               chat_id=r["chat_id"], user_id=r["user_id"])
                             for r in rows])

    return fetch


def build_runtime(settings: Settings, *, clock: Clock | None = None,
                  code_sender: CodeSender | None = None) -> Runtime:
    private_dir(Path(settings.data_dir))  # the database, the secret and the media live here
    base = _base(settings, clock or SystemClock())
    objects = object_store(settings)
    secret = load_secret(settings)
    services = _services(base, objects, secret, code_sender)
    return Runtime(settings=settings, clock=base.clock, db=base.db, stores=base.stores,
                   bus=base.bus, writer=base.writer, hub=base.hub,
                   presence=base.presence, objects=objects,
                   secret=secret, services=services)


def object_store(settings: Settings) -> ObjectStore:
    """The S3 bucket when one is configured, else the folder <data_dir>/media."""
    if settings.s3_bucket:
        return S3ObjectStore(bucket=settings.s3_bucket, endpoint=settings.s3_endpoint,
                             access_key=settings.s3_access_key,
                             secret_key=settings.s3_secret_key, region=settings.s3_region)
    return FsObjectStore(Path(settings.data_dir) / "media")


async def open_storage(runtime: Runtime) -> None:
    """Bring the database to the current schema, make sure the event stream exists, and the
    folder or bucket of the blobs."""
    await runtime.objects.start()
    if isinstance(runtime.objects, FsObjectStore):
        await asyncio.to_thread(adopt_single_files, runtime.objects.root)
    await migrate(runtime.db, then=_first_rows(runtime.stores, runtime.clock, runtime.secret))


async def check_database(settings: Settings) -> None:
    """What `serve` does before it listens: migrate, and refuse a secret the database does
    not know (`SecretMismatch`) with one line of its own rather than a traceback from the
    server's start-up. The lifespan checks again (`open_storage`): servers built in tests
    start there."""
    db = Database(settings.effective_database_url,
                  sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await migrate(db, then=_first_rows(Stores(), SystemClock(), load_secret(settings)))
    finally:
        await db.dispose()


def _first_rows(stores: Stores, clock: Clock, secret: bytes) -> Callable[[Conn],
                                                                          Awaitable[None]]:
    """The rows a start needs, made under the migration lock: the stream's, and the secret's
    fingerprint (the first process records its own; every later one must match it)."""
    async def make(conn: Conn) -> None:
        await stores.events.ensure_stream(conn)
        stored = await stores.installation.secret_fingerprint(
            conn, first=fingerprint(secret), now_ms=clock.now_ms())
        check_fingerprint(stored, secret)

    return make


async def sweep_stored_files(runtime: Runtime, *, grace_s: float | None = None) -> SweepReport:
    """One blob sweep with this runtime's parts (the periodic task and the admin command)."""
    grace = runtime.settings.blob_sweep_grace_s if grace_s is None else grace_s
    return await sweep_blobs(runtime.db, runtime.stores, runtime.objects,
                             now_ms=runtime.clock.now_ms(), grace_ms=int(grace * 1000))


def _services(b: _Base, objects: ObjectStore, secret: bytes,
              code_sender: CodeSender | None) -> Services:
    settings, db, stores, writer, clock = b.settings, b.db, b.stores, b.writer, b.clock
    sender = code_sender or make_code_sender(settings.code_sender, settings.code_webhook_url)
    hasher = PhoneHasher(secret)
    # One limiter for every rate limit of the process; in Redis when processes share one.
    limiter = RateLimiter(clock, redis_url=settings.redis_url, prefix=settings.redis_prefix)
    writes = WriteLimits(limiter, settings)
    contacts = ContactService(db, stores, writer, settings, hasher, writes=writes)
    auth = AuthService(db, stores, writer, clock, limiter, sender, settings,
                       secret, on_sign_up=contacts.on_sign_up, principals=b.principals)
    chats = ChatService(db, stores, writer, clock, hasher, writes=writes,
                        new_accounts=NewAccountLimits(settings))
    members = MemberService(db, stores, writer, hasher, writes=writes)
    media_dir = Path(settings.data_dir) / "media"
    banks = BankService(db, stores, writer, clock, poll_s=settings.safety_bank_poll_s)
    blobs, partials = BlobStore(objects), Partials(objects)
    # Uploads are matched against the banks as they are processed; review matches are held.
    # Local folders hold only what is in hand: PATCH bodies arriving, files being decoded.
    media = MediaService(db, stores, writer, clock, settings, blobs, partials,
                         media_dir / "work", screen=banks.screen_upload, hold=hold_media,
                         writes=writes)
    banker = MediaBanker(db, stores, banks, blobs)
    messages = MessageService(db, stores, writer, b.bus.publish_ephemeral, media,
                              writes=writes, spread=Spread(limiter, settings),
                              hold=HeldSends(writer).hold, links=LinkScreen(banks))
    transparency = TransparencyService(db, stores, reuploads=stores.banks.count_refused)
    alerts = AlertService(db, stores, writer, settings)
    mutes = MuteService(db, stores, writer, writes=writes)
    uploads = UploadService(db, stores, writer, clock, settings, partials,
                            media_dir / "spool", writes=writes)
    push_key = load_push_key(settings)
    # Nothing is pushed for a muted chat (mentions excepted where the member chose so).
    push = PushService(db, stores, writer, clock, push_key, PushSender(push_key, settings),
                       online=b.presence.online, muted=mutes.muted, writes=writes)
    return Services(
        settings=settings, auth=auth, contacts=contacts,
        users=UserService(db, stores, writer, limiter, settings, writes=writes),
        privacy=PrivacyService(db, stores, writer, hasher, b.presence.online, writes=writes),
        chats=chats, members=members,
        mutes=mutes,
        drafts=DraftService(writer, writes=writes),
        public=PublicService(db, stores, writer, members, limiter, settings, clock,
                             writes=writes),
        messages=messages, scheduled=ScheduledService(db, stores, writer, clock, messages,
                                                      writes=writes),
        bans=BanService(db, stores, writer, members.drop, writes=writes),
        join_requests=JoinRequestService(db, stores, writer, members.let_in, writes=writes),
        admin_log=AdminLogService(db, stores),
        reactions=ReactionService(db, stores, writer, writes=writes),
        polls=PollService(db, stores, writer, clock, writes=writes),
        sync=SyncService(db, stores, settings, b.hub, chats.list_for), push=push,
        search=SearchService(db, stores),
        uploads=uploads, media=media,
        imports=ImportService(db, stores, writer, chats, members, media, uploads,
                              workers=settings.media_workers),
        exports=ExportService(db, stores, writer, clock, blobs, media_dir / "exports",
                              writes=writes),
        stickers=StickerService(db, stores, writer, media, writes=writes),
        avatars=AvatarService(db, stores, writer, media, writes=writes),
        bots=BotService(db, stores, writer, writes=writes,
                        allow_private_webhooks=settings.bot_webhook_allow_private),
        moderation=ModerationService(db, stores, writer, clock, on_media_removed=banker.bank,
                                     alerts=alerts,
                                     writes=writes),
        orders=OrderService(db, stores, writer, clock,
                            disable_on_receipt=settings.order_disable_on_receipt,
                            alert_before_ms=settings.order_alert_before_s * 1000,
                            writes=writes, alerts=alerts),
        alerts=alerts,
        appeals=AppealService(db, stores, writer, clock, writes=writes),
        preservation=PreservationService(writer),
        previews=PreviewService(db, stores, writer),
        transparency=transparency, banks=banks,
        scans=RetroScanner(db, stores, writer, banks), accounts=AccountService(writer),
        health=HealthService(db, stores, writer, b.bus, redis_url=settings.redis_url,
                             max_bus_lag_s=settings.ready_max_bus_lag_s),
    )
