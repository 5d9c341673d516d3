"""One entry point for processing an upload by its kind. Blocking: runs in a worker thread."""

from __future__ import annotations

from pathlib import Path

from darbuka.media.files import file_hashes, head_of, process_file
from darbuka.media.result import Limits, MediaRejected, Processed
from darbuka.media.sniff import accepts, sniff

__all__ = ["Limits", "process"]


def process(kind: str, path: Path, limits: Limits) -> Processed:
    mime = sniff(head_of(path))
    if not accepts(kind, mime):
        raise MediaRejected(f"this is {mime}, which a {kind} cannot be",
                            code="unsupported_media_type")
    if kind in ("photo", "sticker", "avatar"):
        from darbuka.media.images import process_image

        result = process_image(kind, path, mime, limits)
    elif kind == "voice":
        from darbuka.media.audio import process_voice

        result = process_voice(path, mime, limits)
    elif kind == "video":
        from darbuka.media.video import process_video

        result = process_video(path, mime, limits)
    else:
        result = process_file(path)
    result.hashes[:0] = file_hashes(path)
    return result
