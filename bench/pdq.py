"""PDQ matching cost: lookup latency and memory with a million (or ten million) hashes
banked, the same answers as a flat scan, and what hashing and matching add to processing a
12-megapixel photo. One core (faiss threads set to 1).

    .venv/bin/python bench/pdq.py [--hashes 1000000] [--queries 2000]

Targets (issue 7): lookup p99 <= 2 ms at 1M hashes; <= 50 ms added per 12-MP photo.
(issue 17): at 10M hashes lookup p99 <= 2 ms, the answers of a flat scan, RSS <= 2 GB.
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


BLOCK = 100_000


def rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def block(start: int, size: int) -> np.ndarray:
    """The random hashes at positions [start, start+BLOCK): made again on demand, so the
    bench holds no copy of its own while the matcher's memory is measured."""
    rng = np.random.default_rng(100 + start // BLOCK)  # not 1: the queries use that seed
    return rng.integers(0, 256, (min(BLOCK, size - start), 32), dtype=np.uint8)


def lookups(size: int, queries: int) -> Matcher:
    rng = np.random.default_rng(1)
    before = rss_mb()
    matcher = Matcher()
    banks = [BankRules(1, "big", action="refuse"), BankRules(2, "strict", pdq_threshold=20)]
    matcher.set_banks(banks)
    # Half the queries are banked hashes with 10 bits flipped (must match), half random.
    picked = np.sort(rng.choice(size, queries // 2, replace=False))
    near = []
    started = time.perf_counter()
    applies = []
    for start in range(0, size, BLOCK):
        codes = block(start, size)
        entries = [Entry(start + i + 1, 1 + (start + i) % 2, "pdq", row.tobytes())
                   for i, row in enumerate(codes)]
        applied = time.perf_counter()
        matcher.apply(entries)
        applies.append(time.perf_counter() - applied)
        near.extend(codes[picked[(picked >= start) & (picked < start + BLOCK)] - start])
    print(f"loaded {size:,} PDQ hashes in {time.perf_counter() - started:.1f} s, "
          f"{BLOCK:,} a call; process RSS {rss_mb():.0f} MB "
          f"({rss_mb() - before:.0f} MB more than before), peak so far "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    # Lookups wait while an apply merges the flat tail into the tables or rebuilds them.
    print(f"  Matcher.apply of {BLOCK:,}: median {np.median(applies):.2f} s, "
          f"slowest {max(applies):.2f} s")
    for row in near:
        bits = rng.choice(256, 10, replace=False)
        for bit in bits:
            row[bit // 8] ^= 1 << (bit % 8)
    far = rng.integers(0, 256, (queries - len(near), 32), dtype=np.uint8)
    found = 0
    samples, cpu, answers = [], [], []
    for row in [*near, *far]:
        query = [(row.tobytes(), 90)]
        started, started_cpu = time.perf_counter(), time.thread_time()
        verdict = matcher.check(pdq=query)
        samples.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
        found += bool(verdict.matches)
        answers.append({(m.bank_id, m.bank_hash_id, m.distance) for m in verdict.matches})
    print(f"Matcher.check, one PDQ per call, {queries} calls: {percentiles(samples)}")
    # CPU time of this thread alone: what the lookup costs when the core is not shared.
    print(f"  CPU time per call: {percentiles(cpu)}")
    print(f"  matched {found} (expected {len(near)}: the near ones)")
    # The same lookups straight on a flat faiss index: the answers the matcher must give,
    # and the latency it replaces (both runs see the same noise of a shared machine).
    index = faiss.IndexBinaryFlat(256)
    for start in range(0, size, BLOCK):
        index.add(block(start, size))
    raw: list[float] = []
    differ = 0
    for row, answer in zip([*near, *far], answers, strict=True):
        started = time.perf_counter()
        _, dists, labels = index.range_search(row.reshape(1, 32), 32)
        raw.append(time.perf_counter() - started)
        differ += flat_answer(banks, dists, labels) != answer
    print(f"faiss IndexBinaryFlat range_search, same queries: {percentiles(raw)}")
    print(f"  answers (bank, hash id, distance) that differ from the flat scan's: {differ}")
    return matcher


def flat_answer(banks: list[BankRules], dists: np.ndarray,
                labels: np.ndarray) -> set[tuple[int, int, int]]:
    """Per bank, the closest banked hash within its threshold (lowest row id on a tie)."""
    best: dict[int, tuple[int, int]] = {}
    for dist, pos in zip(dists.tolist(), labels.tolist(), strict=True):
        bank = banks[pos % 2]
        if dist <= bank.pdq_threshold:
            best[bank.id] = min(best.get(bank.id, (dist, pos + 1)), (dist, pos + 1))
    return {(bank_id, row_id, dist) for bank_id, (dist, row_id) in best.items()}


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
    # The peak includes the flat index built for comparison and the photo's buffers.
    print(f"peak RSS {rss:.0f} MB (with the comparison's flat index and the photo's buffers)")


if __name__ == "__main__":
    main()
