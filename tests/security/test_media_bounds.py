"""Media within bounds. Processing has limits (a review found a 1.15 MB GIF of 50,000
frames taking seconds of CPU, and no bound on a video's length or its processing time):
too many frames, too long, a frame too large or too slow to process is refused with a
code of its own. And: a Range header of thousands of digits is 416, not 500; a bot's upload
URL takes files over the general body limit (it has its own) and counts against the bot's
upload quota like any upload."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, new_client_id
from tests.media_helpers import make_video, make_wav, png, upload_ready


def many_frames_gif(frames: int, side: int = 200) -> bytes:
    """A GIF of `frames` frames, each repainting one pixel of a side-by-side canvas: 23 bytes
    a frame, and a full canvas to composite for each."""
    out = bytearray(b"GIF89a" + side.to_bytes(2, "little") * 2 + bytes([0x80, 0, 0]))
    out += bytes([0, 0, 0, 255, 255, 255])  # two colours
    out += b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop forever
    for n in range(frames):
        out += _gif_frame((n % side, (n // side) % side), (1, 1))
    return bytes(out + b";")


def _gif_frame(at: tuple[int, int], size: tuple[int, int]) -> bytes:
    control = b"!\xf9\x04\x00\x01\x00\x00\x00"  # shown for 1/100 s
    place = b"".join(n.to_bytes(2, "little") for n in (*at, *size))
    return control + b"," + place + b"\x00" + b"\x02\x02\x44\x01\x00"  # one pixel


def long_tiny_video(seconds: int) -> bytes:
    """Two frames of 16 by 16 pixels, `seconds` apart."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream: Any = container.add_stream("libx264", rate=1)
        stream.width = stream.height = 16
        stream.pix_fmt = "yuv420p"
        for pts in (0, seconds):
            frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
            frame.pts = pts
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


@pytest.fixture
def bounded(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    server = make_server(database_url, tmp_path, media_max_duration_s=2.0,
                         media_max_pixels=1_000_000)
    yield server
    server.thread.stop()


def _refused(api: Api, data: bytes, kind: str, code: str) -> dict[str, Any]:
    view = upload_ready(api, data, kind, f"x.{kind}")
    assert view["state"] == "failed", view
    assert view["error"]["code"] == code, view
    return view


def test_an_animation_of_50000_frames_is_refused_at_once(server: LiveServer,
                                                          alice: Api) -> None:
    gif = many_frames_gif(50_000)
    assert len(gif) < 1_200_000
    view = _refused(alice, gif, "photo", "media_too_complex")
    chat = alice.group("gifs", [])["id"]
    sent = alice.call("POST", f"/chats/{chat}/messages", json={
        "client_id": new_client_id(), "media_id": view["id"], "kind": "photo"})
    assert sent.status_code == 422, sent.text
    assert sent.json()["error"]["code"] == "media_too_complex"


def test_a_frame_larger_than_the_first_is_refused(bounded: LiveServer) -> None:
    alice = bounded.sign_up()
    gif = bytearray(many_frames_gif(1, side=10))[:-1]
    gif += _gif_frame((0, 0), (3000, 3000)) + b";"  # 9 MP, past the 1 MP limit
    _refused(alice, bytes(gif), "photo", "image_too_large")


def test_a_long_video_is_refused(server: LiveServer, alice: Api) -> None:
    _refused(alice, long_tiny_video(2 * 3600), "video", "media_too_long")


def test_a_long_voice_note_is_refused(bounded: LiveServer) -> None:
    alice = bounded.sign_up()
    _refused(alice, make_wav(3.0), "voice", "media_too_long")
    assert upload_ready(alice, make_wav(1.0), "voice", "short.wav")["state"] == "ready"


def test_processing_past_the_time_limit_is_refused(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, media_timeout_s=0.05)
    try:
        alice = server.sign_up()
        view = _refused(alice, make_video(seconds=3), "video", "media_too_complex")
        assert "longer than" in view["error"]["message"]
        # Nothing half-written is left beside the upload, nor of it.
        assert not list((tmp_path / "media" / "work").iterdir())
        assert not list((tmp_path / "media").glob("partial/*"))
    finally:
        server.thread.stop()


def test_a_range_of_thousands_of_digits_is_416(server: LiveServer, alice: Api) -> None:
    media = upload_ready(alice, png(), "photo", "p.png")
    url = f"/media/{media['id']}/thumb"
    huge = "9" * 5000
    past_end = alice.call("GET", url, headers={"Range": f"bytes={huge}-"})
    assert past_end.status_code == 416, past_end.text
    assert past_end.json()["error"]["code"] == "range_not_satisfiable"
    # A huge last position is the end of the file; a huge suffix is all of it.
    whole = alice.call("GET", url, expect=200).content
    assert alice.call("GET", url, headers={"Range": f"bytes=0-{huge}"},
                      expect=206).content == whole
    assert alice.call("GET", url, headers={"Range": f"bytes=-{huge}"},
                      expect=206).content == whole


def test_a_bot_uploads_a_file_over_the_body_limit(server: LiveServer) -> None:
    bot = make_bot(server, "Archivist")
    url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
    body = b"x" * (server.settings.max_body_bytes + 500_000)
    sent = httpx.post(url, files={"data": ("big.bin", body)}, timeout=60)
    assert sent.status_code == 200, sent.text
    assert sent.json()["token"]


def test_bot_uploads_count_against_the_quota(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, upload_quota_bytes=30_000)
    try:
        bot = make_bot(server, "Hoarder")
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        first = httpx.post(url, files={"data": ("one.bin", b"x" * 20_000)})
        assert first.status_code == 200, first.text
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        second = httpx.post(url, files={"data": ("two.bin", b"x" * 20_000)})
        assert second.status_code == 413, second.text
        assert second.json()["code"] == "too.large"
        assert "quota" in second.json()["message"]
    finally:
        server.thread.stop()
