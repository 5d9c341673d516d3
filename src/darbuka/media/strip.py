"""Lossless metadata removal for JPEG and PNG originals: drop the blocks, keep the pixels.

Kept: what decoding and colour need (JPEG APP0 JFIF, APP2 ICC, APP14 Adobe; PNG critical
chunks, iCCP, sRGB, gAMA, cHRM, tRNS, pHYs...). Dropped: EXIF (with GPS), XMP, IPTC,
comments and text chunks.
"""

from __future__ import annotations

import struct

__all__ = ["StripError", "strip_jpeg", "strip_png"]

_JPEG_KEEP_APP = {0xE0, 0xE2, 0xEE}
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


class StripError(ValueError):
    """The file's block structure is broken."""


def strip_jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise StripError("not a JPEG")
    out = bytearray(data[:2])
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            raise StripError("broken JPEG segment")
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            out += data[i:]
            return bytes(out)
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise StripError("truncated JPEG segment")
        dropped = (0xE1 <= marker <= 0xEF and marker not in _JPEG_KEEP_APP) or marker == 0xFE
        if not dropped:
            out += data[i:end]
        i = end
    raise StripError("JPEG without image data")


def strip_png(data: bytes) -> bytes:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise StripError("not a PNG")
    out = bytearray(data[:8])
    i = 8
    while i + 12 <= len(data):
        length = struct.unpack(">I", data[i:i + 4])[0]
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise StripError("truncated PNG chunk")
        if kind not in _PNG_DROP:
            out += data[i:end]
        if kind == b"IEND":
            return bytes(out)
        i = end
    raise StripError("PNG without IEND")
