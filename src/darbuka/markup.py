"""Rich text as ranges over a message's text: `{"type", "from", "length"}`, with `url` for
a link and `user_id` for a mention — the model TamTam and Telegram use, so the text stays
plain text every client can show, and styling is data no client renders as HTML.

Offsets count UTF-16 code units, as TamTam, Telegram and JavaScript strings do: the web
client and bots use them as they are. Python counts code points; the conversion is here and
only here (`to_code_points`, `from_code_points`), for the server's checks,
the Bot API's Markdown and HTML parsers and the SDK.

The base layer holds it because the SDK may import nothing else of the server.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from darbuka.errors import ApiError

__all__ = ["BLOCK_TYPES", "MARKUP_TYPES", "MAX_MARKUP", "MAX_URL", "InvalidMarkup",
           "check_markup", "from_code_points", "to_code_points", "utf16_len"]

MARKUP_TYPES = ("strong", "emphasized", "monospaced", "code_block", "strikethrough",
                "underline", "link", "user_mention", "heading", "highlighted")
# Whole lines: they start at the start of a line and end at the end of one.
BLOCK_TYPES = frozenset({"code_block", "heading"})
# Code is shown as typed: no range inside it (code may sit inside a style: **see `x`**).
_VERBATIM = frozenset({"monospaced", "code_block"})
# A link or a mention is one target: neither holds another.
_TARGETS = frozenset({"link", "user_mention"})
MAX_MARKUP = 100
MAX_URL = 2048
_KEYS = {"link": {"url"}, "user_mention": {"user_id"}}
# Characters beyond the Basic Multilingual Plane: two UTF-16 code units each.
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")


class InvalidMarkup(ApiError):
    status = 422
    code = "invalid_markup"


def utf16_len(text: str) -> int:
    return len(text) + len(_ASTRAL.findall(text))


class _Units:
    """UTF-16 offsets of a text's characters. Only characters beyond the BMP (emoji, most
    of them) take two units, so only their places are kept: a text without any converts
    for free, which is nearly every text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.astral = [m.start() for m in _ASTRAL.finditer(text)]  # their code point indexes
        self.starts = [i + n for n, i in enumerate(self.astral)]  # and their UTF-16 offsets
        self.length = len(text) + len(self.astral)

    def offset(self, index: int) -> int:
        """Code point index -> UTF-16 offset."""
        return index + bisect_left(self.astral, index)

    def index(self, offset: int) -> int:
        """UTF-16 offset (not inside a character) -> code point index."""
        return offset - bisect_right(self.starts, offset - 2)

    def splits(self, offset: int) -> bool:
        """Whether the offset falls inside a character (between a surrogate pair)."""
        ended = bisect_right(self.starts, offset - 2)  # astral characters ending by it
        return ended < len(self.starts) and self.starts[ended] == offset - 1


