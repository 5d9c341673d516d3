"""The matcher on real photos: banked images are found again after the usual edits, and a
thousand unrelated images are not.

Photos are scikit-image's sample images (they ship inside the package) plus generated
ones; banking stores all eight rotations and flips, as a removal does.
"""

from __future__ import annotations

import io
import itertools
import random
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw

from darbuka.safety.matcher import BankRules, Entry, Matcher
from darbuka.safety.perceptual import pdq_dihedral, pdq_of

SAMPLES = ["astronaut", "camera", "coffee", "chelsea", "rocket", "immunohistochemistry",
           "hubble_deep_field", "coins"]
_rows = itertools.count(1)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "half size": lambda im: im.resize((im.width // 2, im.height // 2)),
    "jpeg q30": lambda im: _jpeg(im, 30),
    "greyscale": lambda im: im.convert("L"),
    "rotated 90": lambda im: im.transpose(Image.Transpose.ROTATE_90),
    "mirrored": lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    "all of them": lambda im: _jpeg(im.resize((im.width // 2, im.height // 2)).convert("L")
                                    .transpose(Image.Transpose.ROTATE_270), 30),
}


def generated(rng: random.Random, size: int) -> Image.Image:
    """A cheap but genuinely distinct picture: a gradient, noise and random shapes."""
    w, h = size, rng.randint(size * 3 // 4, size)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 6.28)
    base = (np.cos(angle) * x + np.sin(angle) * y) / max(w, h)
    rgb = np.stack([base * rng.uniform(50, 255) + rng.uniform(0, 100) for _ in range(3)], -1)
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, rng.uniform(0, 25), rgb.shape)
    image = Image.fromarray(np.clip(rgb + noise, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 12)):
        box = sorted(rng.sample(range(w), 2)) + sorted(rng.sample(range(h), 2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice([draw.ellipse, draw.rectangle])
        shape((box[0], box[2], box[1], box[3]), fill=colour)
        draw.line([(rng.randrange(w), rng.randrange(h)) for _ in range(3)],
                  fill=colour, width=rng.randint(1, 6))
    return image


def originals() -> Iterator[tuple[str, Image.Image]]:
    for name in SAMPLES:
        yield name, Image.fromarray(getattr(skimage.data, name)())
    rng = random.Random(7)
    for number in range(2):
        yield f"generated-{number}", generated(rng, 480)


@pytest.fixture(scope="module")
def bank() -> tuple[Matcher, list[tuple[str, Image.Image]]]:
    matcher = Matcher()
    matcher.set_banks([BankRules(1, "removals", action="refuse")])
    images = list(originals())
    for _name, image in images:
        matcher.apply(Entry(next(_rows), 1, "pdq", digest)
                      for digest, _quality in pdq_dihedral(image))
    assert matcher.pdq_size() == 8 * len(images)
    return matcher, images


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edited_reupload_of_a_banked_image_is_refused(
        bank: tuple[Matcher, list[tuple[str, Image.Image]]], edit: str) -> None:
    matcher, images = bank
    missed = []
    for name, image in images:
        digest, quality = pdq_of(EDITS[edit](image))
        verdict = matcher.check(pdq=[(digest, quality)])
        if verdict.action != "refuse":
            missed.append((name, quality))
        else:
            assert verdict.matches[0].distance <= 31
    assert not missed, f"{edit}: not refused: {missed}"


def test_a_thousand_unrelated_images_are_not_matched(
        bank: tuple[Matcher, list[tuple[str, Image.Image]]]) -> None:
    matcher, _ = bank
    rng = random.Random(2026)
    started = time.monotonic()
    hashes = [pdq_of(generated(rng, rng.choice([64, 96, 128]))) for _ in range(1000)]
    checked = [(h, q) for h, q in hashes if q >= 50]
    # The test means something only if most images are good enough to be checked at all.
    assert len(checked) >= 900, f"only {len(checked)} images had PDQ quality >= 50"
    assert len({h for h, _ in hashes}) == 1000, "generated images must all differ"
    verdict = matcher.check(pdq=hashes)
    assert verdict.matches == []
    assert verdict.action is None
    assert time.monotonic() - started < 60


def test_without_the_eight_transforms_a_rotated_copy_slips_through() -> None:
    """Why banking stores every rotation and flip: PDQ alone is not rotation-invariant."""
    matcher = Matcher()
    matcher.set_banks([BankRules(1, "originals-only", action="refuse")])
    images = list(originals())
    matcher.apply(Entry(next(_rows), 1, "pdq", pdq_of(image)[0]) for _, image in images)
    rotate = EDITS["rotated 90"]
    caught = [name for name, image in images
              if matcher.check(pdq=[pdq_of(rotate(image))]).action == "refuse"]
    assert len(caught) <= 1, caught


def test_removals_revivals_and_reused_row_ids() -> None:
    matcher = Matcher()
    matcher.set_banks([BankRules(1, "a", action="refuse"), BankRules(2, "b", action="review")])
    one, two = bytes(range(32)), bytes(range(100, 132))
    # Enough other hashes that one tombstone does not compact the index away.
    rng = random.Random(3)
    matcher.apply(Entry(100 + i, 2, "pdq", rng.randbytes(32)) for i in range(20))
    matcher.apply([Entry(10, 1, "pdq", one), Entry(11, 1, "md5", one[:16])])
    matcher.apply([Entry(10, 1, "pdq", one)])  # seen again by a poll: not added twice
    assert matcher.pdq_size() == 21
    matcher.apply([Entry(10, 1, "pdq", one, removed=True),
                   Entry(11, 1, "md5", one[:16], removed=True)])
    assert matcher.check(md5=one[:16], pdq=[(one, 100)]).matches == []
    matcher.apply([Entry(10, 1, "pdq", one)])
    assert matcher.check(pdq=[(one, 100)]).action == "refuse"
    # Bank "a" is deleted and its row id 10 handed to a different hash in bank "b".
    matcher.set_banks([BankRules(2, "b", action="review")])
    matcher.apply([Entry(10, 2, "pdq", two)])
    assert matcher.check(pdq=[(one, 100)]).matches == []
    verdict = matcher.check(pdq=[(two, 100)])
    assert (verdict.action, verdict.matches[0].banked_hash) == ("review", two.hex())
