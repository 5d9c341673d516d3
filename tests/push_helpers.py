"""A push service of the test's own on loopback, and a browser's side of a subscription:
the P-256 key pair and auth secret, decryption of what arrives (RFC 8291), and the check of
the VAPID token (RFC 8292) against the server's public key."""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["Browser", "PushService", "Received", "push_service"]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class PushService:
    url: str
    received: list[Received] = field(default_factory=list)
    # Per path, the statuses to answer in turn (then 201).
    statuses: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with service.lock:
                service.received.append(Received(self.path, {k.lower(): v for k, v in
                                                             self.headers.items()},
                                                 body, time.monotonic()))
                queue = service.statuses.get(self.path) or []
                status = queue.pop(0) if queue else 201
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            return None

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        httpd.shutdown()
        httpd.server_close()


class Browser:
    """What a browser holds for one subscription."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self, **extra: Any) -> dict[str, Any]:
        point = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(point),
                                                    "auth": b64(self.auth)}, **extra}

    def decrypt(self, push: Received) -> dict[str, Any]:
        assert push.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(push.body, private_key=self.key, auth_secret=self.auth,
                                 version="aes128gcm")
        decoded: dict[str, Any] = orjson.loads(plain)
        return decoded


def check_vapid(push: Received, server_key: str, endpoint: str) -> dict[str, Any]:
    """The claims of the push's VAPID token, once its signature checks out against the
    server's public key (and the token names that key)."""
    scheme, _, params = push.headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == server_key
    header, claims, signature = fields["t"].split(".")
    assert orjson.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(server_key))
    public.verify(encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:])),
                  f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    decoded: dict[str, Any] = orjson.loads(unb64(claims))
    origin = endpoint.split("/", 3)
    assert decoded["aud"] == f"{origin[0]}//{origin[2]}"
    assert time.time() < decoded["exp"] <= time.time() + 24 * 3600
    return decoded