def to_code_points(text: str, markup: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Markup with `from` and `length` in code points (Python string indexes)."""
    units = _Units(text)
    out = []
    for item in markup:
        start, end = units.index(item["from"]), units.index(item["from"] + item["length"])
        out.append({**item, "from": start, "length": end - start})
    return out


def from_code_points(text: str, markup: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Markup given in code points (as a parser in Python finds it) in UTF-16 units."""
    units = _Units(text)
    out = []
    for item in markup:
        start, end = units.offset(item["from"]), units.offset(item["from"] + item["length"])
        out.append({**item, "from": start, "length": end - start})
    return out


def check_markup(text: str, raw: Any) -> list[dict[str, Any]]:
    """The markup of `text`, checked and sorted by position (outer ranges first); raise
    InvalidMarkup (422) naming the first range that is wrong and why."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise InvalidMarkup("markup must be a list of ranges")
    if len(raw) > MAX_MARKUP:
        raise InvalidMarkup(f"markup has at most {MAX_MARKUP} ranges")
    units = _Units(text)
    checked = [_check_one(n, item, units) for n, item in enumerate(raw)]
    checked.sort(key=lambda m: (m["from"], -m["length"], MARKUP_TYPES.index(m["type"])))
    _check_nesting(checked)
    return checked


def _check_one(n: int, item: Any, units: _Units) -> dict[str, Any]:
    where = f"markup[{n}]"
    if not isinstance(item, dict):
        raise InvalidMarkup(f"{where} must be an object {{type, from, length}}")
    kind = item.get("type")
    if kind not in MARKUP_TYPES:
        raise InvalidMarkup(f"{where}.type must be one of {', '.join(MARKUP_TYPES)}")
    extra = set(item) - {"type", "from", "length"} - _KEYS.get(kind, set())
    if extra:
        raise InvalidMarkup(f"{where} ({kind}) takes no {', '.join(sorted(extra))}")
    start, length = item.get("from"), item.get("length")
    if not (_is_int(start) and _is_int(length)) or start < 0 or length < 1:
        raise InvalidMarkup(f"{where}: from must be an integer ≥ 0 and length one ≥ 1")
    if start + length > units.length:
        raise InvalidMarkup(f"{where} ends at {start + length}, past the end of the text "
                            f"({units.length} UTF-16 code units)")
    if units.splits(start) or units.splits(start + length):
        raise InvalidMarkup(f"{where} splits a character (offsets count UTF-16 code units)")
    text, first, end = units.text, units.index(start), units.index(start + length)
    if kind in BLOCK_TYPES and not ((first == 0 or text[first - 1] == "\n")
                                    and (end == len(text) or text[end] == "\n")):
        raise InvalidMarkup(f"{where}: a {kind} covers whole lines, but it starts or ends "
                            "inside a line")
    out: dict[str, Any] = {"type": kind, "from": start, "length": length}
    if kind == "link":
        out["url"] = _check_url(where, item.get("url"))
    elif kind == "user_mention":
        if not _is_int(item.get("user_id")) or not 0 < item["user_id"] < 2**63:
            raise InvalidMarkup(f"{where}: a user_mention needs user_id, a user's id")
        out["user_id"] = item["user_id"]
    return out


def _check_url(where: str, url: Any) -> str:
    if not isinstance(url, str) or not 0 < len(url) <= MAX_URL:
        raise InvalidMarkup(f"{where}: a link needs url, at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # a bracketed host that is no IPv6 address, say
        raise InvalidMarkup(f"{where}: a link's url does not parse") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidMarkup(f"{where}: a link's url must be http:// or https:// with a host")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise InvalidMarkup(f"{where}: a link's url may not contain spaces or control "
                            "characters")
    return url


def _check_nesting(markup: Sequence[dict[str, Any]]) -> None:
    """Two ranges that share text: one holds the other, never a crossing; never two of a
    kind; code holds nothing, and a code block (a block) sits in nothing; a target holds
    no other target."""
    for i, outer in enumerate(markup):
        outer_end = outer["from"] + outer["length"]
        for inner in markup[i + 1:]:
            if inner["from"] >= outer_end:
                break  # sorted by start: nothing later shares text with `outer`
            pair = f"{outer['type']} at {outer['from']} and {inner['type']} at {inner['from']}"
            if inner["from"] + inner["length"] > outer_end:
                raise InvalidMarkup(f"{pair} cross: ranges must nest or be apart")
            if inner["type"] == outer["type"]:
                raise InvalidMarkup(f"{pair} overlap: a range of a kind never holds another")
            if outer["type"] in _VERBATIM:
                raise InvalidMarkup(f"{pair} overlap: code is shown as typed, unstyled")
            if inner["type"] == "code_block":
                raise InvalidMarkup(f"{pair} overlap: a code block sits inside nothing")
            if {inner["type"], outer["type"]} <= _TARGETS:
                raise InvalidMarkup(f"{pair} overlap: a link or mention holds no other")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)
