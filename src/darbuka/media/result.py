"""What processing hands back: variants to store, what messages carry, hashes for safety."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darbuka.errors import ApiError

__all__ = ["Hash", "Limits", "MediaRejected", "Processed", "Variant"]


class MediaRejected(ApiError):
    """The bytes are not acceptable media of the kind declared (corrupt, too big, wrong)."""

    status = 422
    code = "media_invalid"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may cost to process (the `media_max_*` settings)."""

    # Pixels of an image or of any decoded frame; an animation's frames together 4 times it.
    max_pixels: int
    # Frames of an animated image (GIF, WebP, PNG).
    max_frames: int = 1_000
    # Seconds of a video or a voice note, and frames of a video.
    max_duration_s: float = 3_600
    max_video_frames: int = 216_000


@dataclass(frozen=True, slots=True)
class Variant:
    data: bytes
    mime: str
    # Large variants (video) stay in a file beside the upload instead of memory; the
    # service stores it and deletes the file.
    path: Path | None = None


@dataclass(frozen=True, slots=True)
class Hash:
    algo: str  # md5 | sha256 | pdq
    value: str  # hex
    quality: int | None = None
    frame: int | None = None  # second of a video; None for the whole file or a still


@dataclass(slots=True)
class Processed:
    mime: str
    # Carried in messages: sizes, duration, ThumbHash (base64), waveform...
    info: dict[str, Any] = field(default_factory=dict)
    # Served variants by name. "original" is absent when the upload itself is served as is.
    variants: dict[str, Variant] = field(default_factory=dict)
    hashes: list[Hash] = field(default_factory=list)
    # Serve the uploaded file itself as "original" (files, and media kept as sent).
    keep_upload: bool = False
