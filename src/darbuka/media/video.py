"""Videos (MP4, WebM, MOV): duration, size, a poster (WebP + ThumbHash), PDQ of one frame per
second, a strip of keyframes (moderators look at it instead of playing the video), and a
low-bitrate variant for slow links (H.264 ≤ 480p, ~400 + 64 kbit/s). The original is kept as
sent. Blocking code: it runs in the media worker threads.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import Image

from darbuka.media.images import image_hashes, placeholder, webp
from darbuka.media.result import Hash, Limits, MediaRejected, Processed, Variant

__all__ = ["process_video"]

LOW_HEIGHT, LOW_WIDTH = 480, 854
VIDEO_BIT_RATE, AUDIO_BIT_RATE = 400_000, 64_000
POSTER_PX = 1280
# The keyframe strip: this many frames spread over the video, each this high, side by side.
STRIP_FRAMES, STRIP_HEIGHT = 8, 90


class _Strip:
    """Small copies of the per-second frames, thinned as the video goes on (every 2nd,
    4th, ... second) so that a long video keeps fewer than twice STRIP_FRAMES in memory."""

    def __init__(self) -> None:
        self.frames: list[Image.Image] = []
        self.every = 1

    def add(self, second: int, picture: Image.Image) -> None:
        if second % self.every:
            return
        small = picture.copy()
        small.thumbnail((STRIP_HEIGHT * 2, STRIP_HEIGHT))
        self.frames.append(small)
        if len(self.frames) >= 2 * STRIP_FRAMES:
            self.frames = self.frames[::2]
            self.every *= 2

    def image(self) -> Image.Image:
        """STRIP_FRAMES of the kept frames, evenly spread, first to last, in one row."""
        count = min(STRIP_FRAMES, len(self.frames))
        step = (len(self.frames) - 1) / max(1, count - 1)
        chosen = [self.frames[round(i * step)] for i in range(count)]
        strip = Image.new("RGB", (sum(f.width for f in chosen), max(f.height for f in chosen)))
        left = 0
        for frame in chosen:
            strip.paste(frame.convert("RGB"), (left, 0))
            left += frame.width
        return strip


def _low_size(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, LOW_HEIGHT / min(width, height), LOW_WIDTH / max(width, height))
    # H.264 in 4:2:0 wants even sides.
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


class _Low:
    """The low-bitrate MP4, written as frames are decoded."""

    def __init__(self, path: Path, width: int, height: int, rate: Fraction,
                 audio: bool) -> None:
        # A real file: moving the index to the front (faststart) re-reads what was written.
        self.path = path
        self.width, self.height = _low_size(width, height)
        self.container = av.open(str(path), "w", format="mp4",
                                 options={"movflags": "+faststart"})
        self.video: Any = self.container.add_stream("libx264", rate=rate, options={
            "preset": "veryfast", "profile": "main"})
        self.video.width, self.video.height = self.width, self.height
        self.video.pix_fmt = "yuv420p"
        self.video.bit_rate = VIDEO_BIT_RATE
        self.audio: Any = None
        if audio:
            self.audio = self.container.add_stream("aac", rate=44_100)
            self.audio.bit_rate = AUDIO_BIT_RATE
            self.audio.layout = "stereo"
            self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=44_100)

    def add_video(self, frame: av.VideoFrame) -> None:
        small = frame.reformat(width=self.width, height=self.height, format="yuv420p")
        small.pts, small.time_base = frame.pts, frame.time_base
        self.container.mux(self.video.encode(small))

    def add_audio(self, frame: av.AudioFrame) -> None:
        for chunk in self.resampler.resample(frame):
            self.container.mux(self.audio.encode(chunk))

    def close(self) -> Path:
        self.container.mux(self.video.encode(None))
        if self.audio is not None:
            self.container.mux(self.audio.encode(None))
        self.container.close()
        return self.path


def process_video(path: Path, mime: str, limits: Limits) -> Processed:
    try:
        return _process(path, mime, limits)
    except BaseException as exc:
        path.with_name(path.name + ".low.mp4").unlink(missing_ok=True)
        if isinstance(exc, av.FFmpegError | ValueError | OSError):
            raise MediaRejected("the video cannot be decoded", code="media_corrupt") from exc
        raise


def _process(path: Path, mime: str, limits: Limits) -> Processed:
    with av.open(str(path), metadata_errors="ignore") as source:
        if not source.streams.video:
            raise MediaRejected("there is no picture in this video", code="no_frames")
        video = source.streams.video[0]
        width, height = video.codec_context.width, video.codec_context.height
        if width * height > limits.max_pixels or not width or not height:
            raise MediaRejected("the video frame is too large", code="image_too_large")
        _check_seconds(float(source.duration or 0) / av.time_base, limits)
        video.thread_type = "AUTO"
        audio = source.streams.audio[0] if source.streams.audio else None
        low = _Low(path.with_name(path.name + ".low.mp4"), width, height,
                   video.average_rate or Fraction(30), audio is not None)
        poster: Any = None
        strip = _Strip()
        hashes: list[Hash] = []
        last = 0.0
        next_second = 0
        decoded = 0
        streams = [s for s in (video, audio) if s is not None]
        for packet in source.demux(streams):
            for frame in packet.decode():
                if isinstance(frame, av.AudioFrame):
                    low.add_audio(frame)
                    continue
                if not isinstance(frame, av.VideoFrame):
                    continue
                decoded += 1
                _check_frame(frame, decoded, limits)
                seconds = float(frame.time or 0.0)
                last = max(last, seconds)
                _check_seconds(last, limits)
                if poster is None or seconds >= next_second:
                    picture = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it untyped
                    if poster is None:
                        poster = picture
                    hashes += image_hashes(picture, frame=int(seconds))
                    strip.add(int(seconds), picture)
                    next_second = int(seconds) + 1
                low.add_video(frame)
        if poster is None:
            raise MediaRejected("the video has no frames", code="no_frames")
        low_path = low.close()
        duration = max(last, float(source.duration or 0) / av.time_base)
    poster.thumbnail((POSTER_PX, POSTER_PX))
    info = {"width": width, "height": height, "duration": round(duration, 2),
            "thumbhash": placeholder(poster)}
    # The poster's own PDQ is the first frame's, already in `hashes` at second 0.
    variants = {"poster": Variant(webp(poster, 75), "image/webp"),
                "strip": Variant(webp(strip.image(), 70), "image/webp"),
                "low": Variant(b"", "video/mp4", path=low_path)}
    return Processed(mime=mime, info=info, variants=variants, hashes=hashes, keep_upload=True)


def _check_seconds(seconds: float, limits: Limits) -> None:
    """The header's duration first, then each frame's time (a header can lie)."""
    if seconds > limits.max_duration_s:
        raise MediaRejected(f"a video may last at most {limits.max_duration_s:g} seconds",
                            code="media_too_long")


def _check_frame(frame: av.VideoFrame, decoded: int, limits: Limits) -> None:
    """Every decoded frame within the pixel limit (a stream may change size midway), and
    not more frames than a video may have."""
    if frame.width * frame.height > limits.max_pixels:
        raise MediaRejected("a video frame is too large", code="image_too_large")
    if decoded > limits.max_video_frames:
        raise MediaRejected(f"a video may have at most {limits.max_video_frames} frames",
                            code="media_too_complex")
