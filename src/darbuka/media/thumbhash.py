"""ThumbHash encoder (after Evan Wallace's reference, MIT): a ~25-byte placeholder image.

Written here with numpy rather than taken from a package: the encoder is fifty lines, and the
DCT as two matrix products is fast enough for the 100x100 input.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

__all__ = ["thumbhash"]


def thumbhash(image: Image.Image) -> bytes:
    """Hash of an RGB or RGBA image; it is scaled down to fit 100x100 first."""
    small = image.convert("RGBA")
    small.thumbnail((100, 100), Image.Resampling.BILINEAR)
    rgba = np.asarray(small, dtype=np.float64) / 255.0
    h, w = rgba.shape[:2]
    alpha = rgba[..., 3]
    total_alpha = float(alpha.sum())
    avg = ((rgba[..., :3] * alpha[..., None]).sum(axis=(0, 1)) / total_alpha
           if total_alpha else np.zeros(3))
    has_alpha = total_alpha < w * h
    l_limit = 5 if has_alpha else 7
    lx = max(1, _round(l_limit * w / max(w, h)))
    ly = max(1, _round(l_limit * h / max(w, h)))
    rgb = avg * (1 - alpha[..., None]) + alpha[..., None] * rgba[..., :3]
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    l_dc, l_ac, l_scale = _encode_channel((r + g + b) / 3, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel((r + g) / 2 - b, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(r - g, 3, 3)
    channels = [l_ac, p_ac, q_ac]
    landscape = w > h
    header24 = (_round(63 * l_dc) | (_round(31.5 + 31.5 * p_dc) << 6)
                | (_round(31.5 + 31.5 * q_dc) << 12) | (_round(31 * l_scale) << 18)
                | (int(has_alpha) << 23))
    header16 = ((ly if landscape else lx) | (_round(63 * p_scale) << 3)
                | (_round(63 * q_scale) << 9) | (int(landscape) << 15))
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16,
           header16 & 255, header16 >> 8]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(alpha, 5, 5)
        out.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        channels.append(a_ac)
    factors = [f for ac in channels for f in ac]
    packed = bytearray((len(factors) + 1) // 2)
    for index, f in enumerate(factors):
        packed[index >> 1] |= _round(15 * f) << ((index & 1) << 2)
    return bytes(out) + bytes(packed)


def _round(value: float) -> int:
    """JavaScript's Math.round (halves go up), as the reference encoder rounds."""
    return math.floor(value + 0.5)


def _encode_channel(channel: np.ndarray, nx: int, ny: int) -> tuple[float, list[float], float]:
    h, w = channel.shape
    fx = np.cos(math.pi / w * np.outer(np.arange(nx), np.arange(w) + 0.5))
    fy = np.cos(math.pi / h * np.outer(np.arange(ny), np.arange(h) + 0.5))
    coefficients = fy @ channel @ fx.T / (w * h)  # [cy, cx]
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            f = float(coefficients[cy, cx])
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale
