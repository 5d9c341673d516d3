"""The composition root: builds one server process from settings. No service locator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from darbuka import __version__
from darbuka.api import api_router
from darbuka.api.json import Json as JsonResponse
from darbuka.api.limits import BodyLimit
from darbuka.api.media import media_router
from darbuka.api.public_page import page_router
from darbuka.api.safety_banks import banks_router
from darbuka.api.safety_routes import safety_router, transparency_page_router
from darbuka.api.social import social_router
from darbuka.api.uploads import TUS_VERSION, uploads_router
from darbuka.api.web import WebClient
from darbuka.botapi import WebhookSender, build_botapi
from darbuka.bus import Bus, Handlers, MemoryBus
from darbuka.bus.redis import RedisBus
from darbuka.clock import Clock, SystemClock
from darbuka.errors import ApiError, RateLimited
from darbuka.gateway.hub import Hub
from darbuka.gateway.protocol import GATEWAY_STATE_KEY
from darbuka.gateway.socket import Gateway
from darbuka.media.blobs import FsBlobStore
from darbuka.safety.appeals import AppealService
from darbuka.safety.banks import BankService
from darbuka.safety.mediaremoval import MediaBanker, hold_media
from darbuka.safety.moderation import ModerationService
from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService
from darbuka.safety.sweeper import SafetySweeper
from darbuka.safety.transparency import TransparencyService
from darbuka.secret import load_secret
from darbuka.services.auth import AuthService
from darbuka.services.avatars import AvatarService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.codes import CodeSender, make_code_sender
from darbuka.services.contacts import ContactService
from darbuka.services.container import Services
from darbuka.services.media import MediaService
from darbuka.services.messages import MessageService
from darbuka.services.privacy import PhoneHasher, PrivacyService
from darbuka.services.public import PublicService
from darbuka.services.ratelimit import RateLimiter
from darbuka.services.reactions import ReactionService
from darbuka.services.stickers import StickerService
from darbuka.services.sync import SyncService
from darbuka.services.uploads import UploadService
from darbuka.services.users import UserService
from darbuka.services.writer import Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate

__all__ = ["build_app", "build_services", "load_secret"]

log = logging.getLogger("darbuka")


def build_services(settings: Settings, *, clock: Clock | None = None,
                   code_sender: CodeSender | None = None) -> Services:
    clock = clock or SystemClock()
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
    sender = code_sender or make_code_sender(settings.code_sender, settings.code_webhook_url)
    secret = load_secret(settings)
    hasher = PhoneHasher(secret)
    contacts = ContactService(db, stores, writer, settings, hasher)
    auth = AuthService(db, stores, writer, clock, RateLimiter(clock), sender, settings,
                       secret, on_sign_up=contacts.on_sign_up)
    chats = ChatService(db, stores, writer, hasher)
    media_dir = Path(settings.data_dir) / "media"
    banks = BankService(db, stores, writer, clock, poll_s=settings.safety_bank_poll_s)
    blobs = FsBlobStore(media_dir / "blobs")
    # Uploads are matched against the banks as they are processed; review matches are held.
    media = MediaService(db, stores, writer, clock, settings, blobs, media_dir / "partial",
                         screen=banks.screen_upload, hold=hold_media)
    banker = MediaBanker(db, stores, banks, blobs)
    transparency = TransparencyService(db, stores)
    transparency.reupload_counter = stores.banks.count_refused
    uploads = UploadService(db, stores, writer, clock, settings, media_dir / "partial",
                            on_complete=media.enqueue)
    return Services(
        settings=settings, db=db, stores=stores, writer=writer, bus=bus, hub=hub, auth=auth,
        users=UserService(db, stores, writer, RateLimiter(clock), settings), chats=chats,
        messages=MessageService(db, stores, writer, media),
        sync=SyncService(db, stores, settings, chats.list_for),
        moderation=ModerationService(db, stores, writer, clock, on_media_removed=banker.bank),
        orders=OrderService(db, stores, writer, clock,
                            disable_on_receipt=settings.order_disable_on_receipt,
                            alert_before_ms=settings.order_alert_before_s * 1000),
        appeals=AppealService(db, stores, writer, clock),
        preservation=PreservationService(writer),
        transparency=transparency,
        contacts=contacts, privacy=PrivacyService(db, stores, writer, hasher, hub.is_online),
        public=PublicService(db, stores, writer, chats, RateLimiter(clock), settings, clock),
        reactions=ReactionService(db, stores, writer),
        banks=banks,
        uploads=uploads, media=media, stickers=StickerService(db, stores, writer, media),
        avatars=AvatarService(db, stores, writer, media),
        bots=BotService(db, stores, writer),
    )


def build_app(settings: Settings, *, clock: Clock | None = None,
              code_sender: CodeSender | None = None) -> FastAPI:
    services = build_services(settings, clock=clock, code_sender=code_sender)
    gateway = Gateway(hub=services.hub, bus=services.bus, auth=services.auth,
                      messages=services.messages, sync=services.sync,
                      clock=clock or SystemClock(), queue_limit=settings.ws_queue_limit,
                      idle_timeout_s=settings.ws_idle_timeout_s)
    sweeper = SafetySweeper(services.orders, services.preservation,
                            interval_s=settings.safety_sweep_interval_s)

    webhooks = WebhookSender(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await migrate(services.db)
        async with services.db.write() as conn:
            await services.stores.events.ensure_stream(conn)
        await services.bus.start()
        services.writer.start()
        await services.banks.start()
        await services.media.resume()
        upload_sweeper = asyncio.get_running_loop().create_task(_sweep_uploads(services))
        gateway.start()
        sweeper.start()
        if settings.bot_webhooks:
            await webhooks.start()
        log.info("darbuka %s ready; sign-in codes go to: %s", __version__,
                 services.auth.code_sender_name)
        try:
            # The WebSocket transport finds the gateway in the lifespan state.
            yield {GATEWAY_STATE_KEY: gateway}
        finally:
            await sweeper.stop()
            upload_sweeper.cancel()
            await asyncio.gather(upload_sweeper, return_exceptions=True)
            await webhooks.stop()
            await gateway.stop()
            await services.media.stop()
            await services.banks.stop()
            await services.writer.stop()
            await services.bus.stop()
            await services.db.dispose()

    app = FastAPI(title="Darbuka", version=__version__, lifespan=lifespan,
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None,
                  default_response_class=JsonResponse)
    app.state.services = services
    app.state.gateway = gateway
    app.state.webhooks = webhooks
    app.include_router(api_router)
    app.include_router(safety_router)
    app.include_router(transparency_page_router)
    app.include_router(social_router)
    app.include_router(page_router)
    app.include_router(banks_router)
    app.include_router(uploads_router)
    app.include_router(media_router)
    app.mount("/botapi", build_botapi(services))
    app.router.default = WebClient(settings.web_dir)  # what no API route matches
    _install_error_handlers(app)
    # Upload bodies are bounded by their own Upload-Length and per-kind limits instead.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       exempt_prefix="/api/v1/uploads/")
    return app


async def _sweep_uploads(services: Services) -> None:
    """Delete expired unfinished uploads now and then."""
    while True:
        try:
            await services.uploads.do_expire()
        except Exception:  # a failed sweep is retried at the next one
            log.exception("sweeping expired uploads failed")
        await asyncio.sleep(60)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JsonResponse:
        response = JsonResponse(exc.as_dict(), status_code=exc.status)
        if request.url.path.startswith("/api/v1/uploads"):
            response.headers["Tus-Resumable"] = TUS_VERSION
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(max(exc.retry_after, 1))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JsonResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return _error(400, "malformed_json", "the body is not valid JSON")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JsonResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
        return _error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception) -> JsonResponse:
        log.error("unhandled error", exc_info=exc)
        return _error(500, "internal", "something went wrong on the server")
