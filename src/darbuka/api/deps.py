"""What routes receive: the services, the caller, the client address."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from darbuka.adapters import Services
from darbuka.services.auth import Principal

__all__ = ["Caller", "ChatId", "MessageId", "UserId", "client_ip", "get_services"]


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The dependency. `async` on purpose: FastAPI runs a plain function in a worker
    thread, a thread hop on every request for one attribute read."""
    return services_of(request)


# What a suspended or banned account may still do: see why, and appeal.
APPEAL_ROUTES = frozenset({("GET", "/api/v1/me"), ("GET", "/api/v1/statements"),
                           ("GET", "/api/v1/appeals"), ("POST", "/api/v1/appeals")})


async def get_caller(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    services = services_of(request)
    allow = (request.method, request.url.path) in APPEAL_ROUTES
    return await services.auth.authenticate(token.strip() if scheme.lower() == "bearer" else None,
                                            allow_restricted=allow)


def client_ip(request: Request) -> str:
    """The peer's address. Behind a proxy (`DARBUKA_TRUST_PROXY_HEADERS`) the app's proxy
    middleware has already replaced it with the first address in `X-Forwarded-For`,
    counted from the right, that is not one of `DARBUKA_FORWARDED_ALLOW_IPS`: the part of
    the header a client writes itself is never taken."""
    return request.client.host if request.client else "unknown"


Caller = Annotated[Principal, Depends(get_caller)]
ChatId = Annotated[int, Path(gt=0, lt=2**63, description="chat id")]
MessageId = Annotated[int, Path(gt=0, lt=2**63, description="message id")]
UserId = Annotated[int, Path(gt=0, lt=2**63, description="user id")]
Svc = Annotated[Services, Depends(get_services)]


def dump(model: Any) -> dict[str, Any]:
    """A request model as a dict of only the fields the client sent."""
    data: dict[str, Any] = model.model_dump(exclude_unset=True)
    return data
