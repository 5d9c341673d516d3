"""Media through the API: photos into variants, messages that carry them, downloads."""

from __future__ import annotations

import io
from typing import Any

import av
import pytest
from PIL import Image

from darbuka.media.video import STRIP_FRAMES, _Strip
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id, wait_until
from tests.media_helpers import jpeg, make_video, make_wav, png, upload, upload_ready


def _exif_jpeg() -> bytes:
    """A JPEG with GPS and an orientation that turns the 64x48 picture upright (48x64)."""
    image = Image.open(io.BytesIO(jpeg(64, 48)))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    exif[0x010F] = "CameraMaker"
    exif.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _send(api: Api, chat_id: int, media_id: str, **extra: object) -> dict[str, object]:
    body = {"client_id": new_client_id(), "media_id": media_id, **extra}
    message: dict[str, object] = api.ok("POST", f"/chats/{chat_id}/messages", json=body)
    return message



@pytest.fixture
def server(server_on_each_store: LiveServer) -> LiveServer:
    """Every test here runs with blobs in a folder and in an S3 bucket."""
    return server_on_each_store

def test_photo_becomes_variants_without_metadata(alice: Api) -> None:
    data = _exif_jpeg()
    assert b"CameraMaker" in data
    view = upload_ready(alice, data, kind="photo", filename="IMG_0001.HEIC")
    assert view["state"] == "ready", view
    assert view["mime"] == "image/jpeg"
    assert (view["width"], view["height"]) == (48, 64)  # orientation applied
    assert 18 <= len(__import__("base64").b64decode(view["thumbhash"])) <= 30
    assert set(view["variants"]) == {"thumb", "screen", "original"}
    for variant in view["variants"]:
        body = alice.call("GET", f"/media/{view['id']}/{variant}", expect=200).content
        assert b"CameraMaker" not in body
        assert b"Exif" not in body
        shown = Image.open(io.BytesIO(body))
        assert shown.size[0] < shown.size[1]  # upright
        assert not shown.getexif()
    thumb = alice.call("GET", f"/media/{view['id']}/thumb", expect=200)
    assert thumb.headers["content-type"] == "image/webp"
    assert len(thumb.content) <= 10_000


def test_media_message_and_who_may_download(alice: Api, bob: Api, carol: Api) -> None:
    chat = alice.group("g", [bob])
    view = upload_ready(alice, png(80, 60), kind="photo")
    message = _send(alice, chat["id"], view["id"], text="look", kind="photo")
    assert message["kind"] == "photo"
    assert message["text"] == "look"
    media = message["media"]
    assert isinstance(media, dict)
    assert media["id"] == view["id"]
    assert media["thumbhash"] == view["thumbhash"]
    assert bob.history(chat["id"])[-1]["media"] == media
    # The caption can be edited; the media stays.
    url = f"/chats/{chat['id']}/messages/{message['id']}"
    edited = alice.ok("PATCH", url, json={"text": "look again"})
    assert (edited["text"], edited["media"]) == ("look again", media)
    too_long = alice.call("PATCH", url, json={"text": "x" * 1025}, expect=400)
    assert too_long.json()["error"]["code"] == "caption_too_long"
    url = f"/media/{view['id']}/screen"
    first = bob.call("GET", url, expect=200)
    assert "immutable" in first.headers["cache-control"]
    etag = first.headers["etag"]
    bob.call("GET", url, expect=304, headers={"If-None-Match": etag})
    part = bob.call("GET", url, expect=206, headers={"Range": "bytes=2-9"})
    assert part.content == first.content[2:10]
    assert part.headers["content-range"] == f"bytes 2-9/{len(first.content)}"
    outside = bob.call("GET", url, headers={"Range": "bytes=999999-"}, expect=416)
    assert outside.headers["content-range"] == f"bytes */{len(first.content)}"
    tail = bob.call("GET", url, headers={"Range": "bytes=-5"}, expect=206)
    assert tail.content == first.content[-5:]
    # Not a member: the media does not exist for carol.
    carol.call("GET", url, expect=404)
    carol.call("GET", f"/media/{view['id']}", expect=404)
    bob.call("GET", f"/media/{view['id']}/nope", expect=404)
    # Deleting the message takes the media away from the chat (the uploader keeps it).
    alice.ok("DELETE", f"/chats/{chat['id']}/messages/{message['id']}")
    bob.call("GET", url, expect=404)
    alice.call("GET", url, expect=200)


