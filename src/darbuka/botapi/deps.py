"""What Bot API routes receive: the services and the calling bot."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from darbuka.adapters import Services
from darbuka.errors import BadRequest
from darbuka.services.auth import Principal
from darbuka.services.text import has_nul

__all__ = ["Bot", "JsonBody", "Svc", "parse_id"]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The dependency. `async` on purpose: FastAPI runs a plain function in a worker
    thread, a thread hop on every request for one attribute read."""
    return services_of(request)


async def get_bot(request: Request) -> Principal:
    """The token as `?access_token=` (TamTam) or in `Authorization` (MAX; `Bearer` optional)."""
    token = request.query_params.get("access_token")
    if not token:
        header = request.headers.get("authorization", "").strip()
        token = header.removeprefix("Bearer ").strip() if header else None
    return await services_of(request).auth.authenticate(token, bot=True)


async def read_json(request: Request) -> Any:
    """The body as JSON whatever its content type: TamTam clients often send none."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("the body is not valid JSON", code="proto.payload") from exc
    if has_nul(body):
        raise BadRequest("text may not contain NUL characters", code="proto.payload")
    return body


def parse_id(value: Any, name: str) -> int:
    """An id from a query or a string `mid`; BadRequest for anything else."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise BadRequest(f"{name} must be a positive integer id", code="proto.payload")
    return int(text)


Svc = Annotated[Services, Depends(get_services)]
Bot = Annotated[Principal, Depends(get_bot)]
JsonBody = Annotated[Any, Depends(read_json)]
