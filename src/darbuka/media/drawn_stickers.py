"""The default sticker pack, drawn here with Pillow (no third-party art): simple, bold shapes."""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image, ImageDraw

__all__ = ["DEFAULT_PACK_TITLE", "drawn_stickers"]

DEFAULT_PACK_TITLE = "Darbuka"
SIZE = 512
YELLOW, DARK, RED, GREEN, WHITE = "#ffcc33", "#3b2a14", "#e8364f", "#2fb36b", "#ffffff"
Draw = ImageDraw.ImageDraw


def _canvas() -> tuple[Image.Image, Draw]:
    image = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    return image, ImageDraw.Draw(image)


def _face(mouth: Callable[[Draw], None]) -> Image.Image:
    image, draw = _canvas()
    draw.ellipse((32, 32, 480, 480), fill=YELLOW, outline=DARK, width=14)
    draw.ellipse((160, 170, 210, 250), fill=DARK)
    draw.ellipse((302, 170, 352, 250), fill=DARK)
    mouth(draw)
    return image


def _smile() -> Image.Image:
    return _face(lambda d: d.arc((140, 220, 372, 390), 20, 160, fill=DARK, width=18))


def _laugh() -> Image.Image:
    return _face(lambda d: d.chord((140, 230, 372, 410), 0, 180, fill=DARK))


def _sad() -> Image.Image:
    return _face(lambda d: d.arc((150, 320, 362, 460), 200, 340, fill=DARK, width=18))


def _heart() -> Image.Image:
    image, draw = _canvas()
    draw.ellipse((56, 96, 266, 306), fill=RED)
    draw.ellipse((246, 96, 456, 306), fill=RED)
    draw.polygon([(68, 240), (444, 240), (256, 456)], fill=RED)
    return image


def _star() -> Image.Image:
    image, draw = _canvas()
    points = []
    for i in range(10):
        radius = 230 if i % 2 == 0 else 95
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((256 + radius * math.cos(angle), 266 + radius * math.sin(angle)))
    draw.polygon(points, fill=YELLOW, outline=DARK, width=10)
    return image


def _sun() -> Image.Image:
    image, draw = _canvas()
    for i in range(12):
        angle = i * math.pi / 6
        inner, outer = 150, 240
        draw.line([(256 + inner * math.cos(angle), 256 + inner * math.sin(angle)),
                   (256 + outer * math.cos(angle), 256 + outer * math.sin(angle))],
                  fill="#ff9f1c", width=26)
    draw.ellipse((116, 116, 396, 396), fill=YELLOW)
    return image


def _check() -> Image.Image:
    image, draw = _canvas()
    draw.ellipse((32, 32, 480, 480), fill=GREEN)
    draw.line([(150, 270), (225, 345), (370, 180)], fill=WHITE, width=44, joint="curve")
    return image


def drawn_stickers() -> list[tuple[str, Image.Image]]:
    """(emoji, picture) pairs, in pack order."""
    return [("🙂", _smile()), ("😄", _laugh()), ("🙁", _sad()), ("❤️", _heart()),
            ("⭐", _star()), ("☀️", _sun()), ("✅", _check())]
