"""The one normalisation of search: what a message is indexed as, what a query is matched as,
and where a match lies in the original text (for highlighting).

Both sides go through `fold`, so a query finds a message whatever forms either was typed
in: case folded; Latin (and other) diacritics dropped (NFKD, combining marks removed);
Arabic tashkeel and tatweel removed, the alef forms (U+0622, 0623, 0625, 0671) made alef,
alef maqsura made yeh, teh marbuta made heh.
Words are runs of letters and digits; the engines are handed the words joined by single
spaces, so SQLite's tokenizer and PostgreSQL's arrays split them exactly as Python did.

Changing `fold` changes what is stored: a migration must then rebuild the index (SQLite's
index is contentless, and a message leaves it by the words it was indexed under).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = ["Folded", "fold", "highlight", "index_text", "query_words"]

# Letters that become another letter, before and after NFKD (presentation forms decompose
# into these).
_LETTERS = str.maketrans({
    "\u0622": "\u0627", "\u0623": "\u0627", "\u0625": "\u0627", "\u0671": "\u0627",  # alefs
    "\u0649": "\u064a",  # alef maqsura → yeh
    "\u0629": "\u0647",  # teh marbuta → heh
})
_TATWEEL = "\u0640"
# A query of more words than this is cut: each word is one more index lookup.
MAX_QUERY_WORDS = 8
# Longer runs are cut on both sides alike (PostgreSQL takes no lexeme past 2 KB).
MAX_WORD = 64


@dataclass(frozen=True, slots=True)
class Folded:
    """Folded text, and for each of its characters the original character it came from."""

    text: str
    origin: tuple[int, ...]


def _fold_char(char: str) -> str:
    if char == _TATWEEL:
        return ""
    decomposed = unicodedata.normalize("NFKD", char.translate(_LETTERS))
    kept = "".join(c for c in decomposed if not unicodedata.combining(c)
                   and unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    return kept.casefold().translate(_LETTERS)


def fold(text: str) -> Folded:
    """`text` normalised for matching, character by character (so offsets map back)."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = char.casefold() if char.isascii() else _fold_char(char)
        out.append(piece)
        origin.extend([index] * len(piece))
    return Folded("".join(out), tuple(origin))


def _words(folded: str) -> list[tuple[int, int]]:
    """(start, end) of each run of letters and digits in folded text."""
    spans: list[tuple[int, int]] = []
    start = -1
    for index, char in enumerate(folded):
        if char.isalnum():
            if start < 0:
                start = index
        elif start >= 0:
            spans.append((start, index))
            start = -1
    if start >= 0:
        spans.append((start, len(folded)))
    return spans


def index_text(text: str) -> str:
    """What the index holds for a message: its folded words, one space between each."""
    folded = fold(text).text
    return " ".join(folded[a:b][:MAX_WORD] for a, b in _words(folded))


def query_words(query: str) -> list[str]:
    """The folded words of a query, each matched as the start of a word, all required."""
    folded = fold(query).text
    words = list(dict.fromkeys(folded[a:b][:MAX_WORD] for a, b in _words(folded)))
    return words[:MAX_QUERY_WORDS]


def _utf16(text: str, index: int) -> int:
    """The UTF-16 offset of code point `index` (the web client's and the Bot API's unit)."""
    return index + sum(1 for c in text[:index] if ord(c) > 0xFFFF)


def highlight(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Where `words` match in the original `text`: sorted [start, end) ranges in UTF-16
    code units, one per word of the text that starts with one of `words`. Empty when the
    text does not hold every word (then it is no match)."""
    folded = fold(text)
    ranges: list[tuple[int, int]] = []
    found: set[str] = set()
    for start, end in _words(folded.text):
        word = folded.text[start:end]
        hit = max((w for w in words if word.startswith(w)), key=len, default=None)
        if hit is None:
            continue
        found.add(hit)
        found.update(w for w in words if word.startswith(w))
        first, last = folded.origin[start], folded.origin[start + len(hit) - 1] + 1
        while last < len(text) and not text[last].isascii() and not _fold_char(text[last]):
            last += 1  # the marks on the last letter belong to it
        ranges.append((_utf16(text, first), _utf16(text, last)))
    return ranges if found >= set(words) else []
