"""PDQ matching cost: lookup latency with a million hashes banked, and what hashing and
matching add to processing a 12-megapixel photo. One core (faiss threads set to 1).

    .venv/bin/python bench/pdq.py [--hashes 1000000] [--queries 2000]

Targets (issue 7): lookup p99 <= 2 ms at 1M hashes; <= 50 ms added per 12-MP photo.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import resource
import time
from collections.abc import Callable

import faiss
import numpy as np
from PIL import Image

from darbuka.safety.matcher import BankRules, Entry, Matcher
from darbuka.safety.perceptual import pdq_dihedral, pdq_of


def percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    return (f"p50 {np.percentile(ms, 50):.3f} ms, p99 {np.percentile(ms, 99):.3f} ms, "
            f"max {ms.max():.3f} ms")


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def lookups(size: int, queries: int) -> Matcher:
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    matcher = Matcher()
    matcher.set_banks([BankRules(1, "big", action="refuse"), BankRules(2, "strict",
                                                                      pdq_threshold=20)])
    started = time.perf_counter()
    for start in range(0, size, 100_000):
        block = codes[start:start + 100_000]
        matcher.apply(Entry(start + i + 1, 1 + (i % 2), "pdq", row.tobytes())
                      for i, row in enumerate(block))
    print(f"loaded {size:,} PDQ hashes in {time.perf_counter() - started:.1f} s")

    # Half the queries are banked hashes with 10 bits flipped (must match), half random.
    near = codes[rng.integers(0, size, queries // 2)].copy()
    for row in near:
        bits = rng.choice(256, 10, replace=False)
        for bit in bits:
            row[bit // 8] ^= 1 << (bit % 8)
    far = rng.integers(0, 256, (queries - len(near), 32), dtype=np.uint8)
    found = 0
    samples, cpu = [], []
    for row in [*near, *far]:
        query = [(row.tobytes(), 90)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        verdict = matcher.check(pdq=query)
        samples.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        found += bool(verdict.matches)
    print(f"Matcher.check, one PDQ per call, {queries} calls: {percentiles(samples)}")
    # CPU time of this thread alone: what the lookup costs when the core is not shared.
    print(f"  CPU time per call: {percentiles(cpu)}")
    print(f"  matched {found} (expected {len(near)}: the near ones)")
    # The same lookups straight on a faiss index, to tell our overhead from faiss's (and
    # from other work on a shared machine: both runs see the same noise).
    index = faiss.IndexBinaryFlat(256)
    index.add(codes)
    raw = timed_each(lambda q: index.range_search(q, 32), [*near, *far])
    print(f"faiss range_search alone, same queries: {percentiles(raw)}")
    return matcher


def timed_each(fn: Callable[[np.ndarray], object], rows: list[np.ndarray]) -> list[float]:
    out = []
    for row in rows:
        query = row.reshape(1, 32)
        started = time.perf_counter()
        fn(query)
        out.append(time.perf_counter() - started)
    return out


def photo(matcher: Matcher) -> None:
    rng = np.random.default_rng(2)
    # A 4000x3000 picture with real structure: smooth gradients, shapes and grain.
    y, x = np.mgrid[0:3000, 0:4000].astype(np.float32)
    rgb = np.stack([(x / 16) % 256, (y / 12) % 256, ((x + y) / 28) % 256], -1)
    rgb += rng.normal(0, 12, rgb.shape).astype(np.float32)
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    print(f"12-MP photo: {image.size[0]}x{image.size[1]}, JPEG {len(jpeg) / 1e6:.1f} MB")

    def decoded() -> Image.Image:
        out = Image.open(io.BytesIO(jpeg))
        out.load()
        return out

    def decoded_draft() -> Image.Image:
        out = Image.open(io.BytesIO(jpeg))
        out.draft("RGB", (512, 512))
        out.load()
        return out

    full = decoded()
    print(f"  decode (for reference, media processing does it anyway): "
          f"{percentiles(timed(decoded, 5))}")
    print(f"  hash + match on the decoded image: "
          f"{percentiles(timed(lambda: matcher.check(pdq=[pdq_of(full)]), 10))}")
    print(f"  decode with JPEG draft scaling (for reference): "
          f"{percentiles(timed(decoded_draft, 5))}")
    print(f"  banking: all eight transforms of the decoded image: "
          f"{percentiles(timed(lambda: pdq_dihedral(full), 5))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    print(f"{platform.machine()} {os.cpu_count()} CPUs, faiss {faiss.__version__}, 1 thread")
    matcher = lookups(args.hashes, args.queries)
    photo(matcher)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