def test_media_sends_are_checked(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    photo = upload_ready(alice, png(), kind="photo")
    cases = [
        ({"media_id": photo["id"], "kind": "voice"}, 400, "kind_mismatch"),
        ({"media_id": photo["id"], "text": "x" * 1025}, 400, "caption_too_long"),
        ({"media_id": "nope"}, 404, "media_not_found"),
        ({"kind": "photo", "text": "hi"}, 400, "media_required"),
    ]
    for extra, status, code in cases:
        response = alice.call("POST", f"/chats/{chat['id']}/messages",
                              json={"client_id": new_client_id(), **extra})
        assert response.status_code == status, (extra, response.text)
        assert response.json()["error"]["code"] == code
    # Someone else's upload cannot be attached.
    response = bob.call("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": new_client_id(), "media_id": photo["id"]})
    assert response.status_code == 404
    # A repeated send is still a repeat.
    client_id = new_client_id()
    body = {"client_id": client_id, "media_id": photo["id"]}
    alice.call("POST", f"/chats/{chat['id']}/messages", json=body, expect=201)
    alice.call("POST", f"/chats/{chat['id']}/messages", json=body, expect=200)


def test_forward_carries_the_media(alice: Api, bob: Api, carol: Api) -> None:
    first = alice.group("a", [bob])
    second = bob.group("b", [carol])
    view = upload_ready(alice, png(), kind="photo")
    message = _send(alice, first["id"], view["id"])
    carol.call("GET", f"/media/{view['id']}/thumb", expect=404)
    forwarded = bob.send(second["id"], "", forward_of=message["id"])
    assert forwarded["media"] == message["media"]
    assert forwarded["kind"] == "photo"
    carol.call("GET", f"/media/{view['id']}/thumb", expect=200)


