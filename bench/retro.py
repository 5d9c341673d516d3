"""Retroactive matching: a 10,000-hash import checked against 1,000,000 stored media hashes,
timed end to end — from the import's first chunk to the scan's job finishing.

The stored hashes are written straight through the stores, in bulk: random PDQ hashes, plus
`--planted` media items whose hash lies a few bits from one of the imported hashes (these
must be found, and are held for review). One process, the job runner of `darbuka serve`,
faiss on one thread, the default bank poll of 2 s — which the scan waits before it starts,
so the import's two chunks are one scan; the time includes that wait.

    .venv/bin/python bench/retro.py [--stored 1000000] [--imported 10000]
    DARBUKA_DATABASE_URL=postgresql://… .venv/bin/python bench/retro.py

Target (issue 17): <= 2 minutes for 1M stored against a 10,000-hash import.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from darbuka.container import Runtime, build_runtime, open_storage
from darbuka.safety.banks import SCAN_JOB
from darbuka.safety.hashformats import HashRow, ParsedFile
from darbuka.services.jobs import JobKind, JobRunner
from darbuka.services.writer import Tx
from darbuka.settings import Settings

CHUNK = 20_000


async def store_hashes(runtime: Runtime, stored: int, planted: np.ndarray) -> None:
    """`stored` media hash rows: random PDQs, the last `len(planted)` near imported ones
    (and those media rows, ready, as real uploads would be)."""
    rng = np.random.default_rng(7)
    started = time.perf_counter()
    for start in range(0, stored, CHUNK):
        count = min(CHUNK, stored - start)
        codes = rng.integers(0, 256, (count, 32), dtype=np.uint8)
        rows = [{"media_id": f"m{start + i}", "algo": "pdq", "value": code.tobytes().hex(),
                 "quality": 100, "frame": None, "created_at": 0}
                for i, code in enumerate(codes)]

        async def write(tx: Tx, rows: list[dict[str, object]] = rows) -> None:
            await tx.stores.media.add_hashes(tx.conn, rows)

        await runtime.writer.run(write)
    media = [{"id": f"p{i}", "owner_id": None, "kind": "photo", "state": "ready",
              "length": 1, "received": 1, "created_at": 0} for i in range(len(planted))]
    hashes = [{"media_id": f"p{i}", "algo": "pdq", "value": code.tobytes().hex(),
               "quality": 100, "frame": None, "created_at": 0}
              for i, code in enumerate(planted)]

    async def plant(tx: Tx) -> None:
        for row in media:
            await tx.stores.media.insert(tx.conn, row)  # type: ignore[arg-type]
        await tx.stores.media.add_hashes(tx.conn, hashes)

    await runtime.writer.run(plant)
    print(f"stored {stored + len(planted):,} media hashes in "
          f"{time.perf_counter() - started:.1f} s")


def near(codes: np.ndarray, bits: int, rng: np.random.Generator) -> np.ndarray:
    out = codes.copy()
    for row in out:
        for bit in rng.choice(256, bits, replace=False):
            row[bit // 8] ^= 1 << (bit % 8)
    return out


async def main(stored: int, imported: int, planted: int) -> None:
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(data_dir=Path(work),
                            database_url=os.environ.get("DARBUKA_DATABASE_URL", ""))
        runtime = build_runtime(settings)
        await open_storage(runtime)
        runtime.writer.start()
        banks = runtime.services.banks
        await banks.start()
        rng = np.random.default_rng(11)
        bank_codes = rng.integers(0, 256, (imported, 32), dtype=np.uint8)
        await store_hashes(runtime, stored, near(bank_codes[:planted], 10, rng))
        await banks.do_create({"name": "import", "action": "review"})
        runner = JobRunner(runtime.db, runtime.stores, runtime.writer,
                           kinds=[JobKind(SCAN_JOB, runtime.services.scans.run_job,
                                          concurrency=1)], poll_s=0.05)
        runtime.writer.on_jobs = runner.wake
        await runner.start()
        parsed = ParsedFile([HashRow("pdq", code.tobytes()) for code in bank_codes])
        started = time.perf_counter()
        await banks.do_import("import", parsed)
        imported_s = time.perf_counter() - started
        await runner.idle(SCAN_JOB)
        total_s = time.perf_counter() - started
        scans = await runtime.services.scans.scans("import")
        await runner.stop()
        await banks.stop()
        await runtime.writer.stop()
        await runtime.db.dispose()
    engine = "postgresql" if settings.database_url.startswith("postgres") else "sqlite"
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, {engine}")
    print(f"import of {imported:,} PDQ hashes: {imported_s:.1f} s")
    scanned, matched = (sum(s[k] for s in scans) for k in ("scanned", "matched"))
    print(f"{len(scans)} scan(s) of {scanned:,} stored hashes: {total_s - imported_s:.1f} s, "
          f"{matched} media held (planted {planted})")
    print(f"end to end: {total_s:.1f} s (target <= 120 s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--imported", type=int, default=10_000)
    parser.add_argument("--planted", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.stored, args.imported, args.planted))
