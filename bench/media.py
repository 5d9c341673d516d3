"""Media benchmark (one core): a 12-megapixel JPEG into every photo variant, and the size of
one minute of voice. Targets: photo ≤ 1.5 s with a thumbnail ≤ 10 KB; voice ≤ 240 KB.

The inputs are made here: a photo-like picture (smooth light, edges and sensor noise, so it
compresses like a camera JPEG, ~3-4 MB) and a minute of speech-like sound (voiced bursts with
pauses and noise). Processing runs in this thread, as one media worker would.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from darbuka.media.pipeline import Limits, process


def photo_12mp(seed: int = 1, orientation: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    height, width = 3000, 4000
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    light = 120 + 80 * np.sin(x / 700) * np.cos(y / 500)
    pixels = np.empty((height, width, 3), dtype=np.float32)
    for channel, phase in enumerate((0.0, 1.3, 2.6)):
        pixels[..., channel] = light + 40 * np.sin((x + y) / (90 + 30 * channel) + phase)
    pixels[(x // 400 + y // 300) % 2 == 0] *= 0.7  # hard edges
    pixels += rng.normal(0, 6, pixels.shape)  # sensor noise
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    exif = image.getexif()
    exif[0x010F] = "BenchCam"
    exif[0x0112] = orientation
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def speech_minute(rate: int = 48_000, seed: int = 2) -> bytes:
    rng = np.random.default_rng(seed)
    t = np.arange(60 * rate) / rate
    pitch = 140 + 30 * np.sin(2 * math.pi * 0.3 * t)
    voiced = sum(np.sin(2 * math.pi * k * np.cumsum(pitch) / rate) / k for k in range(1, 8))
    syllables = (np.sin(2 * math.pi * 4 * t) > -0.2) & (np.sin(2 * math.pi * 0.25 * t) > -0.6)
    signal = 0.25 * voiced * syllables + 0.02 * rng.normal(size=t.size)
    samples = (np.clip(signal, -1, 1) * 32767).astype("<i2").tobytes()
    header = (b"RIFF" + (36 + len(samples)).to_bytes(4, "little") + b"WAVEfmt "
              + (16).to_bytes(4, "little") + (1).to_bytes(2, "little")
              + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
              + (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little")
              + (16).to_bytes(2, "little") + b"data" + len(samples).to_bytes(4, "little"))
    return header + samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="photo runs (median is reported)")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    limits = Limits(max_pixels=50_000_000)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; measured on one core")
    with tempfile.TemporaryDirectory() as tmp:
        # Upright: the original loses its metadata losslessly. Rotated (EXIF orientation 6,
        # as phones write): the original must be decoded in full, turned and re-encoded.
        for label, orientation in (("upright", 1), ("rotated", 6)):
            photo = Path(tmp) / f"photo-{orientation}"
            photo.write_bytes(photo_12mp(orientation=orientation))
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                result = process("photo", photo, limits)
                times.append(time.perf_counter() - started)
            sizes = {name: len(v.data) for name, v in result.variants.items()}
            seconds = statistics.median(times)
            print(f"photo 12 MP {label} ({photo.stat().st_size / 1e6:.1f} MB JPEG): "
                  f"{seconds:.2f} s median of {len(times)} (target ≤ 1.5 s) "
                  f"{'OK' if seconds <= 1.5 else 'OVER'}")
            print(f"  thumb {sizes['thumb']} B (target ≤ 10,000) "
                  f"{'OK' if sizes['thumb'] <= 10_000 else 'OVER'}, screen {sizes['screen']} B,"
                  f" original {sizes['original']} B, thumbhash "
                  f"{len(result.info['thumbhash']) * 3 // 4} B")
        voice = Path(tmp) / "voice"
        voice.write_bytes(speech_minute())
        started = time.perf_counter()
        result = process("voice", voice, limits)
        took = time.perf_counter() - started
        size = len(result.variants["voice"].data)
        print(f"voice 60 s → Opus: {size} B in {took:.2f} s (target ≤ 240,000 B) "
              f"{'OK' if size <= 240_000 else 'OVER'}")


if __name__ == "__main__":
    main()
