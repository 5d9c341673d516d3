"""Where webhooks may point: public addresses only, unless the operator allows private ones.

The check runs when a bot subscribes and again before each delivery (a name can be made to
resolve elsewhere later). Without it a bot could make the server call into its own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from darbuka.errors import BadRequest

__all__ = ["check_webhook_url"]


async def check_webhook_url(url: str, *, allow_private: bool) -> str:
    """The URL if a webhook may be sent there; BadRequest otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
        raise BadRequest("url must be an http(s) URL", code="invalid.url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port,
                                                             type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise BadRequest("the webhook's host does not resolve", code="invalid.url") from exc
    if allow_private:
        return url
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise BadRequest("webhooks may not point at private or loopback addresses",
                             code="invalid.url")
    return url
