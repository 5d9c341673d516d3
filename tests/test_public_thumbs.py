"""Thumbnails on the public page: real photos and videos, served to anyone only while a post
of that public channel shows them."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
from PIL import Image

from darbuka.api.public_page import PAGE_BUDGET_BYTES
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.media_helpers import jpeg, make_video, upload_ready
from tests.safety_helpers import staff

IMG = re.compile(r'<img src="([^"]+)" width="(\d+)" height="(\d+)" alt="([^"]+)"')


def _public_channel(owner: Api, handle: str) -> dict[str, Any]:
    chat: dict[str, Any] = owner.ok("POST", "/chats", json={"kind": "channel", "title": handle})
    owner.ok("PATCH", f"/chats/{chat['id']}", json={"handle": handle})
    return chat


def _post_media(api: Api, chat_id: int, media_id: str, caption: str = "") -> dict[str, Any]:
    sent: dict[str, Any] = api.ok("POST", f"/chats/{chat_id}/messages", json={
        "client_id": new_client_id(), "media_id": media_id, "text": caption})
    return sent


def _photo_with_exif(api: Api, width: int = 800, height: int = 600) -> str:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "leaky-software 1.0"  # Software
    data = jpeg(width, height, exif=exif.tobytes())
    assert b"SecretCam" in data  # the upload really carries metadata
    media = upload_ready(api, data, kind="photo", filename="shop.jpg")
    assert media["state"] == "ready"
    return str(media["id"])


def test_a_photo_post_shows_a_thumbnail_without_metadata(server: LiveServer,
                                                         alice: Api) -> None:
    chat = _public_channel(alice, "photo_news")
    media_id = _photo_with_exif(alice)
    _post_media(alice, chat["id"], media_id, "our <b>new</b> shop")
    page = httpx.get(f"{server.url}/c/photo_news")
    assert page.status_code == 200
    ((src, width, height, alt),) = IMG.findall(page.text)
    assert src == f"/c/photo_news/media/{media_id}/thumb"
    assert (width, height, alt) == ("320", "240", "Photo")
    assert "our &lt;b&gt;new&lt;/b&gt; shop" in page.text
    csp = page.headers["content-security-policy"]
    assert "img-src 'self';" in csp
    assert "data:" not in csp
    thumb = httpx.get(server.url + src)  # no account
    assert thumb.status_code == 200
    assert thumb.headers["content-type"] in ("image/webp", "image/jpeg")
    assert len(thumb.content) < 20_000
    image = Image.open(io.BytesIO(thumb.content))
    assert image.format in ("WEBP", "JPEG")
    assert max(image.size) <= 320
    assert not image.getexif()
    assert b"SecretCam" not in thumb.content
    assert b"Exif" not in thumb.content
    assert "max-age=" in thumb.headers["cache-control"]
    assert thumb.headers["cache-control"].startswith("public")
    assert thumb.headers["x-content-type-options"] == "nosniff"
    again = httpx.get(server.url + src, headers={"if-none-match": thumb.headers["etag"]})
    assert again.status_code == 304
    # Only the thumbnail: no other variant of the photo is public.
    assert httpx.get(f"{server.url}/c/photo_news/media/{media_id}/original").status_code == 404
    assert httpx.get(f"{server.url}/c/Photo_News/media/{media_id}/thumb").status_code == 200


def test_a_video_post_shows_its_poster(server: LiveServer, alice: Api) -> None:
    chat = _public_channel(alice, "video_news")
    media = upload_ready(alice, make_video(size=(160, 120)), kind="video", filename="v.mp4")
    assert media["state"] == "ready"
    _post_media(alice, chat["id"], media["id"])
    page = httpx.get(f"{server.url}/c/video_news").text
    ((src, width, height, alt),) = IMG.findall(page)
    assert (width, height, alt) == ("160", "120", "Video (first frame)")
    poster = httpx.get(server.url + src)
    assert poster.status_code == 200
    assert Image.open(io.BytesIO(poster.content)).format == "WEBP"


def test_the_page_with_fifty_thumbnails_stays_small(server: LiveServer, alice: Api) -> None:
    chat = _public_channel(alice, "gallery")
    media_id = _photo_with_exif(alice, 640, 480)
    for n in range(50):
        _post_media(alice, chat["id"], media_id, f"photo {n} " + "word " * 40)
    page = httpx.get(f"{server.url}/c/gallery")
    assert len(IMG.findall(page.text)) >= 40
    assert len(page.content) <= PAGE_BUDGET_BYTES
    print(f"public page with thumbnails: {len(IMG.findall(page.text))} posts shown, "
          f"{len(page.content)} bytes")


def test_media_of_other_chats_and_removed_media_are_not_public(
        server: LiveServer, alice: Api, bob: Api) -> None:
    chat = _public_channel(alice, "open_shop")
    public_id = _photo_with_exif(alice)
    post = _post_media(alice, chat["id"], public_id)
    # A photo of a private group, asked for through the public channel's path.
    private = alice.group("private", [bob])
    private_id = _photo_with_exif(alice)
    _post_media(alice, private["id"], private_id)
    bob.call("GET", f"/media/{private_id}/thumb", expect=200)  # members still get it
    assert httpx.get(f"{server.url}/c/open_shop/media/{private_id}/thumb").status_code == 404
    assert httpx.get(f"{server.url}/c/open_shop/media/nope/thumb").status_code == 404
    # A public group shows no posts, so none of its media either; once private, no page.
    group = bob.group("Open group", [])
    bob.ok("PATCH", f"/chats/{group['id']}", json={"handle": "open_group"})
    group_id = _photo_with_exif(bob)
    _post_media(bob, group["id"], group_id)
    assert "<img" not in httpx.get(f"{server.url}/c/open_group").text
    assert httpx.get(f"{server.url}/c/open_group/media/{group_id}/thumb").status_code == 404
    bob.ok("PATCH", f"/chats/{group['id']}", json={"handle": None})
    assert httpx.get(f"{server.url}/c/open_group").status_code == 404
    assert httpx.get(f"{server.url}/c/open_group/media/{group_id}/thumb").status_code == 404
    # A moderator removes the channel's photo: gone from the page and from the public path.
    src = f"{server.url}/c/open_shop/media/{public_id}/thumb"
    etag = httpx.get(src).headers["etag"]
    bob.ok("POST", f"/chats/{chat['id']}/join")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": post["id"],
                                     "reason": "terrorism"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
        "action": "remove_media", "reason": "terrorism", "clause": "Terms 4.2"})
    assert httpx.get(src).status_code == 404
    assert httpx.get(src, headers={"if-none-match": etag}).status_code == 404
    assert "<img" not in httpx.get(f"{server.url}/c/open_shop").text
