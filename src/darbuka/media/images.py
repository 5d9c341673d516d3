"""Photos, stickers and avatars: decode within limits, orient, strip metadata, make variants,
ThumbHash and PDQ. Blocking code: it runs in the media worker threads.
"""

from __future__ import annotations

import base64
import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
from PIL import Image, ImageOps

from darbuka.media.result import Hash, Limits, MediaRejected, Processed, Variant
from darbuka.media.strip import StripError, strip_jpeg, strip_png
from darbuka.media.thumbhash import thumbhash

__all__ = ["image_hashes", "open_limited", "pdq", "process_image", "webp"]

THUMB_PX, SCREEN_PX, STICKER_PX, AVATAR_PX, AVATAR_SMALL_PX = 320, 1280, 512, 640, 160
THUMB_MAX_BYTES = 10_000
_heif_ready = False


def _register_heif() -> None:
    global _heif_ready  # one registration per process
    if not _heif_ready:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_ready = True


def open_limited(source: Path | io.BytesIO, mime: str, limits: Limits) -> Image.Image:
    """Open an image, refusing it from its headers alone when it has too many pixels or
    frames (reading an animation's frame headers decodes no pixels)."""
    max_pixels = limits.max_pixels
    if mime == "image/heic":
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(source)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard (its limit is above ours unless an operator raised ours).
        raise MediaRejected("the image has too many pixels", code="image_too_large") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaRejected("the image cannot be read", code="media_corrupt") from exc
    width, height = image.size
    try:
        frames = int(getattr(image, "n_frames", 1))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaRejected("the image cannot be read", code="media_corrupt") from exc
    if frames > limits.max_frames:
        raise MediaRejected(f"an animation may have at most {limits.max_frames} frames",
                            code="media_too_complex")
    if width * height > max_pixels or width * height * frames > 4 * max_pixels:
        raise MediaRejected(f"the image has more than {max_pixels} pixels",
                            code="image_too_large")
    if frames > 1:
        _check_frames(image, frames, max_pixels)
    return image


def _check_frames(image: Image.Image, frames: int, max_pixels: int) -> None:
    """Each frame of an animation within the pixel limit (a frame may be larger than the
    first), read from the frame headers; then back to the first frame."""
    try:
        for number in range(frames):
            image.seek(number)
            width, height = image.size
            if width * height > max_pixels:
                raise MediaRejected(f"a frame has more than {max_pixels} pixels",
                                    code="image_too_large")
        image.seek(0)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaRejected("the image cannot be read", code="media_corrupt") from exc


def _decoded(image: Image.Image, draft_px: int | None = None) -> Image.Image:
    """Decode (JPEG at a reduced scale when that still gives `draft_px`), orient, to RGB(A)."""
    try:
        if draft_px and image.format == "JPEG":
            w, h = image.size
            scale = draft_px / max(w, h)
            if scale < 1:
                image.draft("RGB", (int(w * scale) + 1, int(h * scale) + 1))
        image.load()
        oriented = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise MediaRejected("the image is truncated or corrupt", code="media_corrupt") from exc
    has_alpha = oriented.mode in ("RGBA", "LA", "PA") or "transparency" in oriented.info
    return oriented.convert("RGBA" if has_alpha else "RGB")


def _fit(image: Image.Image, px: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((px, px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return copy


def webp(image: Image.Image, quality: int, **extra: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, "WEBP", quality=quality, method=4, **extra)
    return out.getvalue()


def _thumb(image: Image.Image) -> bytes:
    small = _fit(image, THUMB_PX)
    data = b""
    for quality in (60, 45, 30, 20):
        data = webp(small, quality)
        if len(data) <= THUMB_MAX_BYTES:
            break
    return data


def pdq(image: Image.Image) -> tuple[str, int]:
    """PDQ hash (64 hex digits) and quality (0-100) of an image as it is shown."""
    rgb = np.ascontiguousarray(np.asarray(_fit(image, 512).convert("RGB")))
    bits, quality = pdqhash.compute(rgb)
    value = int("".join("1" if b else "0" for b in bits), 2)
    return f"{value:064x}", int(quality)


def image_hashes(image: Image.Image, frame: int | None = None) -> list[Hash]:
    value, quality = pdq(image)
    return [Hash("pdq", value, quality, frame)]


def placeholder(image: Image.Image) -> str:
    return base64.b64encode(thumbhash(image)).decode()


def process_image(kind: str, path: Path, mime: str, limits: Limits) -> Processed:
    image = open_limited(path, mime, limits)
    if kind == "sticker":
        return _sticker(_decoded(image, STICKER_PX), mime)
    if kind == "avatar":
        return _avatar(_decoded(image, AVATAR_PX), mime)
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size  # before a reduced-scale decode changes it
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    shown = _decoded(image, SCREEN_PX)
    info = {"width": width, "height": height, "thumbhash": placeholder(shown)}
    variants = {"thumb": Variant(_thumb(shown), "image/webp"),
                "screen": Variant(webp(_fit(shown, SCREEN_PX), 80), "image/webp"),
                "original": _original(path, mime, orientation, limits)}
    return Processed(mime=mime, info=info, variants=variants, hashes=image_hashes(shown))


def _original(path: Path, mime: str, orientation: int, limits: Limits) -> Variant:
    """The original as sent, minus its metadata: losslessly when the format allows.

    An orientation tag cannot survive without EXIF, so a rotated image is turned upright
    and re-encoded instead (PNG stays lossless; JPEG and HEIC become JPEG at quality 92)."""
    data = path.read_bytes()
    try:
        if mime == "image/jpeg" and orientation == 1:
            return Variant(strip_jpeg(data), mime)
        if mime == "image/png" and orientation == 1:
            return Variant(strip_png(data), mime)
    except StripError as exc:
        raise MediaRejected("the image is corrupt", code="media_corrupt") from exc
    image = open_limited(io.BytesIO(data), mime, limits)
    if mime == "image/gif":
        out = io.BytesIO()
        image.info.pop("comment", None)
        image.save(out, "GIF", save_all=True)
        return Variant(out.getvalue(), "image/gif")
    full = _decoded(image)
    if mime == "image/png":  # turned upright, still lossless
        out = io.BytesIO()
        full.save(out, "PNG", icc_profile=image.info.get("icc_profile"))
        return Variant(out.getvalue(), mime)
    if mime == "image/webp" or full.mode == "RGBA":
        return Variant(webp(full, 90), "image/webp")
    out = io.BytesIO()
    # Rotated JPEGs and HEIC (which browsers cannot show) become a high-quality JPEG.
    full.save(out, "JPEG", quality=92, icc_profile=image.info.get("icc_profile"))
    return Variant(out.getvalue(), "image/jpeg")


def _sticker(image: Image.Image, mime: str) -> Processed:
    big = _fit(image, STICKER_PX)
    variants = {"sticker": Variant(webp(big, 85), "image/webp"),
                "thumb": Variant(webp(_fit(image, 128), 70), "image/webp")}
    info = {"width": big.width, "height": big.height, "thumbhash": placeholder(big)}
    return Processed(mime=mime, info=info, variants=variants, hashes=image_hashes(image))


def _avatar(image: Image.Image, mime: str) -> Processed:
    side = min(image.size)
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS)
    large = _fit(square, AVATAR_PX)
    variants = {"large": Variant(webp(large, 82), "image/webp"),
                "small": Variant(webp(_fit(square, AVATAR_SMALL_PX), 75), "image/webp")}
    info = {"width": large.width, "height": large.height, "thumbhash": placeholder(large)}
    return Processed(mime=mime, info=info, variants=variants, hashes=image_hashes(square))
