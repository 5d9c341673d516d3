"""Where the server may connect out to on someone else's say-so (bot webhooks, and later
push services and link previews): public addresses only, unless the operator allows
private ones.

The name is resolved once, every address it resolves to is checked, and the connection
then goes to the checked address (with the name as `Host` and TLS server name): resolving
again at connect time would let a name that answers a public address to the check and a
private one to the connection (DNS rebinding) reach into the server's own network.
Addresses that embed an IPv4 address — IPv4-mapped and -compatible IPv6, 6to4, NAT64 — are
judged by the address they embed, so `[::127.0.0.1]` is loopback.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from darbuka.errors import BadRequest

__all__ = ["Resolve", "Target", "check_target", "is_public"]

# (host, port) -> the addresses the name resolves to.
Resolve = Callable[[str, int], Awaitable[list[str]]]
MAX_URL = 2048
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.IPv6Network("::/96")


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL, and how to reach it at the address that was checked."""

    url: str
    scheme: str
    host: str
    port: int
    address: str
    path: str

    @property
    def connect_url(self) -> str:
        literal = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def headers(self) -> dict[str, str]:
        default = 443 if self.scheme == "https" else 80
        return {"host": self.host if self.port == default else f"{self.host}:{self.port}"}

    @property
    def extensions(self) -> dict[str, Any]:
        """httpx request extensions: TLS is checked against the name, not the address."""
        return {"sni_hostname": self.host} if self.scheme == "https" else {}


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in net for net in _NAT64) or (
            address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(raw: str) -> bool:
    """Whether an address is a global one, judged by the IPv4 address it embeds, if any."""
    address = ipaddress.ip_address(raw.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            return inner.is_global
    return address.is_global


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def check_target(url: str, *, allow_private: bool, resolve: Resolve | None = None,
                       code: str = "invalid_url") -> Target:
    """The target if the server may connect there; BadRequest with `code` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise BadRequest("url must be an http(s) URL", code=code)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await (resolve or _system_resolve)(parts.hostname, port)
    except (OSError, ValueError) as exc:
        raise BadRequest("the url's host does not resolve", code=code) from exc
    if not addresses:
        raise BadRequest("the url's host does not resolve", code=code)
    if not allow_private and not all(is_public(a) for a in addresses):
        raise BadRequest("urls may not point at private or loopback addresses",
                         code=code)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url=url, scheme=parts.scheme, host=parts.hostname, port=port,
                  address=addresses[0], path=path)
