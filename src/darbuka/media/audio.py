"""Voice notes: any common audio in, Opus in Ogg out (24 kbit/s mono), duration, waveform.

Decoding streams frame by frame, so memory stays flat whatever the length. Blocking code:
it runs in the media worker threads.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import av
import numpy as np

from darbuka.media.result import Limits, MediaRejected, Processed, Variant

__all__ = ["WAVEFORM_BARS", "encode_waveform", "process_voice"]

BIT_RATE = 24_000  # 60 s ≈ 180 KB: inside the 240 KB budget with room for Ogg framing
RATE = 48_000
WAVEFORM_BARS = 64
# One character per bar, level 0-63: compact inside a message and easy to draw.
_LEVELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def encode_waveform(peaks: list[tuple[int, float]]) -> str:
    """64 bars from (samples, peak) pairs, scaled so the loudest bar is level 63."""
    total = sum(n for n, _ in peaks)
    bars = [0.0] * WAVEFORM_BARS
    seen = 0
    for count, peak in peaks:
        bar = min(WAVEFORM_BARS - 1, seen * WAVEFORM_BARS // max(total, 1))
        bars[bar] = max(bars[bar], peak)
        seen += count
    loudest = max(bars) or 1.0
    return "".join(_LEVELS[round(63 * b / loudest)] for b in bars)


def process_voice(path: Path, mime: str, limits: Limits) -> Processed:
    out = io.BytesIO()
    peaks: list[tuple[int, float]] = []
    samples = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as source:
            if not source.streams.audio:
                raise MediaRejected("there is no sound in this file", code="no_audio")
            stream = source.streams.audio[0]
            if float(source.duration or 0) / av.time_base > limits.max_duration_s:
                raise _too_long(limits)
            with av.open(out, "w", format="ogg") as target:
                encoder: Any = target.add_stream("libopus", rate=RATE, options={
                    "application": "voip", "vbr": "constrained"})
                encoder.bit_rate = BIT_RATE
                encoder.layout = "mono"
                resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
                for frame in source.decode(stream):
                    for mono in resampler.resample(frame):
                        samples += _take(mono, peaks)
                        target.mux(encoder.encode(mono))
                    if samples > limits.max_duration_s * RATE:
                        raise _too_long(limits)
                for mono in resampler.resample(None):
                    samples += _take(mono, peaks)
                    target.mux(encoder.encode(mono))
                target.mux(encoder.encode(None))
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaRejected("the audio cannot be decoded", code="media_corrupt") from exc
    if samples == 0:
        raise MediaRejected("there is no sound in this file", code="no_audio")
    info = {"duration": round(samples / RATE, 2), "waveform": encode_waveform(peaks)}
    return Processed(mime=mime, info=info,
                     variants={"voice": Variant(out.getvalue(), "audio/ogg")})


def _too_long(limits: Limits) -> MediaRejected:
    return MediaRejected(f"a voice note may last at most {limits.max_duration_s:g} seconds",
                         code="media_too_long")


def _take(frame: av.AudioFrame, peaks: list[tuple[int, float]]) -> int:
    data = frame.to_ndarray()
    if data.size:
        peaks.append((frame.samples, float(np.abs(data.astype(np.float32)).max())))
    return int(frame.samples)
