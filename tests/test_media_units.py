"""Units of the media pipeline that need no server: sniffing, metadata stripping, ThumbHash,
file names, waveforms, the blob store."""

from __future__ import annotations

import asyncio
import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from darbuka.media.audio import encode_waveform
from darbuka.media.blobs import BlobStore, name_of
from darbuka.media.objects import FsObjectStore
from darbuka.media.sniff import accepts, sniff
from darbuka.media.strip import strip_jpeg, strip_png
from darbuka.media.thumbhash import thumbhash
from darbuka.services.uploads import sanitise_filename
from tests.media_helpers import jpeg, make_audio, make_video, make_wav, png


def _heif() -> bytes:
    from pillow_heif import register_heif_opener

    register_heif_opener()
    out = io.BytesIO()
    Image.open(io.BytesIO(jpeg())).save(out, "HEIF")
    return out.getvalue()


@pytest.mark.parametrize(("data", "mime"), [
    (jpeg(), "image/jpeg"), (png(), "image/png"), (b"GIF89a" + b"\0" * 20, "image/gif"),
    (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"), (make_wav(0.1), "audio/wav"),
    (b"OggS\0\2" + b"\0" * 30, "audio/ogg"), (b"ID3\4\0" + b"\0" * 20, "audio/mpeg"),
    (b"\xff\xfb\x90\x64" + b"\0" * 20, "audio/mpeg"), (b"\xff\xf1\x50\x80", "audio/aac"),
    (b"%PDF-1.7", "application/pdf"), (b"<html>", "application/octet-stream"),
    (b"", "application/octet-stream"), (make_video(1), "video/mp4"),
    (b"\0\0\0\x14ftypqt  \0\0\0\0qt  ", "video/quicktime"),
    (b"\0\0\0\x18ftypM4A \0\0\0\0M4A isom", "audio/mp4"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
])
def test_sniff(data: bytes, mime: str) -> None:
    assert sniff(data[:64]) == mime


def test_sniff_heif_and_what_kinds_accept() -> None:
    assert sniff(_heif()[:64]) == "image/heic"
    assert accepts("photo", "image/heic")
    assert not accepts("photo", "application/pdf")
    assert accepts("file", "application/pdf")
    assert accepts("voice", "audio/mp4")
    assert not accepts("video", "audio/mpeg")


def test_strip_jpeg_keeps_pixels_and_drops_exif() -> None:
    image = Image.open(io.BytesIO(jpeg(32, 32)))
    exif = image.getexif()
    exif[0x010F] = "Secret Camera"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"where I live")
    stripped = strip_jpeg(out.getvalue())
    assert b"Secret Camera" not in stripped
    assert b"where I live" not in stripped
    again = Image.open(io.BytesIO(stripped))
    assert not again.getexif()
    original = np.asarray(Image.open(io.BytesIO(out.getvalue())))
    assert np.array_equal(np.asarray(again), original)  # lossless: same pixels


def test_strip_png_drops_text_chunks() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "51.5N 0.1W")
    data = png(16, 16, pnginfo=info)
    assert b"51.5N" in data
    stripped = strip_png(data)
    assert b"51.5N" not in stripped
    assert Image.open(io.BytesIO(stripped)).size == (16, 16)


def test_thumbhash_matches_an_independent_encoder() -> None:
    rng = np.random.default_rng(1)
    pixels = (rng.random((75, 100, 3)) * 255).astype("uint8")
    encoded = base64.b64encode(thumbhash(Image.fromarray(pixels, "RGB"))).decode()
    assert encoded == "3wcCBYBlr4Z6hkl6ahholAcyAH0o"
    transparent = Image.new("RGBA", (40, 30), (255, 0, 0, 0))
    assert 20 <= len(thumbhash(transparent)) <= 30


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\me\\report.pdf", "report.pdf"),
    ("a\u202egnp.exe", "agnp.exe"), ("...", "file"), ("", "file"),
    ("  tabs\tand\nlines .txt ", "tabs and lines .txt"),
])
def test_sanitise_filename(name: str, safe: str) -> None:
    assert sanitise_filename(name) == safe


def test_long_filename_keeps_its_extension() -> None:
    name = sanitise_filename("x" * 500 + ".docx")
    assert name.endswith(".docx")
    assert len(name.encode()) <= 200


def test_waveform_levels() -> None:
    wave = encode_waveform([(100, 0.0)] * 32 + [(100, 1.0)] * 32)
    assert wave == "A" * 32 + "_" * 32
    assert encode_waveform([]) == "A" * 64


def test_blob_store_is_content_addressed_and_atomic(tmp_path: Path) -> None:
    async def check() -> None:
        objects = FsObjectStore(tmp_path)
        await objects.start()
        store = BlobStore(objects)
        key, size = await store.put_bytes(b"hello world")
        assert size == 11
        path = objects.path(name_of(key))
        assert path.relative_to(tmp_path).parts[:3] == ("blobs", key[:2], key[2:4])
        assert await store.put_bytes(b"hello world") == (key, 11)  # same bytes, same blob
        assert b"".join([c async for c in await store.open(key, 6, 11)]) == b"world"
        assert await store.size(key) == 11
        assert not list((tmp_path / "tmp").iterdir())  # no temporary files left
        await store.delete(key)
        assert await store.size(key) is None
        assert not (tmp_path / "blobs").exists()  # its empty folders went with it
        with pytest.raises(ValueError, match="hex"):
            name_of("../../etc/passwd")
        with pytest.raises(ValueError, match="object name"):
            objects.path("blobs/../../etc/passwd")

    asyncio.run(check())


@pytest.mark.parametrize(("fmt", "codec", "rate"), [
    ("ogg", "libopus", 48_000), ("webm", "libopus", 48_000), ("ipod", "aac", 44_100),
    ("mp3", "libmp3lame", 44_100), ("wav", "pcm_s16le", 16_000),
])
def test_voice_formats_become_opus(tmp_path: Path, fmt: str, codec: str, rate: int) -> None:
    from darbuka.media.pipeline import Limits, process

    path = tmp_path / "voice"
    path.write_bytes(make_audio(fmt, codec, rate))
    result = process("voice", path, Limits(max_pixels=1_000_000))
    assert result.info["duration"] == pytest.approx(1.0, abs=0.05)
    assert result.variants["voice"].data.startswith(b"OggS")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "HEIF"])
@pytest.mark.parametrize("kind", ["photo", "sticker", "avatar"])
def test_no_variant_keeps_metadata_and_all_are_upright(tmp_path: Path, fmt: str,
                                                       kind: str) -> None:
    from pillow_heif import register_heif_opener

    from darbuka.media.pipeline import Limits, process

    register_heif_opener()
    image = Image.open(io.BytesIO(png(64, 48))).convert("RGB")
    exif = image.getexif()
    exif[0x010F] = "SecretCam"
    exif[0x0112] = 6  # shown turned a quarter clockwise: 48 wide, 64 high
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    assert b"SecretCam" in out.getvalue()
    path = tmp_path / "upload"
    path.write_bytes(out.getvalue())
    result = process(kind, path, Limits(max_pixels=1_000_000))
    for name, variant in result.variants.items():
        assert b"SecretCam" not in variant.data, name
        assert b"Exif" not in variant.data, name
        shown = Image.open(io.BytesIO(variant.data))
        assert not shown.getexif(), name
        width, height = shown.size
        assert width < height or kind == "avatar", (name, shown.size)
