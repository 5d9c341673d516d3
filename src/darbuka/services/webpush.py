"""The Web Push wire: the VAPID key (RFC 8292), payload encryption (RFC 8291, aes128gcm)
and the POST to a browser's push service (RFC 8030), with the libraries that implement them
(`py_vapid`, `http_ece`).

The endpoint is the browser's push service, chosen by whoever subscribed, so it is checked
as a webhook is (`targets.check_target`) at every send and reached at the checked address.
"""

from __future__ import annotations

import base64
import enum
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece
import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from darbuka.errors import BadRequest
from darbuka.files import create_once, private_dir
from darbuka.services.targets import Target, check_target
from darbuka.settings import Settings

__all__ = ["MAX_BODY", "OVERHEAD", "Outcome", "PushKey", "PushSender", "Subscription",
           "check_keys", "load_push_key"]

log = logging.getLogger(__name__)
# What a push may weigh once encrypted (every push service takes at least 4 KB; ours stay
# small so one fits a slow link's first packets).
MAX_BODY = 1024
# aes128gcm adds a header (salt, record size, key) and, per record, a pad byte and a tag.
OVERHEAD = 16 + 4 + 1 + 65 + 1 + 16
# A VAPID token is valid for at most 24 hours (RFC 8292); ours for 12.
TOKEN_S = 12 * 3600


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushKey:
    """The application server's key: it signs every push; browsers subscribe to its public
    half (`applicationServerKey`)."""

    def __init__(self, pem: bytes, subject: str) -> None:
        self._vapid = Vapid02.from_pem(pem)
        self._subject = subject
        point = self._vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        self.public_key = _b64(point)

    def authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        claims = {"aud": audience, "exp": int(time.time()) + TOKEN_S, "sub": self._subject}
        return str(self._vapid.sign(claims)["Authorization"])


def load_push_key(settings: Settings) -> PushKey:
    """From `DARBUKA_PUSH_VAPID_PRIVATE_KEY`, else <data_dir>/vapid.pem, made once."""
    if settings.push_vapid_private_key:
        pem = settings.push_vapid_private_key.encode()
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        fresh = key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        pem = create_once(private_dir(Path(settings.data_dir)) / "vapid.pem", fresh)
    return PushKey(pem, settings.push_subject)


@dataclass(frozen=True, slots=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str


def check_keys(p256dh: Any, auth: Any) -> tuple[str, str]:
    """A browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url."""
    try:
        key, secret = _unb64(p256dh), _unb64(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadRequest("keys.p256dh must be a P-256 public key and keys.auth a 16-byte "
                         "secret, base64url", code="invalid_keys") from exc
    if len(secret) != 16:
        raise BadRequest("keys.auth must be a 16-byte secret, base64url", code="invalid_keys")
    return _b64(key), _b64(secret)


def encrypt(plain: bytes, sub: Subscription) -> bytes:
    """RFC 8291: a fresh key pair per push, so no two pushes share a content key."""
    return bytes(http_ece.encrypt(plain, private_key=ec.generate_private_key(ec.SECP256R1()),
                                  dh=_unb64(sub.p256dh), auth_secret=_unb64(sub.auth),
                                  salt=os.urandom(16), version="aes128gcm"))


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"  # 404/410: the browser unsubscribed; the subscription is deleted
    REFUSED = "refused"  # the service will never take this push (400, 413): not retried
    FAILED = "failed"  # no answer, 429 or 5xx: retried with backoff


class PushSender:
    def __init__(self, key: PushKey, settings: Settings) -> None:
        self._key = key
        self._allow_private = settings.push_allow_private
        self._ttl = settings.push_ttl_s
        self._http = httpx.AsyncClient(timeout=settings.push_timeout_s, follow_redirects=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def check(self, endpoint: str) -> Target:
        """Where pushes to `endpoint` go; BadRequest `invalid_endpoint` unless they may."""
        if not self._allow_private and urlsplit(endpoint).scheme != "https":
            raise BadRequest("a push endpoint must be https", code="invalid_endpoint")
        return await check_target(endpoint, allow_private=self._allow_private,
                                  code="invalid_endpoint")

    async def send(self, sub: Subscription, plain: bytes, *, topic: str,
                   urgency: str) -> Outcome:
        try:
            target = await self.check(sub.endpoint)
        except BadRequest as exc:  # its name now points somewhere pushes may not go
            log.warning("push endpoint %s refused: %s", sub.endpoint, exc)
            return Outcome.REFUSED
        headers = {**target.headers, "ttl": str(self._ttl), "urgency": urgency,
                   "topic": topic, "content-encoding": "aes128gcm",
                   "content-type": "application/octet-stream",
                   "authorization": self._key.authorization(sub.endpoint)}
        try:
            # The body is never read: only the status matters, and it could be any size.
            async with self._http.stream("POST", target.connect_url,
                                         content=encrypt(plain, sub), headers=headers,
                                         extensions=target.extensions) as response:
                status = response.status_code
        except httpx.HTTPError as exc:
            log.info("push to %s failed: %r", sub.endpoint, exc)
            return Outcome.FAILED
        if 200 <= status < 300:
            return Outcome.SENT
        if status in (404, 410):
            return Outcome.GONE
        if status in (400, 403, 413):
            log.warning("push service %s refused a push: %s", target.host, status)
            return Outcome.REFUSED
        return Outcome.FAILED
