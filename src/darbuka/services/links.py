"""The links a message carries: in its text (or caption) and in its bot keyboard's buttons.

Text is read by the rule the web client links with (`web/src/lib/linkify.ts`): an
http:// or https:// run up to a space, quote or angle bracket, without the punctuation that
ends a sentence. What a reader can click is what a URL bank must see.
"""

from __future__ import annotations

import re

import orjson

__all__ = ["links_in", "links_of"]

_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = re.compile(r"[.,;:!?)\]}'\"»]+$")


def links_in(text: str) -> list[str]:
    return [_TRAILING.sub("", match) for match in _URL.findall(text)]


def links_of(text: str, keyboard: str | None = None) -> list[str]:
    """Every link of a message: its text's, then each button's url and text's."""
    found = links_in(text)
    for row in orjson.loads(keyboard or "[]"):
        for button in row:
            if isinstance(button.get("url"), str):
                found.append(button["url"])
            found.extend(links_in(str(button.get("text", ""))))
    return found
