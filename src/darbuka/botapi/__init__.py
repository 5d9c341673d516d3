"""The TamTam-compatible Bot API (0.5.6), mounted at /botapi: an adapter over the services.

Errors are TamTam's `{"code", "message"}`; times are milliseconds; the token comes as
`?access_token=` or in the `Authorization` header.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request

from darbuka.adapters import Services
from darbuka.api.json import Json as JsonResponse
from darbuka.botapi.routes import router
from darbuka.botapi.uploads import uploads_router
from darbuka.botapi.webhooks import WebhookSender
from darbuka.errors import ApiError, RateLimited

__all__ = ["API_VERSION", "WebhookSender", "build_botapi"]

API_VERSION = "0.5.6"
log = logging.getLogger("darbuka.botapi")
# TamTam's codes for what every endpoint can answer; our own codes say more elsewhere.
STATUS_CODES = {401: "verify.token", 404: "not.found", 405: "method.not.allowed",
                413: "too.large", 429: "too.many.requests"}


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status_code=status)


def build_botapi(services: Services) -> FastAPI:
    app = FastAPI(title="Darbuka Bot API", version=API_VERSION, openapi_url="/openapi.json",
                  docs_url=None, redoc_url=None, default_response_class=JsonResponse)
    app.state.services = services
    app.include_router(router)
    app.include_router(uploads_router)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JsonResponse:
        response = _error(exc.status, STATUS_CODES.get(exc.status, exc.code), exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(max(exc.retry_after, 1))
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JsonResponse:
        first = (exc.errors() or [{}])[0]
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, "proto.payload", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JsonResponse:
        code = STATUS_CODES.get(exc.status_code, "http.error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(_request: Request, exc: Exception) -> JsonResponse:
        log.error("unhandled error", exc_info=exc)
        return _error(500, "internal", "something went wrong on the server")

    return app
