"""`format: "markdown" | "html"` of a `NewMessageBody`: the text a bot sends is parsed into
plain text and markup ranges, with the subsets the TamTam/MAX servers document:

| markup        | markdown                  | html                               |
| ------------- | ------------------------- | ---------------------------------- |
| emphasized    | `*x*`, `_x_`              | `<i>`, `<em>`                      |
| strong        | `**x**`, `__x__`          | `<b>`, `<strong>`                  |
| strikethrough | `~~x~~`                   | `<s>`, `<del>`, `<strike>`         |
| underline     | `++x++`                   | `<u>`, `<ins>`                     |
| monospaced    | `` `x` `` (newlines → spaces) | `<code>`, `<pre>`              |
| link          | `[text](https://…)`       | `<a href="https://…">`             |
| user_mention  | `[Name](max://user/ID)`   | `<a href="max://user/ID">`         |

Markdown: a backslash makes the next marker character literal; a marker that finds no
partner is literal text. HTML: entities are decoded, `<br>` is a newline, any other tag is
refused (the text is never kept as HTML anywhere). What comes out is checked as every
markup is. Both parse in time linear in the text, whatever a bot sends.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from darbuka.errors import BadRequest
from darbuka.markup import InvalidMarkup, check_markup, from_code_points

__all__ = ["FORMATS", "parse_formatted"]

FORMATS = ("markdown", "html")
_PAIRS = {"**": "strong", "__": "strong", "~~": "strikethrough", "++": "underline",
          "*": "emphasized", "_": "emphasized"}
_ESCAPABLE = set("\\`*_~+[]()")  # what a marker is made of
_LINK_END = re.compile(r"\]\(([^()\s]+)\)")
_SPECIAL = re.compile(r"[\\`\[\]*_~+]")
_MENTION = re.compile(r"(?:max|tamtam)://user/(\d{1,18})")
_HTML_TAGS = {"b": "strong", "strong": "strong", "i": "emphasized", "em": "emphasized",
              "u": "underline", "ins": "underline", "s": "strikethrough",
              "del": "strikethrough", "strike": "strikethrough", "code": "monospaced",
              "pre": "monospaced", "a": "link"}


def parse_formatted(text: str, fmt: Any) -> tuple[str, list[dict[str, Any]]]:
    """(plain text, markup in UTF-16 units) of `text` written in `fmt`; raise BadRequest
    (`proto.payload`) for an unknown format, refused HTML or markup that makes no sense."""
    if fmt is None:
        return text, []
    if fmt not in FORMATS:
        raise BadRequest("format is markdown or html", code="proto.payload")
    plain, spans = _markdown(text) if fmt == "markdown" else _html(text)
    try:
        return plain, check_markup(plain, from_code_points(plain, _tidy(spans)))
    except InvalidMarkup as exc:
        raise BadRequest(f"{fmt}: {exc.message}", code="proto.payload") from exc


def _target(url: str) -> dict[str, Any]:
    """A link's range fields: a mention for max://user/ID, else a link."""
    mention = _MENTION.fullmatch(url)
    if mention:
        return {"type": "user_mention", "user_id": int(mention.group(1))}
    return {"type": "link", "url": url}


