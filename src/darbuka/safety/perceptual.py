"""PDQ hashes of images: one for checking an upload, all eight rotations and flips for
banking (PDQ is not rotation-invariant, so a bank holds every dihedral variant instead).

Hex follows the PDQ reference: the 256-bit number written as 64 hex digits, most
significant bit first — the form ThreatExchange, HMA and TCAP use.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pdqhash
from PIL import Image

__all__ = ["PdqHash", "bits_to_bytes", "pdq_dihedral", "pdq_of", "rgb_array"]

PdqHash = tuple[bytes, int]  # 32 bytes, quality 0..100

# Larger images are box-reduced by a whole factor before hashing: PDQ works on a 64x64 luma
# grid anyway, and hashing a 12-megapixel array directly costs ~3 s instead of a few ms for
# the same hash (± a few bits). Callers that decode JPEGs can do better still with
# `Image.draft("RGB", (1024, 1024))`, which scales inside the decoder almost for free.
HASH_MAX_SIDE = 512


def rgb_array(image: Image.Image | np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """An HxWx3 uint8 array, scaled to at most HASH_MAX_SIDE on the long side."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(_as_uint8(image))
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGB")
    factor = max(image.size) // HASH_MAX_SIDE
    if factor >= 2:
        image = image.reduce(factor)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image, dtype=np.uint8)


def _as_uint8(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype != np.uint8:
        if np.issubdtype(array.dtype, np.floating) and float(array.max(initial=0)) <= 1.0:
            array = array * 255
        array = np.clip(array, 0, 255).astype(np.uint8)
    result: np.ndarray[Any, Any] = array
    return result


def bits_to_bytes(bits: np.ndarray[Any, Any]) -> bytes:
    """pdqhash's bit vector (most significant bit first) as 32 bytes."""
    return bytes(np.packbits(bits.astype(np.uint8)).tobytes())


def pdq_of(image: Image.Image | np.ndarray[Any, Any]) -> PdqHash:
    bits, quality = pdqhash.compute(rgb_array(image))
    return bits_to_bytes(bits), int(quality)


def pdq_dihedral(image: Image.Image | np.ndarray[Any, Any]) -> list[PdqHash]:
    """The eight hashes (original, three rotations, four flips), each with the quality."""
    variants, quality = pdqhash.compute_dihedral(rgb_array(image))
    return [(bits_to_bytes(bits), int(quality)) for bits in variants]
