"""The composition root's second half: the HTTP app of one server process — its routes,
error handlers and lifespan — over the parts `container.build_runtime` made. No service
locator: everything is handed in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from darbuka import __version__
from darbuka.api.edge import Edge
from darbuka.api.json import Json as JsonResponse
from darbuka.api.limits import BodyLimit
from darbuka.api.routers import ROUTERS
from darbuka.api.uploads import TUS_VERSION
from darbuka.api.web import WebClient
from darbuka.background import build_jobs, start_jobs, stop_jobs
from darbuka.botapi import WebhookSender, build_botapi
from darbuka.clock import Clock
from darbuka.container import Runtime, build_runtime, open_storage
from darbuka.errors import ApiError, RateLimited
from darbuka.gateway.protocol import GATEWAY_STATE_KEY
from darbuka.gateway.socket import Gateway
from darbuka.ops.door import Door
from darbuka.ops.metrics import Metrics
from darbuka.ops.port import MetricsPort
from darbuka.services.codes import CodeSender
from darbuka.settings import Settings

__all__ = ["build_app"]

log = logging.getLogger("darbuka")


def build_app(settings: Settings, *, clock: Clock | None = None,
              code_sender: CodeSender | None = None) -> FastAPI:
    runtime = build_runtime(settings, clock=clock, code_sender=code_sender)
    services = runtime.services
    gateway = Gateway(hub=runtime.hub, auth=services.auth, messages=services.messages,
                      sync=services.sync, clock=runtime.clock,
                      queue_limit=settings.ws_queue_limit,
                      idle_timeout_s=settings.ws_idle_timeout_s,
                      frames_in_flight=settings.ws_frames_in_flight,
                      frame_ids=settings.log_format == "json")
    webhooks = WebhookSender(services)
    metrics = (Metrics(runtime, gateway, webhooks)
               if settings.metrics_port or settings.metrics_token else None)
    app = FastAPI(title="Darbuka", version=__version__,
                  lifespan=_lifespan(runtime, gateway, webhooks, metrics),
                  openapi_url="/api/v1/openapi.json", docs_url="/api/v1/docs", redoc_url=None,
                  default_response_class=JsonResponse)
    # Routes find the services here (api/deps.py); tests read the runtime's state.
    app.state.services = services
    app.state.runtime = runtime
    app.state.gateway = gateway
    app.state.webhooks = webhooks
    app.state.metrics = metrics
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/botapi", build_botapi(services))
    app.router.default = WebClient(settings.web_dir)  # what no API route matches
    _install_error_handlers(app)
    # Upload bodies are bounded by their own Upload-Length and per-kind limits instead, and
    # a Bot API upload URL by bot_upload_max_bytes.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes,
                       exempt_prefixes=("/api/v1/uploads/", "/botapi/uploads/"))
    app.add_middleware(Edge)
    if settings.trust_proxy_headers:
        # In the app rather than uvicorn's flag, so tests and `serve` resolve it alike.
        app.add_middleware(ProxyHeadersMiddleware,
                           trusted_hosts=settings.forwarded_allow_ips)
    if metrics is not None or settings.log_format == "json":
        # Outermost: its clock covers every other layer, its request id every log line.
        app.add_middleware(Door, metrics=metrics, request_ids=settings.log_format == "json",
                           metrics_token=settings.metrics_token,
                           serve_metrics=not settings.metrics_port)
    return app


def _lifespan(runtime: Runtime, gateway: Gateway, webhooks: WebhookSender,
              metrics: Metrics | None) -> Any:
    services, settings = runtime.services, runtime.settings
    delivering = webhooks if settings.bot_webhooks else None
    jobs = build_jobs(runtime, delivering) if settings.run_jobs else None
    metrics_port = (MetricsPort(metrics, host=settings.metrics_host,
                                port=settings.metrics_port, token=settings.metrics_token)
                    if metrics is not None and settings.metrics_port else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        await open_storage(runtime)
        await runtime.bus.start()
        await runtime.presence.start()
        runtime.writer.start()
        await services.banks.start()
        app.state.jobs = jobs
        if jobs is not None:
            await start_jobs(runtime, jobs, delivering)
        gateway.start()
        if metrics is not None:
            await metrics.start()
        if metrics_port is not None:
            await metrics_port.start()
        log.info("darbuka %s ready; sign-in codes go to: %s", __version__,
                 services.auth.code_sender_name)
        try:
            # The WebSocket transport finds the gateway in the lifespan state.
            yield {GATEWAY_STATE_KEY: gateway}
        finally:
            if metrics_port is not None:
                await metrics_port.stop()
            if jobs is not None:
                await stop_jobs(runtime, jobs, delivering)
            else:
                services.media.stop()
            await gateway.stop()
            await runtime.presence.stop()
            await services.banks.stop()
            await runtime.writer.stop()
            await runtime.bus.stop()
            await services.health.close()
            await runtime.db.dispose()

    return lifespan


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