def _tidy(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop empty ranges and ranges inside one of their own kind (`<b><b>x</b></b>`,
    `**__x__**`): they add nothing, and a check would refuse them."""
    spans = sorted((s for s in spans if s["length"] > 0),
                   key=lambda s: (s["from"], -s["length"]))
    kept: list[dict[str, Any]] = []
    reach: dict[str, int] = {}  # how far the kept ranges of each type, all earlier, reach
    for span in spans:
        end = span["from"] + span["length"]
        if reach.get(span["type"], -1) < end:
            kept.append(span)
            reach[span["type"]] = end
    return kept


# -- markdown -----------------------------------------------------------------------------

@dataclass(slots=True)
class _Marker:
    """A run of marker characters in the output: literal text unless it finds a partner."""

    text: str
    at: int  # index in `pieces`
    link_url: str | None = None  # set on the `](url)` that closes a `[`


@dataclass(slots=True)
class _Markdown:
    pieces: list[str | _Marker] = field(default_factory=list)
    open: list[_Marker] = field(default_factory=list)
    # Where in `open` the markers of each text are, innermost last: a closer finds its
    # partner at once, so no text makes the parse quadratic.
    depths: dict[str, list[int]] = field(default_factory=dict)
    pairs: list[tuple[_Marker, _Marker]] = field(default_factory=list)
    code: list[tuple[int, int]] = field(default_factory=list)  # piece indexes of code spans

    def marker(self, text: str, *, can_open: bool, can_close: bool,
               link_url: str | None = None) -> None:
        marker = _Marker(text, len(self.pieces), link_url)
        self.pieces.append(marker)
        found = self.depths.get(text if link_url is None else "[")
        # `****` is text: a pair needs something between its markers.
        if can_close and found and self.open[found[-1]].at < marker.at - 1:
            depth = found[-1]
            self.pairs.append((self.open[depth], marker))
            # What opened after it and stays open would cross it: literal text.
            for inner in self.open[depth:]:
                self.depths[inner.text].pop()
            del self.open[depth:]
        elif can_open:
            self.depths.setdefault(text, []).append(len(self.open))
            self.open.append(marker)


def _markdown(source: str) -> tuple[str, list[dict[str, Any]]]:
    state = _Markdown()
    links = _Links(source)
    link_ends: dict[int, tuple[int, str]] = {}  # where `](url)` starts -> (its end, url)
    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source) and source[i + 1] in _ESCAPABLE:
            state.pieces.append(source[i + 1])
            i += 2
        elif i in link_ends:
            end, url = link_ends.pop(i)
            state.marker(source[i:end], can_open=False, can_close=True, link_url=url)
            i = end
        elif char == "`" and (close := source.find("`", i + 1)) > i + 1:
            start = len(state.pieces)
            state.pieces.append(source[i + 1:close].replace("\n", " "))
            state.code.append((start, start + 1))
            i = close + 1
        elif char == "[" and (closer := links.close_of(i)) is not None:
            link_ends[closer] = links.ends[closer]
            state.marker("[", can_open=True, can_close=False)
            i += 1
        elif run := _marker_at(source, i):
            before = source[i - 1] if i else " "
            after = source[i + len(run)] if i + len(run) < len(source) else " "
            # Underscores inside a word (snake_case, URLs) are the word's, not markers.
            inside = run[0] == "_" and before.isalnum() and after.isalnum()
            state.marker(run, can_open=not after.isspace() and not inside,
                         can_close=not before.isspace() and not inside)
            i += len(run)
        else:  # plain text up to the next character that may mean something
            plain = _SPECIAL.search(source, i + 1)
            end = plain.start() if plain else len(source)
            state.pieces.append(source[i:end])
            i = end
    return _resolve(state)


class _Links:
    """Where `[text](url)` links can close, found in one pass: a `[` closes at the first
    `]` after it that no backslash escapes, on the same line, if `(url)` follows it."""

    def __init__(self, source: str) -> None:
        self.ends = {m.start(): (m.end(), m.group(1)) for m in _LINK_END.finditer(source)}
        self.closers: list[int] = []  # unescaped `]` and newlines, in order
        escaped = False
        for i, char in enumerate(source) if self.ends else ():
            if not escaped and char in "]\n":
                self.closers.append(i)
            escaped = not escaped and char == "\\"

    def close_of(self, start: int) -> int | None:
        """The `](url)` that closes the `[` at `start`, if any (its text is not empty)."""
        at = bisect_right(self.closers, start)
        close = self.closers[at] if at < len(self.closers) else None
        return close if close in self.ends and close != start + 1 else None


def _marker_at(source: str, i: int) -> str | None:
    for run in ("**", "__", "~~", "++", "*", "_"):
        if source.startswith(run, i):
            return run
    return None


def _resolve(state: _Markdown) -> tuple[str, list[dict[str, Any]]]:
    """Lay the pieces out: paired markers vanish and become ranges, the rest is text."""
    paired = {id(m) for pair in state.pairs for m in pair}
    starts: list[int] = []
    out: list[str] = []
    length = 0
    for piece in state.pieces:
        starts.append(length)
        text = "" if isinstance(piece, _Marker) and id(piece) in paired else (
            piece.text if isinstance(piece, _Marker) else piece)
        out.append(text)
        length += len(text)
    starts.append(length)
    spans: list[dict[str, Any]] = []
    for opener, closer in state.pairs:
        start, end = starts[opener.at + 1], starts[closer.at]
        fields = (_target(closer.link_url) if closer.link_url is not None
                  else {"type": _PAIRS[opener.text]})
        spans.append({**fields, "from": start, "length": end - start})
    spans += [{"type": "monospaced", "from": starts[a], "length": starts[b] - starts[a]}
              for a, b in state.code]
    return "".join(out), spans


# -- html ---------------------------------------------------------------------------------

class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.spans: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
            return
        if tag not in _HTML_TAGS:
            raise BadRequest(f"html: <{tag}> is not supported; use "
                             f"{', '.join(f'<{t}>' for t in _HTML_TAGS)} or <br>",
                             code="proto.payload")
        fields: dict[str, Any] = {"type": _HTML_TAGS[tag]}
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                raise BadRequest("html: <a> needs href", code="proto.payload")
            fields = _target(href)
        self.stack.append((tag, self.length, fields))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "br":
            raise BadRequest(f"html: <{tag}/> is not supported", code="proto.payload")
        self.handle_data("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "br":
            return
        if not self.stack or self.stack[-1][0] != tag:
            raise BadRequest(f"html: </{tag}> closes no open <{tag}> (tags must nest)",
                             code="proto.payload")
        _, start, fields = self.stack.pop()
        self.spans.append({**fields, "from": start, "length": self.length - start})

    def handle_data(self, data: str) -> None:
        self.out.append(data)
        self.length += len(data)

    def handle_comment(self, data: str) -> None:
        raise BadRequest("html: comments are not supported", code="proto.payload")


def _html(source: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _Html()
    parser.feed(source)
    parser.close()
    if parser.stack:
        raise BadRequest(f"html: <{parser.stack[-1][0]}> is never closed",
                         code="proto.payload")
    return "".join(parser.out), parser.spans
