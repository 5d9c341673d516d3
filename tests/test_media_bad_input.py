"""Bad media: each gets a clear 4xx, nothing partial is left visible, memory stays bounded."""

from __future__ import annotations

import io
import resource
import socket
import struct
import zlib
from urllib.parse import urlsplit

import pytest

from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.media_helpers import (
    TUS,
    create_upload,
    jpeg,
    make_video,
    make_wav,
    patch,
    png,
    upload_ready,
)


def _png_bomb(side: int = 12_000) -> bytes:
    """A real PNG of side x side 1-bit pixels (144 MP) that is only a few KB on the wire."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)
    body = b"".join(packer.compress(row * 500) for _ in range(side // 500)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))


def _refused(server: LiveServer, api: Api, data: bytes, kind: str, code: str) -> None:
    view = upload_ready(api, data, kind=kind)
    assert view["state"] == "failed", view
    assert view["error"]["code"] == code
    media_id = view["id"]
    # Nothing of it can be fetched or sent, and no partial bytes stay behind.
    for variant in ("original", "thumb", "screen", "voice", "poster", "low"):
        api.call("GET", f"/media/{media_id}/{variant}", expect=404)
    chat = api.group("solo", [])
    response = api.call("POST", f"/chats/{chat['id']}/messages",
                        json={"client_id": new_client_id(), "media_id": media_id})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    uploads = server.app.state.services.uploads
    assert server.run_async(uploads.stored_parts(media_id)) == 0


def test_truncated_jpeg(server: LiveServer, alice: Api) -> None:
    data = jpeg(400, 300)
    _refused(server, alice, data[: len(data) // 2], "photo", "media_corrupt")


def test_corrupt_png(server: LiveServer, alice: Api) -> None:
    data = bytearray(png(200, 100))
    data[40:200] = b"\xff" * 160
    _refused(server, alice, bytes(data), "photo", "media_corrupt")


def test_decompression_bomb_is_refused_from_its_header(server: LiveServer, alice: Api) -> None:
    bomb = _png_bomb()
    assert len(bomb) < 100_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(server, alice, bomb, "photo", "image_too_large")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000  # decoding it would take 144 MB and more


def test_an_extension_that_lies(server: LiveServer, alice: Api) -> None:
    # A PDF called a JPEG: refused from its first bytes, while the rest is still to come.
    size = 5_000_000
    upload_id = create_upload(alice, size, kind="photo", filename="cat.jpg")
    host = urlsplit(server.url)
    with socket.create_connection((host.hostname, host.port)) as sock:
        sock.sendall((f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1\r\n"
                      f"Host: {host.netloc}\r\nAuthorization: Bearer {alice.token}\r\n"
                      "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
                      "Content-Type: application/offset+octet-stream\r\n"
                      f"Content-Length: {size}\r\n\r\n").encode()
                     + b"%PDF-1.4\n" + b"x" * 65_000)
        sock.settimeout(10)
        assert sock.recv(4096).startswith(b"HTTP/1.1 415")
    alice.call("HEAD", f"/uploads/{upload_id}", expect=404, headers=TUS)
    # A PNG called .jpg is still a photo: the bytes decide, and it says PNG.
    view = upload_ready(alice, png(), kind="photo", filename="cat.jpg")
    assert view["mime"] == "image/png"
    # Sound posing as a video.
    upload_id = create_upload(alice, 10_000, kind="video", filename="clip.mp4")
    assert patch(alice, upload_id, 0, make_wav(0.2)).status_code == 415


def test_zero_byte_upload(alice: Api) -> None:
    response = alice.call("POST", "/uploads/", headers={**TUS, "Upload-Length": "0"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty_upload"


def test_video_with_no_frames(server: LiveServer, alice: Api) -> None:
    _refused(server, alice, make_video(frames=False), "video", "no_frames")


def test_corrupt_video(server: LiveServer, alice: Api) -> None:
    data = make_video(1)
    _refused(server, alice, data[:200] + b"\0" * 300, "video", "media_corrupt")


@pytest.mark.parametrize("data", [b"OggS" + b"\x13" * 500, make_wav(0.5)[:44]])
def test_broken_voice(server: LiveServer, alice: Api, data: bytes) -> None:
    view = upload_ready(alice, data, kind="voice")
    assert view["state"] == "failed"
    assert view["error"]["code"] in ("media_corrupt", "no_audio")
    alice.call("GET", f"/media/{view['id']}/voice", expect=404)


def test_failed_uploads_do_not_count_against_the_quota_and_expire(
        server: LiveServer, alice: Api) -> None:
    view = upload_ready(alice, b"\xff\xd8\xff" + b"\0" * 100, kind="photo")
    assert view["state"] == "failed"
    services = server.app.state.services
    server.clock.advance(server.settings.upload_expiry_s + 1)
    assert server.run_async(services.uploads.do_expire()) == 1
    alice.call("GET", f"/media/{view['id']}", expect=404)


def test_pixel_limit_is_a_setting(database_url: str, tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import make_server

    srv = make_server(database_url, Path(str(tmp_path)), media_max_pixels=100 * 100)
    try:
        user = srv.sign_up("Pixels")
        assert upload_ready(user, png(100, 100), kind="photo")["state"] == "ready"
        view = upload_ready(user, png(101, 100), kind="photo")
        assert view["error"]["code"] == "image_too_large"
    finally:
        srv.thread.stop()


def test_heic_photo(alice: Api) -> None:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg(64, 48))).save(out, "HEIF")
    view = upload_ready(alice, out.getvalue(), kind="photo", filename="IMG.HEIC")
    assert view["state"] == "ready", view
    assert view["mime"] == "image/heic"
    original = alice.call("GET", f"/media/{view['id']}/original", expect=200)
    assert original.headers["content-type"] == "image/jpeg"  # what browsers can show
