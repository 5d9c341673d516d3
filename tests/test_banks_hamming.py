"""The PDQ index finds exactly what a brute-force scan finds: every code within the radius,
with its distance, at several radii, through removals, compaction and live additions — and
per bank, at each bank's own threshold, the same bank, hash id and distance.

Codes are random plus clusters of near-duplicates (real banks hold many: a removal banks all
eight transforms, lists overlap), queries are banked codes with 0 to 45 bits flipped and
random codes. A sabotaged probe radius must make the comparison fail: the test has teeth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from darbuka.safety import hamming
from darbuka.safety.hamming import HammingIndex
from darbuka.safety.matcher import BankRules, Entry, Matcher

Codes = np.ndarray[Any, np.dtype[np.uint8]]
RADII = [0, 3, 8, 20, 31, 32, 40]


def flipped(rng: np.random.Generator, code: Codes, bits: int) -> Codes:
    out = np.unpackbits(code)
    out[rng.choice(256, bits, replace=False)] ^= 1
    return np.packbits(out)


def corpus(rng: np.random.Generator, n: int) -> Codes:
    """n codes: a third random, the rest in clusters of 50 around a few centres."""
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    for start in range(n // 3, n, 50):
        centre = codes[start].copy()
        for i in range(start, min(start + 50, n)):
            codes[i] = flipped(rng, centre, int(rng.integers(0, 40)))
    return codes


def queries(rng: np.random.Generator, codes: Codes, k: int) -> Codes:
    near = [flipped(rng, codes[i], int(rng.integers(0, 46)))
            for i in rng.choice(len(codes), k, replace=False)]
    return np.array([*near, *rng.integers(0, 256, (k // 4, 32), dtype=np.uint8)])


def edges(rng: np.random.Generator, index: HammingIndex, codes: Codes, radius: int,
          k: int = 40) -> Codes:
    """Queries at exactly `radius` from banked codes that only one table's probes can find:
    with radius = m·s + a, table j <= a (at random) differs by s bits, the other tables up
    to a by s + 1, the tables after a by s — the pigeonhole's tightest case."""
    tables = index._tables
    assert tables is not None
    s, a = divmod(radius, len(tables.layout))
    out = []
    for i in rng.choice(len(codes), k, replace=False).tolist():
        code, j = codes[i].copy(), int(rng.integers(0, a + 1))
        for t, (start, width) in enumerate(tables.layout):
            bits = s + 1 if t <= a and t != j else s
            for bit in (start + rng.choice(width, bits, replace=False)).tolist():
                code[bit // 8] ^= 1 << (bit % 8)  # bit b of the little-endian words
        out.append(code)
    return np.array(out)


def distances(queries: Codes, codes: Codes) -> Iterator[np.ndarray[Any, np.dtype[Any]]]:
    """Brute force: each query's distance to every code."""
    words = codes.view(np.uint64)
    for query in queries.view(np.uint64):
        yield np.bitwise_count(words ^ query).sum(axis=1)


def brute(queries: Codes, codes: Codes, alive: np.ndarray[Any, np.dtype[np.bool_]],
          radius: int) -> set[tuple[int, int, int]]:
    out = set()
    for q, dist in enumerate(distances(queries, codes)):
        for pos in np.flatnonzero((dist <= radius) & alive).tolist():
            out.add((q, pos, int(dist[pos])))
    return out


def found(index: HammingIndex, queries: Codes, radius: int) -> set[tuple[int, int, int]]:
    q, p, d = index.search(queries, radius)
    hits = list(zip(q.tolist(), p.tolist(), d.tolist(), strict=True))
    assert len(hits) == len(set(hits)), "a hit reported twice"
    return set(hits)


@pytest.fixture
def tables_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe the tables even where a flat scan would be cheaper (small test indexes)."""
    monkeypatch.setattr(hamming, "PROBE_COST", 0)


def sabotage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Probe one bit less than exactness needs, as a wrong choice of parameters would."""
    exact = hamming.table_radii
    monkeypatch.setattr(hamming, "table_radii", lambda r, m: [s - 1 for s in exact(r, m)])


@pytest.mark.usefixtures("tables_always")
def test_the_index_finds_what_brute_force_finds_through_removals_and_additions() -> None:
    rng = np.random.default_rng(17)
    codes = corpus(rng, 4000)
    index = HammingIndex(tail_max=700)
    for start in range(0, 3000, 200):
        index.add(codes[start:start + 200])
    assert 0 < index.indexed < index.ntotal, "both the tables and the flat tail are in use"
    asked = queries(rng, codes[:3000], 150)

    def check() -> None:
        alive = index.alive[:index.ntotal]
        for radius in RADII:
            hard = edges(rng, index, index.codes()[:index.indexed], radius)
            for batch in (asked, hard):
                assert found(index, batch, radius) == brute(batch, index.codes(), alive,
                                                            radius), radius

    check()
    gone = rng.choice(3000, 400, replace=False)
    index.set_alive(gone, False)
    index.set_alive(gone[:50], True)  # some come back
    assert index.dead == 350
    check()
    kept = index.compact()
    assert index.ntotal == len(kept) == 2650
    assert index.dead == 0
    assert (index.codes() == codes[:3000][kept]).all()
    check()
    index.add(codes[3000:])  # past the tail's limit: merged into the tables
    assert index.indexed > 2650
    check()


def test_at_two_hundred_thousand_codes_the_tables_are_chosen_and_exact() -> None:
    rng = np.random.default_rng(5)
    codes = corpus(rng, 200_000)
    index = HammingIndex()
    for start in range(0, len(codes), 50_000):
        index.add(codes[start:start + 50_000])
    tables = index._tables
    assert tables is not None
    assert tables.cost(31) * hamming.PROBE_COST < tables.size
    asked = queries(rng, codes, 40)
    alive = index.alive[:index.ntotal]
    for radius in (31, 20):
        hard = edges(rng, index, codes[:index.indexed], radius)
        for batch in (asked, hard):
            assert found(index, batch, radius) == brute(batch, codes, alive, radius)


@pytest.mark.usefixtures("tables_always")
def test_a_probe_radius_one_short_misses_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    codes = corpus(rng, 3000)
    index = HammingIndex(tail_max=100)
    index.add(codes)
    asked = np.concatenate([queries(rng, codes, 150), edges(rng, index, codes, 31)])
    alive = index.alive[:index.ntotal]
    assert found(index, asked, 31) == brute(asked, codes, alive, 31)
    sabotage(monkeypatch)
    assert index._tables is not None
    index._tables._probes.clear()  # the probes per radius are cached
    assert found(index, asked, 31) < brute(asked, codes, alive, 31)


BANKS = [BankRules(1, "wide", pdq_threshold=40), BankRules(2, "default"),
         BankRules(3, "strict", pdq_threshold=20), BankRules(4, "tight", pdq_threshold=8),
         BankRules(5, "picky", quality_floor=80), BankRules(6, "off", enabled=False)]


def expected(queries: Codes, quality: list[int], entries: dict[int, Entry],
             banks: list[BankRules]) -> list[set[tuple[int, int, int, str]]]:
    """Brute force per bank: the closest live hash within its threshold, lowest row id on a
    tie; the widest threshold being searched plays no part."""
    rows = sorted(entries)
    codes = np.array([np.frombuffer(entries[r].hash, dtype=np.uint8) for r in rows])
    rules = {b.id: b for b in banks}
    out = []
    for q, dist in enumerate(distances(queries, codes)):
        best: dict[int, tuple[int, int]] = {}
        for i in range(len(rows)):
            entry, d = entries[rows[i]], int(dist[i])
            bank = rules.get(entry.bank_id)
            if (bank and bank.enabled and d <= bank.pdq_threshold
                    and quality[q] >= bank.quality_floor):
                best[bank.id] = min(best.get(bank.id, (d, entry.row_id)), (d, entry.row_id))
        out.append({(b, row, d, entries[row].hash.hex()) for b, (d, row) in best.items()})
    return out


def answers(matcher: Matcher, queries: Codes,
            quality: list[int]) -> list[set[tuple[int, int, int, str]]]:
    out = []
    for code, q in zip(queries, quality, strict=True):
        verdict = matcher.check(pdq=[(code.tobytes(), q)])
        out.append({(m.bank_id, m.bank_hash_id, m.distance, m.banked_hash)
                    for m in verdict.matches})
    return out


@pytest.mark.usefixtures("tables_always")
@pytest.mark.parametrize("sabotaged", [False, True])
def test_matches_per_bank_equal_brute_force_through_removals_and_compaction(
        monkeypatch: pytest.MonkeyPatch, sabotaged: bool) -> None:
    if sabotaged:
        sabotage(monkeypatch)
    rng = np.random.default_rng(2026)
    codes = corpus(rng, 3000)
    matcher = Matcher(pdq_tail=400)
    banks = list(BANKS)
    matcher.set_banks(banks)
    entries = {1000 + i: Entry(1000 + i, int(rng.integers(1, 7)), "pdq", code.tobytes())
               for i, code in enumerate(codes[:2500])}
    for start in range(0, 2500, 300):
        matcher.apply(list(entries.values())[start:start + 300])
    assert 0 < matcher._pdq.indexed < matcher._pdq.ntotal
    asked = queries(rng, codes, 120)
    quality = rng.choice([60, 90], len(asked)).tolist()
    differ = []

    def compare(step: str) -> None:
        # The tightest cases at the widest threshold, around hashes of the widest bank.
        widest = max(b.pdq_threshold for b in banks if b.enabled)
        wide = [e.hash for e in entries.values() if e.bank_id == 1]
        wide_codes = np.frombuffer(b"".join(wide), np.uint8).reshape(-1, 32)
        hard = edges(rng, matcher._pdq, wide_codes, widest)
        batch = np.concatenate([asked, hard, edges(rng, matcher._pdq, wide_codes, widest + 1)])
        marks = [*quality, *[90] * (len(batch) - len(asked))]
        want, got = expected(batch, marks, entries, banks), answers(matcher, batch, marks)
        assert sum(map(bool, want)) > len(asked) // 2
        differ.extend((step, q) for q in range(len(batch)) if want[q] != got[q])
        if not sabotaged:
            assert not differ, differ[:5]

    compare("loaded")
    removed = [entries.pop(r) for r in rng.choice(list(entries), 300, replace=False).tolist()]
    matcher.apply(Entry(e.row_id, e.bank_id, "pdq", e.hash, removed=True) for e in removed)
    assert matcher._pdq.dead == 300, "not yet compacted"
    compare("removed")
    removed = [entries.pop(r) for r in rng.choice(list(entries), 300, replace=False).tolist()]
    matcher.apply(Entry(e.row_id, e.bank_id, "pdq", e.hash, removed=True) for e in removed)
    assert matcher._pdq.dead == 0, "compacted"
    assert matcher.pdq_size() == 1900
    compare("compacted")
    added = {5000 + i: Entry(5000 + i, int(rng.integers(1, 7)), "pdq", code.tobytes())
             for i, code in enumerate(codes[2500:])}
    matcher.apply(added.values())
    entries |= added
    compare("added")
    banks = [b for b in banks if b.id != 2]
    matcher.set_banks(banks)
    entries = {r: e for r, e in entries.items() if e.bank_id != 2}
    compare("bank deleted")
    banks = [replace(b, pdq_threshold=b.pdq_threshold + 3) for b in banks]
    matcher.set_banks(banks)
    compare("thresholds raised")
    assert bool(differ) == sabotaged
