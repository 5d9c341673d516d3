"""Where sign-in codes go: the server log (a fresh install) or an operator's SMS webhook."""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from darbuka.errors import ApiError

__all__ = ["CodeSender", "ConsoleCodeSender", "WebhookCodeSender", "make_code_sender"]

log = logging.getLogger("darbuka.codes")


class CodeSender(Protocol):
    name: str

    async def send(self, phone: str, code: str, expires_in_s: int) -> None: ...


class ConsoleCodeSender:
    name = "console"

    async def send(self, phone: str, code: str, expires_in_s: int) -> None:
        log.warning("sign-in code for %s: %s (valid %d min)", phone, code, expires_in_s // 60)


class WebhookCodeSender:
    """POSTs {"phone", "code", "expires_in"} as JSON; any 2xx counts as delivered."""

    name = "webhook"

    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout_s

    async def send(self, phone: str, code: str, expires_in_s: int) -> None:
        payload = {"phone": phone, "code": code, "expires_in": expires_in_s}
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(self._url, json=payload)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.error("code webhook failed: %s", exc)
            err = ApiError("the code could not be sent; try again", code="code_delivery_failed")
            err.status = 503
            raise err from exc


def make_code_sender(kind: str, webhook_url: str) -> CodeSender:
    if kind == "console":
        return ConsoleCodeSender()
    if kind == "webhook":
        if not webhook_url:
            raise ValueError("DARBUKA_CODE_WEBHOOK_URL is needed with the webhook code sender")
        return WebhookCodeSender(webhook_url)
    raise ValueError(f"unknown code sender {kind!r}: use console or webhook")