def test_send_waits_for_processing(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    media_id = upload(alice, jpeg(800, 600), kind="photo")
    # Sent right after the last byte: the server waits for processing, then stores it.
    message = _send(alice, chat["id"], media_id)
    assert message["media"]["variants"] == ["original", "screen", "thumb"]  # type: ignore[index]


def test_voice_note(alice: Api, bob: Api) -> None:
    view = upload_ready(alice, make_wav(3.0), kind="voice", filename="note.wav")
    assert view["state"] == "ready", view
    assert view["variants"] == ["voice"]
    assert view["duration"] == pytest.approx(3.0, abs=0.05)
    assert len(view["waveform"]) == 64
    body = alice.call("GET", f"/media/{view['id']}/voice", expect=200).content
    with av.open(io.BytesIO(body)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"


def test_video(alice: Api) -> None:
    view = upload_ready(alice, make_video(2), kind="video", filename="clip.mp4")
    assert view["state"] == "ready", view
    assert (view["width"], view["height"]) == (160, 120)
    assert view["duration"] == pytest.approx(2.0, abs=0.2)
    assert set(view["variants"]) == {"original", "poster", "strip", "low"}
    poster = alice.call("GET", f"/media/{view['id']}/poster", expect=200)
    assert Image.open(io.BytesIO(poster.content)).format == "WEBP"
    # The keyframe strip: one small frame per second of this short video, side by side.
    strip = Image.open(io.BytesIO(alice.call("GET", f"/media/{view['id']}/strip",
                                             expect=200).content))
    assert strip.format == "WEBP"
    assert strip.height == 90
    assert strip.width in (2 * 120, 3 * 120)


def test_a_long_video_keeps_a_strip_of_eight_frames_spread_over_it() -> None:
    strip = _Strip()
    for second in range(3600):
        strip.add(second, Image.new("RGB", (320, 180), (second // 15, 0, 0)))
    assert len(strip.frames) < 2 * STRIP_FRAMES  # thinned as it went
    picture = strip.image()
    assert (picture.width, picture.height) == (STRIP_FRAMES * 160, 90)
    first, last = picture.getpixel((5, 5)), picture.getpixel((picture.width - 5, 5))
    assert first == (0, 0, 0)  # the first second
    assert last[0] > 200  # type: ignore[index]  # an RGB pixel; a frame near the end


def test_file_keeps_bytes_and_a_safe_name(alice: Api) -> None:
    data = b"<html><script>alert(1)</script></html>"
    view = upload_ready(alice, data, kind="file", filename="../../etc/\x00evil\n.html")
    assert view["name"] == "evil .html"
    assert view["mime"] == "application/octet-stream"
    response = alice.call("GET", f"/media/{view['id']}/original", expect=200)
    assert response.content == data
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_hashes_are_stored_for_moderation(server: LiveServer, alice: Api) -> None:
    view = upload_ready(alice, png(128, 96), kind="photo")
    runtime = server.app.state.runtime

    async def hashes() -> list[dict[str, object]]:
        async with runtime.db.read() as conn:
            rows: list[dict[str, object]] = await runtime.stores.media.hashes(conn, view["id"])
            return rows

    rows = server.run_async(hashes())
    algos = {r["algo"] for r in rows}
    assert algos == {"md5", "sha256", "pdq"}
    pdq = next(r for r in rows if r["algo"] == "pdq")
    assert len(str(pdq["value"])) == 64
    assert isinstance(pdq["quality"], int)


def test_sticker_packs(alice: Api, bob: Api) -> None:
    packs = alice.ok("GET", "/sticker-packs")["packs"]
    default = packs[0]
    assert default["default"] is True
    assert len(default["stickers"]) >= 6
    first = default["stickers"][0]["media"]
    assert first["kind"] == "sticker"
    assert first["width"] <= 512
    assert first["height"] <= 512
    # Anyone may send a sticker of a pack, and the chat's members fetch it.
    chat = alice.direct(bob)
    message = _send(alice, chat["id"], first["id"], kind="sticker")
    assert message["kind"] == "sticker"
    body = bob.call("GET", f"/media/{first['id']}/sticker", expect=200).content
    assert Image.open(io.BytesIO(body)).format == "WEBP"
    # A pack of one's own: create, add, install by someone else.
    pack = alice.call("POST", "/sticker-packs", json={"title": "Mine"}, expect=201).json()
    sticker = upload_ready(alice, png(600, 600), kind="sticker")
    assert sticker["state"] == "ready", sticker
    pack = alice.ok("POST", f"/sticker-packs/{pack['id']}/stickers",
                    json={"media_id": sticker["id"], "emoji": "🟩"})
    assert [s["emoji"] for s in pack["stickers"]] == ["🟩"]
    assert pack["stickers"][0]["media"]["width"] == 512
    photo = upload_ready(alice, png(), kind="photo")
    response = alice.call("POST", f"/sticker-packs/{pack['id']}/stickers",
                          json={"media_id": photo["id"]})
    assert response.json()["error"]["code"] == "not_a_sticker"
    other = upload_ready(bob, png(), kind="sticker")
    bob.call("POST", f"/sticker-packs/{pack['id']}/stickers", json={"media_id": other["id"]},
             expect=403)
    assert [p["id"] for p in bob.ok("GET", "/sticker-packs")["packs"]] == [default["id"]]
    bob.call("POST", f"/sticker-packs/{pack['id']}/install", expect=204)
    assert [p["id"] for p in bob.ok("GET", "/sticker-packs")["packs"]] == [default["id"],
                                                                          pack["id"]]
    bob.call("DELETE", f"/sticker-packs/{pack['id']}/install", expect=204)
    bob.call("POST", "/sticker-packs/999999/install", expect=404)
    # Bob's own sticker that is in no pack is not sendable by alice.
    response = alice.call("POST", f"/chats/{chat['id']}/messages",
                          json={"client_id": new_client_id(), "media_id": other["id"]})
    assert response.status_code == 404


def test_avatars(alice: Api, bob: Api, carol: Api) -> None:
    avatar = upload_ready(alice, jpeg(300, 200), kind="avatar")
    assert avatar["state"] == "ready", avatar
    assert set(avatar["variants"]) == {"large", "small"}
    assert avatar["width"] == avatar["height"] == 200
    me = alice.ok("PUT", "/me/avatar", json={"media_id": avatar["id"]})
    assert me["avatar"] == avatar["id"]
    assert bob.ok("GET", f"/users/{alice.id}")["avatar"] == avatar["id"]
    bob.call("GET", f"/media/{avatar['id']}/small", expect=200)
    group = alice.group("g", [bob])
    chat_photo = upload_ready(alice, png(), kind="avatar")
    assert alice.ok("PUT", f"/chats/{group['id']}/avatar",
                    json={"media_id": chat_photo["id"]})["avatar"] == chat_photo["id"]
    bob_photo = upload_ready(bob, png(), kind="avatar")
    bob.call("PUT", f"/chats/{group['id']}/avatar", json={"media_id": bob_photo["id"]},
             expect=403)
    photo = upload_ready(alice, png(), kind="photo")
    response = alice.call("PUT", "/me/avatar", json={"media_id": photo["id"]})
    assert response.json()["error"]["code"] == "not_an_avatar"
    assert "avatar" not in alice.ok("DELETE", "/me/avatar")


def test_a_new_profile_photo_reaches_those_who_see_the_face(server: LiveServer, alice: Api,
                                                            bob: Api, carol: Api) -> None:
    """Bob (direct chat) and carol (group) hear of alice's photo; dave (channel subscriber
    only) does not; alice's own devices do."""
    dave = server.sign_up("Dave")
    direct = alice.direct(bob)
    group = alice.group("g", [carol])
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "c",
                                                "member_ids": [dave.id]})
    cursors = {api.id: api.sync()["cursor"] for api in (alice, bob, carol, dave)}
    photo = upload_ready(alice, jpeg(200, 200), kind="avatar")
    alice.ok("PUT", "/me/avatar", json={"media_id": photo["id"]})

    def heard(api: Api) -> list[dict[str, Any]]:
        events, _ = api.sync_all(cursors[api.id])
        return [e for e in events if e["type"] == "user.updated"]

    assert [(e.get("chat_id"), e["user"]["avatar"]) for e in heard(bob)] == [
        (direct["id"], photo["id"])]
    assert [e.get("chat_id") for e in heard(carol)] == [group["id"]]
    assert "phone" not in heard(carol)[0]["user"]
    assert heard(dave) == []
    assert {e.get("chat_id") for e in heard(alice)} >= {None, direct["id"], group["id"]}
    assert channel["id"] not in {e.get("chat_id") for e in heard(alice)}


def test_a_chat_photo_needs_the_right_change_info(alice: Api, bob: Api) -> None:
    group = alice.group("g", [bob])
    alice.call("PATCH", f"/chats/{group['id']}/members/{bob.id}", json={"role": "admin"},
               expect=204)
    alice.ok("PUT", f"/chats/{group['id']}/members/{bob.id}/rights", json={"rights": ["pin"]})
    photo = upload_ready(bob, png(), kind="avatar")
    denied = bob.call("PUT", f"/chats/{group['id']}/avatar", json={"media_id": photo["id"]},
                      expect=403)
    assert denied.json()["error"]["code"] == "missing_right"
    alice.ok("PUT", f"/chats/{group['id']}/members/{bob.id}/rights",
             json={"rights": ["change_info"]})
    chat = bob.ok("PUT", f"/chats/{group['id']}/avatar", json={"media_id": photo["id"]})
    assert chat["avatar"] == photo["id"]
    assert "avatar" not in bob.ok("DELETE", f"/chats/{group['id']}/avatar")


def test_media_send_over_the_socket(server: LiveServer, alice: Api, bob: Api) -> None:
    from tests.helpers import Socket

    chat = alice.direct(bob)
    media_id = upload(alice, make_wav(1.0), kind="voice")
    sock = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    assert sock.ready()["type"] == "ready"
    sock.send_json({"type": "send", "id": 3, "chat_id": chat["id"],
                    "client_id": new_client_id(), "media_id": media_id, "kind": "voice"})
    ack = sock.recv_until(lambda f: f["type"] == "ack", timeout=15)
    assert ack["id"] == 3
    assert ack["message"]["kind"] == "voice"
    assert len(ack["message"]["media"]["waveform"]) == 64
    sock.send_json({"type": "send", "id": 4, "chat_id": chat["id"],
                    "client_id": new_client_id(), "media_id": "missing"})
    error = sock.recv_until(lambda f: f["type"] == "error")
    assert (error["id"], error["error"]["code"]) == (4, "media_not_found")
    sock.close()


def test_processing_resumes_after_a_real_restart(database_url: str, tmp_path: object) -> None:
    """A server killed while media was processing: the next one takes the job over once
    the dead process's lease has run out, and finishes it."""
    import asyncio
    from pathlib import Path

    from darbuka.storage import Database, Stores
    from tests.conftest import make_server

    data_dir = Path(str(tmp_path))
    first = make_server(database_url, data_dir)
    user = first.sign_up("Restart")
    media_id = upload(user, png(), kind="photo")
    wait_until(lambda: user.ok("GET", f"/media/{media_id}")["state"] == "ready")
    first.thread.stop()

    async def as_if_interrupted() -> None:
        # What a kill mid-processing leaves: the row `processing`, the partial bytes
        # present, and its job taken by a process that is gone, the lease run out.
        db, stores = Database(database_url), Stores()
        async with db.write() as conn:
            await stores.media.update(conn, media_id, {"state": "processing",
                                                       "variants": None})
            await stores.jobs.add(conn, kind="media.process", key=f"media:{media_id}",
                                  payload={"media_id": media_id}, run_at=0, now=0)
            taken = await stores.jobs.take(conn, kind="media.process", limit=1, now=1,
                                           taker="a-killed-process", lease_until=2)
            assert len(taken) == 1
        await db.dispose()

    asyncio.run(as_if_interrupted())
    # As an earlier version left it: the upload's bytes as one file, adopted at start.
    (data_dir / "media" / "partial").mkdir(exist_ok=True)
    (data_dir / "media" / "partial" / media_id).write_bytes(png())
    second = make_server(database_url, data_dir)
    try:
        again = Api(second.url, user.token)
        view = wait_until(lambda: (v := again.ok("GET", f"/media/{media_id}"))["state"]
                          == "ready" and v)
        assert set(view["variants"]) == {"thumb", "screen", "original"}
        again.call("GET", f"/media/{media_id}/thumb", expect=200)
    finally:
        second.thread.stop()
