"""The composition root: builds one server process from settings. No service locator."""

from __future__ import annotations

import logging
import secrets
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
from darbuka.api.web import WebClient
from darbuka.botapi import WebhookSender, build_botapi
from darbuka.bus import Bus, Handlers, MemoryBus
from darbuka.bus.redis import RedisBus
from darbuka.clock import Clock, SystemClock
from darbuka.errors import ApiError, RateLimited
from darbuka.gateway.hub import Hub
from darbuka.gateway.protocol import GATEWAY_STATE_KEY
from darbuka.gateway.socket import Gateway
from darbuka.services.auth import AuthService
from darbuka.services.bots import BotService
from darbuka.services.chats import ChatService
from darbuka.services.codes import CodeSender, make_code_sender
from darbuka.services.container import Services
from darbuka.services.messages import MessageService
from darbuka.services.ratelimit import RateLimiter
from darbuka.services.sync import SyncService
from darbuka.services.users import UserService
from darbuka.services.writer import Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.migrate import migrate

__all__ = ["build_app", "build_services", "load_secret"]

log = logging.getLogger("darbuka")


def load_secret(settings: Settings) -> bytes:
    """The server secret (HMAC of codes): from the environment, else a file made once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


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
    auth = AuthService(db, stores, writer, clock, RateLimiter(clock), sender, settings,
                       load_secret(settings))
    chats = ChatService(db, stores, writer)
    return Services(
        settings=settings, db=db, stores=stores, writer=writer, bus=bus, hub=hub, auth=auth,
        users=UserService(db, stores, writer), chats=chats,
        messages=MessageService(db, stores, writer),
        sync=SyncService(db, stores, settings, chats.list_for),
        bots=BotService(db, stores, writer),
    )


def build_app(settings: Settings, *, clock: Clock | None = None,
              code_sender: CodeSender | None = None) -> FastAPI:
    services = build_services(settings, clock=clock, code_sender=code_sender)
    gateway = Gateway(hub=services.hub, bus=services.bus, auth=services.auth,
                      messages=services.messages, sync=services.sync,
                      clock=clock or SystemClock(), queue_limit=settings.ws_queue_limit,
                      idle_timeout_s=settings.ws_idle_timeout_s)

    webhooks = WebhookSender(services)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await migrate(services.db)
        async with services.db.write() as conn:
            await services.stores.events.ensure_stream(conn)
        await services.bus.start()
        services.writer.start()
        gateway.start()
        if settings.bot_webhooks:
            await webhooks.start()
        log.info("darbuka %s ready; sign-in codes go to: %s", __version__,
                 services.auth.code_sender_name)
        try:
            # The WebSocket transport finds the gateway in the lifespan state.
            yield {GATEWAY_STATE_KEY: gateway}
        finally:
            await webhooks.stop()
            await gateway.stop()
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
    app.mount("/botapi", build_botapi(services))
    app.router.default = WebClient(settings.web_dir)  # what no API route matches
    _install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JsonResponse:
        response = JsonResponse(exc.as_dict(), status_code=exc.status)
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
