"""`/c/{handle}`: a public channel's shop window, readable without signing in.

Server-rendered, tiny and safe: every piece of user content goes through `html.escape`
(nothing a user wrote is ever HTML; its http(s) links become `<a rel="nofollow noopener
ugc">`, the only markup made from it), the page runs no script, and the Content-Security-Policy
allows only its own inline style (by hash) and images from its own origin. Pages are
cacheable: an ETag of the body and a short max-age, so a proxy or browser asks again cheaply.

Posts with a photo or a video show its small WebP thumbnail (a video's poster frame) from
`/c/{handle}/media/{media_id}/thumb`, which serves only media of the posts this page shows.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from darbuka.api.deps import Svc
from darbuka.api.media import MediaId
from darbuka.errors import NotFound

__all__ = ["PAGE_BUDGET_BYTES", "router"]

router = APIRouter()

# The page stays under this many bytes however long the posts are (slow links first).
PAGE_BUDGET_BYTES = 30_000
POST_CHARS = 500
THUMB_BOX = 320  # px: the longer side of a post's picture on the page
# Thumbnails: a day in browsers; shared caches ask again after 10 minutes, so a picture a
# moderator removes stops being served well within the hour removal orders allow.
THUMB_CACHE = "public, max-age=86400, s-maxage=600"
STYLE = ("body{font:16px/1.45 system-ui,sans-serif;max-width:40em;margin:0 auto;padding:1em;"
         "color:#222}header{border-bottom:1px solid #ddd;margin-bottom:1em}"
         "article{border-bottom:1px solid #eee;padding:.6em 0;white-space:pre-wrap;"
         "overflow-wrap:anywhere}time,.meta{color:#777;font-size:.8em}"
         "img{display:block;max-width:100%;height:auto;margin:.3em 0;border-radius:4px}"
         "ul{margin:.3em 0;white-space:normal}")
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "Cache-Control": "public, max-age=60"}


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def thumb_path(handle: str, media_id: str) -> str:
    return f"/c/{quote(handle, safe='')}/media/{quote(media_id, safe='')}/thumb"


def _thumb(handle: str, media: dict[str, Any]) -> str:
    """The post's picture at most THUMB_BOX px on its longer side, sized up front so the
    page does not jump while it loads on a slow link."""
    width, height = int(media.get("width") or 0), int(media.get("height") or 0)
    if width <= 0 or height <= 0:
        return ""
    scale = min(1.0, THUMB_BOX / max(width, height))
    shown_w, shown_h = max(1, round(width * scale)), max(1, round(height * scale))
    alt = "Photo" if media.get("kind") == "photo" else "Video (first frame)"
    src = escape(thumb_path(handle, str(media["id"])))
    return (f'<img src="{src}" width="{shown_w}" height="{shown_h}" alt="{alt}" '
            f'loading="lazy">')


# A link as the web client finds one: http(s), ended by a space, a quote or `<`; trailing
# punctuation is the sentence's, not the link's.
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}»"


def _link(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return escape(url)
    return f'<a href="{escape(url)}" rel="nofollow noopener ugc">{escape(url)}</a>'


def linked_text(text: str) -> str:
    """The text escaped, its http(s) links as `<a rel="nofollow noopener ugc">`: nothing
    else a user wrote becomes markup."""
    out, at = [], 0
    for found in _LINK.finditer(text):
        url = found.group().rstrip(_TRAILING)
        out += [escape(text[at:found.start()]), _link(url)]
        at = found.start() + len(url)
    return "".join([*out, escape(text[at:])])


def _poll(post: dict[str, Any]) -> str:
    """A poll's question and its counts, as text: the options are the users' words."""
    poll, results = post["poll"], post.get("poll_results") or {}
    counts = results.get("counts") or [0] * len(poll["options"])
    voters = int(results.get("voters") or 0)
    rows = "".join(
        f"<li>{escape(option)} — {count} ({round(count * 100 / voters) if voters else 0}%)"
        "</li>" for option, count in zip(poll["options"], counts, strict=False))
    state = " · closed" if results.get("closed") else ""
    noun = "quiz" if poll.get("quiz") else "poll"
    return (f'<p class="meta">[{noun}]</p><b>{escape(post.get("text", ""))}</b><ul>{rows}</ul>'
            f'<p class="meta">{voters} voted{state}</p>')


def _post(post: dict[str, Any], handle: str, thumbs: set[str]) -> str:
    if post.get("poll"):
        return (f'<article>{_poll(post)}<time>{_when(post["created_at"])} UTC</time>'
                "</article>")
    text = post.get("text", "")
    if len(text) > POST_CHARS:
        text = text[:POST_CHARS] + "…"
    kind = post.get("kind", "text")
    media = post.get("media") or {}
    picture = _thumb(handle, media) if str(media.get("id")) in thumbs else ""
    label = f'<p class="meta">[{escape(kind)}]</p>' if kind != "text" and not picture else ""
    return (f'<article>{label}{picture}{linked_text(text)}<br><time>{_when(post["created_at"])} '
            f'UTC</time></article>')


def render_page(chat: dict[str, Any], posts: list[dict[str, Any]],
                thumbs: set[str] | None = None) -> str:
    title = escape(chat["title"])
    handle = escape(chat.get("handle", ""))
    noun = "subscribers" if chat["kind"] == "channel" else "members"
    verified = " ✓" if chat.get("verified") else ""
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{title}</title><style>{STYLE}</style></head><body><header>"
            f"<h1>{title}{verified}</h1><p class=\"meta\">@{handle} · "
            f"{chat['member_count']} {noun}</p><p>{escape(chat['description'])}</p></header>")
    # The app routes `#/c/<handle>` to this chat's preview, with Join or Subscribe.
    tail = (f'<footer><p><a href="/#/c/{handle}">Open in Darbuka</a></p><p class="meta">'
            f"Open @{handle} in Darbuka to join.</p></footer></body></html>")
    budget = PAGE_BUDGET_BYTES - len(head.encode()) - len(tail.encode())
    shown: list[str] = []
    for post in reversed(posts):  # newest first, until the byte budget is spent
        html = _post(post, chat.get("handle", ""), thumbs or set())
        budget -= len(html.encode())
        if budget < 0:
            break
        shown.append(html)
    return head + "".join(shown) + tail


def _not_found() -> Response:
    body = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found"
            "</title></head><body><p>No public channel or group has this name.</p></body></html>")
    return Response(body, status_code=404, media_type="text/html; charset=utf-8",
                    headers={**HEADERS, "Cache-Control": "public, max-age=30"})


@router.get("/c/{handle}", include_in_schema=False)
async def public_page(handle: Annotated[str, Path(max_length=64)], request: Request,
                      svc: Svc) -> Response:
    try:
        chat, posts, thumbs = await svc.public.page(handle)
    except NotFound:
        return _not_found()
    body = render_page(chat, posts, thumbs).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**HEADERS, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/c/{handle}/media/{media_id}/thumb", include_in_schema=False)
async def public_thumb(handle: Annotated[str, Path(max_length=64)], media_id: MediaId,
                       request: Request, svc: Svc) -> Response:
    """The thumbnail of a photo (or a video's poster) on a post the public page shows."""
    try:
        stored = await svc.public.public_thumb(handle, media_id)
    except NotFound:
        return Response(status_code=404, headers={"Cache-Control": "public, max-age=30",
                                                  "X-Content-Type-Options": "nosniff"})
    key = str(stored["key"])
    headers = {"ETag": f'"{key}"', "Cache-Control": THUMB_CACHE,
               "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox"}
    # Checked after the visibility test above: a removed picture never answers 304.
    if f'"{key}"' in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(stored["size"])
    return StreamingResponse(await svc.media.open(key, 0, int(stored["size"])),
                             media_type=stored["mime"], headers=headers)
