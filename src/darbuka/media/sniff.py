"""Type sniffing: the type comes from the first bytes, never from a name or a Content-Type."""

from __future__ import annotations

__all__ = ["HEAD_BYTES", "KINDS", "accepts", "sniff"]

# Enough bytes to see every signature below (Matroska's doctype sits in the first ~40).
HEAD_BYTES = 64

KINDS = ("photo", "voice", "video", "sticker", "file", "avatar")

_IMAGES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic"})
_AUDIO = frozenset({"audio/ogg", "audio/webm", "audio/mp4", "audio/mpeg", "audio/wav",
                    "audio/aac", "audio/flac", "video/webm", "video/mp4"})
_VIDEO = frozenset({"video/mp4", "video/quicktime", "video/webm"})

# What each kind accepts. Voice takes MP4/WebM containers too: phones record voice into them,
# and processing then insists on an audio stream.
_ACCEPTS: dict[str, frozenset[str] | None] = {
    "photo": _IMAGES, "sticker": _IMAGES, "avatar": _IMAGES,
    "voice": _AUDIO, "video": _VIDEO, "file": None,
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"heim", b"heis", b"hevx", b"mif1", b"msf1"}
_MP4_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"F4A "}


def accepts(kind: str, mime: str) -> bool:
    allowed = _ACCEPTS[kind]
    return allowed is None or mime in allowed


def sniff(head: bytes) -> str:
    """The media type of a file from its first bytes; application/octet-stream if unknown."""
    simple = _simple(head)
    if simple:
        return simple
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska or WebM
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if _is_mp3_frame(head):
        return "audio/mpeg"
    return "application/octet-stream"


def _simple(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3"):
        return "audio/mpeg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if len(head) >= 2 and head[0] == 0xFF and head[1] in (0xF1, 0xF9):
        return "audio/aac"  # ADTS
    return None


def _iso_media(head: bytes) -> str:
    """ISO base media (MP4, MOV, M4A, HEIF): the major and compatible brands tell which."""
    size = int.from_bytes(head[0:4], "big")
    brands = {head[8:12]}
    end = min(size, len(head))
    brands |= {head[i:i + 4] for i in range(16, end - 3, 4)}
    major = head[8:12]
    if major in _HEIF_BRANDS or (major not in (b"isom", b"mp42") and brands & _HEIF_BRANDS):
        return "image/heic"
    if major == b"qt  ":
        return "video/quicktime"
    if major in _MP4_AUDIO_BRANDS:
        return "audio/mp4"
    return "video/mp4"


def _is_mp3_frame(head: bytes) -> bool:
    # MPEG audio frame sync (11 bits set), a valid layer and a bitrate index that is not "bad".
    return (len(head) >= 3 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
            and head[1] & 0x06 != 0 and head[2] & 0xF0 != 0xF0)
