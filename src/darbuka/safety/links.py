"""Links as URL banks hold them: one normal form per page and per site, so a listed link is
caught however it is written.

A `url` entry is normalised: scheme and host lower-cased (the host in its IDNA form), the
default port, user info, the fragment, tracking parameters and trailing slashes dropped,
and percent escapes in upper case. `http` is written `https`: the same page over either is
the same page to share, and a list should not need both. A `domain` entry is a host name;
it matches that host and every host below it (`example.com` catches `www.example.com`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MAX_LINK", "host_of", "normalise_domain", "normalise_url", "suffixes"]

MAX_LINK = 2048
DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that say who sent a visitor, not what the page is.
TRACKING = frozenset({"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
                      "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "twclid", "ttclid"})
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                   r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")


def _tracking(name: str) -> bool:
    return name.lower().startswith("utm_") or name.lower() in TRACKING


def normalise_domain(raw: str) -> str:
    """A host name in its one form (lower case, IDNA, no trailing dot); ValueError if it
    is not one."""
    host = raw.strip().rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"not a domain name: {raw!r}") from None
    if not _HOST.match(host):
        raise ValueError(f"not a domain name: {raw!r}")
    return host


def normalise_url(raw: str) -> str:
    """An http(s) URL in its one form; ValueError if it is not one."""
    text = raw.strip()
    if len(text) > MAX_LINK:
        raise ValueError(f"a URL has at most {MAX_LINK} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValueError(f"not a URL: {raw!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http or https URL: {raw!r}")
    host = normalise_domain(parts.hostname)
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    path = _escapes(parts.path).rstrip("/")
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _tracking(k)])
    return urlunsplit(("https", host, path, query, ""))


def host_of(url: str) -> str:
    """The host of a normalised URL (without its port)."""
    return urlsplit(url).hostname or ""


def suffixes(host: str) -> list[str]:
    """The host and each host above it: a.b.example.com, b.example.com, example.com, com."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def _escapes(path: str) -> str:
    return _ESCAPE.sub(lambda m: m.group(0).upper(), path)
