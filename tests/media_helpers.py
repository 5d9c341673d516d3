"""Tus uploads and real media files made on the spot (Pillow, PyAV) for the media tests."""

from __future__ import annotations

import base64
import io
import math
from typing import Any

import av
import numpy as np
from PIL import Image

from tests.helpers import Api, wait_until

__all__ = ["TUS", "create_upload", "jpeg", "make_audio", "make_video", "make_wav", "patch", "png",
           "upload", "upload_ready"]

TUS = {"Tus-Resumable": "1.0.0"}


def create_upload(api: Api, length: int, kind: str = "file", filename: str = "x.bin") -> str:
    meta = f"kind {base64.b64encode(kind.encode()).decode()},filename " \
           f"{base64.b64encode(filename.encode()).decode()}"
    response = api.call("POST", "/uploads/", expect=201, headers={
        **TUS, "Upload-Length": str(length), "Upload-Metadata": meta})
    location = response.headers["location"]
    assert location.startswith("/api/v1/uploads/")
    return location.rsplit("/", 1)[1]


def patch(api: Api, upload_id: str, offset: int, data: bytes, **headers: str) -> Any:
    return api.call("PATCH", f"/uploads/{upload_id}", content=data, headers={
        **TUS, "Upload-Offset": str(offset),
        "Content-Type": "application/offset+octet-stream", **headers})


def upload(api: Api, data: bytes, kind: str = "file", filename: str = "x.bin") -> str:
    upload_id = create_upload(api, len(data), kind, filename)
    response = patch(api, upload_id, 0, data)
    assert response.status_code == 204, response.text
    assert response.headers["upload-offset"] == str(len(data))
    return upload_id


def upload_ready(api: Api, data: bytes, kind: str = "file",
                 filename: str = "x.bin") -> dict[str, Any]:
    """Upload and wait until processing is over (ready or failed)."""
    media_id = upload(api, data, kind, filename)
    return dict(wait_until(lambda: _settled(api, media_id), timeout=30,
                           message="media processed"))


def _settled(api: Api, media_id: str) -> dict[str, Any] | None:
    view: dict[str, Any] = api.ok("GET", f"/media/{media_id}")
    return view if view["state"] in ("ready", "failed") else None


def png(width: int = 64, height: int = 48, **save: Any) -> bytes:
    return _encode(_picture(width, height), "PNG", **save)


def jpeg(width: int = 64, height: int = 48, **save: Any) -> bytes:
    return _encode(_picture(width, height), "JPEG", **save)


def _picture(width: int, height: int) -> Image.Image:
    """A picture with structure (gradients and a disc), so PDQ has something to see."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    r = np.broadcast_to(x, (height, width))
    g = np.broadcast_to(y, (height, width))
    cy, cx = height / 2, width / 2
    yy, xx = np.mgrid[0:height, 0:width]
    b = np.where((yy - cy) ** 2 + (xx - cx) ** 2 < (min(width, height) / 3) ** 2, 230, 20)
    pixels = np.stack([r, g, b.astype(np.float32)], axis=-1).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _encode(image: Image.Image, fmt: str, **save: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def make_wav(seconds: float = 1.0, rate: int = 16_000) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (0.3 * np.sin(2 * math.pi * 440 * t) * (0.5 + 0.5 * np.sin(2 * math.pi * t)))
    samples = (tone * 32767).astype("<i2").tobytes()
    header = (b"RIFF" + (36 + len(samples)).to_bytes(4, "little") + b"WAVEfmt "
              + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
              + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
              + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little")
              + (16).to_bytes(2, "little") + b"data" + len(samples).to_bytes(4, "little"))
    return header + samples


def make_video(seconds: int = 2, fps: int = 10, size: tuple[int, int] = (160, 120),
               fmt: str = "mp4", frames: bool = True) -> bytes:
    """A clip with moving pictures; `frames=False`: an MP4 with sound and not one frame."""
    out = io.BytesIO()
    if not frames:
        return _sound_only_mp4()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream("libx264" if fmt != "webm" else "libvpx", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if frames:
            for i in range(seconds * fps):
                picture = _picture(*size).rotate(i * 7)
                frame = av.VideoFrame.from_image(picture)
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def _sound_only_mp4() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=16_000)
        stream.layout = "mono"
        samples = np.zeros((1, 16_000), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16_000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def make_audio(fmt: str, codec: str, rate: int = 48_000, seconds: float = 1.0) -> bytes:
    """A tone in any container/codec PyAV writes (ogg/libopus, webm, ipod/aac, mp3...)."""
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        data = (0.3 * np.sin(2 * math.pi * 300 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
