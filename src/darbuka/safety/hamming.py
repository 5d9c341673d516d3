"""Exact Hamming range search over 256-bit codes, for ten million codes on one core.

A flat scan reads every code: ~1 ms a lookup at a million, ~11 ms at ten million. So the
codes are also kept in multi-index hashing tables (Norouzi, Punjani and Fleet, "Fast exact
search in Hamming space with multi-index hashing", 2014): the 256 bits are cut into m
substrings of w ≈ log2(n) bits, and table i lists every position by its substring i.

Why it is exact: with r = m·s + a (0 ≤ a < m), a code within distance r of the query has
some substring i ≤ a within s bits of the query's, or some i > a within s - 1 bits —
otherwise the distance would be at least (a+1)(s+1) + (m-a-1)s = r + 1. A lookup probes
every key that near in each table, then checks the true distance of each candidate. At
the PDQ default r = 31 and ten million codes (m = 11, w = 23-24) that is ~2,800 probes
and ~3,000 candidates. When a radius is so wide that probing would cost more than a flat
scan (r = 64, say), the scan is used instead — also exact.

Why not faiss's `IndexBinaryMultiHash`: it is exact too when nhash·(nflip+1) > r, but holds
a std::unordered_map of vectors per table. Measured at a million codes: 16 tables of 16
bits, nflip 1: 335 MB and p99 7.7 ms; 11 tables of 23 bits, nflip 2: 944 MB. Ten times
that is far past what a server process may hold. Here a table is direct-addressed: its
offsets (2^w + 1 uint32) and the positions sorted by key (n uint32), ~8 bytes a code.

Recent additions sit in a flat tail (at most `TAIL_MAX`, scanned by faiss) and are merged
into the tables when it fills: an O(n) merge, no sort. The tables are built afresh (a sort
per table) when the index has doubled or halved since the last build and that changes how
the bits are cut, so w follows log2(n). Removal is a tombstone in `alive`; `compact` drops
tombstones (and builds the tables afresh). Not thread-safe: the caller (the matcher) holds a lock.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import faiss
import numpy as np

__all__ = ["CODE_BYTES", "TAIL_MAX", "HammingIndex", "table_radii"]

CODE_BYTES = 32
TAIL_MAX = 1 << 17  # flat-scanned additions before they are merged into the tables
REBUILD_FACTOR = 2  # build the tables afresh when n has changed this much since the last
# A probe costs about as much as scanning this many codes flat (a few random reads against
# a sequential 32-byte XOR-popcount); measured roughly, only to choose between the two.
PROBE_COST = 40

U8 = np.ndarray[Any, np.dtype[np.uint8]]
U32 = np.ndarray[Any, np.dtype[np.uint32]]
U64 = np.ndarray[Any, np.dtype[np.uint64]]
I64 = np.ndarray[Any, np.dtype[np.int64]]
Hits = tuple[I64, I64, I64]  # (query number, position, distance), one row per hit


def table_radii(radius: int, tables: int) -> list[int]:
    """The probe radius per table that makes a range search at `radius` exact (-1: the table
    need not be probed at all)."""
    s, a = divmod(radius, tables)
    return [s if i <= a else s - 1 for i in range(tables)]


def layout(n: int) -> list[tuple[int, int]]:
    """(first bit, width) of each substring for an index of about `n` codes."""
    tables = max(8, min(16, round(8 * CODE_BYTES / math.log2(max(n, 2)))))
    narrow, wide = divmod(8 * CODE_BYTES, tables)
    widths = [narrow + 1] * wide + [narrow] * (tables - wide)
    starts = itertools.accumulate([0, *widths[:-1]])
    return list(zip(starts, widths, strict=True))


def substring(words: U64, start: int, width: int) -> U64:
    """Bits [start, start+width) of each code (codes viewed as 4 little-endian uint64)."""
    word, shift = divmod(start, 64)
    key = words[:, word] >> np.uint64(shift)
    if shift + width > 64:
        key = key | (words[:, word + 1] << np.uint64(64 - shift))
    return key & np.uint64((1 << width) - 1)


def _masks(width: int, radius: int) -> U64:
    """Every width-bit mask with at most `radius` bits set."""
    out = [sum(1 << b for b in bits) for k in range(radius + 1)
           for bits in itertools.combinations(range(width), k)]
    return np.array(out, dtype=np.uint64)


class _Tables:
    """The multi-index hashing tables over positions [0, size)."""

    def __init__(self, words: U64, size: int) -> None:
        self.layout = layout(size)
        self.size = size
        self.built_at = size
        sizes = [(1 << w) + 1 for _, w in self.layout]
        self.off_base = np.cumsum([0, *sizes[:-1]]).astype(np.int64)
        self.off: U32 = np.empty(sum(sizes), dtype=np.uint32)
        self.ids: list[U32] = []
        positions = np.arange(size, dtype=np.uint64)
        for i, (start, width) in enumerate(self.layout):
            # Sorting key·2^32 + position sorts by key, positions ascending within a key.
            # In place: at ten million codes each temporary array is 80 MB.
            packed = substring(words[:size], start, width)
            packed <<= np.uint64(32)
            packed |= positions
            packed.sort()
            halves = packed.view(np.uint32)  # little-endian: position, key, position, …
            self.ids.append(np.ascontiguousarray(halves[0::2]))
            self._set_offsets(i, np.bincount(halves[1::2], minlength=1 << width))
            del packed, halves
        self._probes: dict[int, _Probes] = {}

    def _set_offsets(self, i: int, counts: I64) -> None:
        base = int(self.off_base[i])
        self.off[base] = 0
        np.cumsum(counts, out=self.off[base + 1:base + len(counts) + 1])

    def merge(self, words: U64, end: int) -> None:
        """Add positions [size, end) (all after the ones listed)."""
        positions = np.arange(self.size, end, dtype=np.uint32)
        for i, (start, width) in enumerate(self.layout):
            keys = substring(words[self.size:end], start, width).astype(np.intp)
            order = np.argsort(keys, kind="stable")
            ordered = keys[order]
            base = int(self.off_base[i])
            # Each goes at the end of its key's run: after the run's older positions.
            at = self.off[base + 1 + ordered].astype(np.intp)
            self.ids[i] = np.insert(self.ids[i], at, positions[order])
            # Offsets grow by the additions at or below each key: counted in uint32, not
            # with a full-range int64 bincount (128 MB per 24-bit table).
            added = np.zeros(1 << width, dtype=np.uint32)
            values, counts = np.unique(ordered, return_counts=True)
            added[values] = counts
            np.cumsum(added, out=added)
            self.off[base + 1:base + (1 << width) + 1] += added
        self.size = end

    def probes(self, radius: int) -> _Probes:
        if radius not in self._probes:
            self._probes[radius] = _Probes(self, radius)
        return self._probes[radius]

    def cost(self, radius: int) -> float:
        """Expected probes plus candidates of one lookup."""
        return float(sum((end - begin) * (1 + self.size / (1 << self.layout[i][1]))
                         for i, begin, end in self.probes(radius).spans))

    def candidates(self, words: U64, radius: int) -> tuple[I64, I64]:
        """(query number, position) of every code sharing a probed key with a query
        (repeats included). One vector operation per step across all tables; only the
        final read of each table's positions goes table by table."""
        probes = self.probes(radius)
        keys = np.stack([substring(words, start, width) for start, width in self.layout], 1)
        # Probe-major order (probe 0 of every query, then probe 1, …) keeps each table's
        # probes together: tables own consecutive probes.
        at = (keys[:, probes.table] ^ probes.mask).T.astype(np.int64) + probes.base[:, None]
        lo = self.off[at].ravel().astype(np.int64)
        lens = self.off[at + 1].ravel().astype(np.int64) - lo
        ends = np.cumsum(lens)
        total = int(ends[-1]) if len(ends) else 0
        gather = np.repeat(lo - (ends - lens), lens) + np.arange(total)
        numbers = np.repeat(np.tile(np.arange(len(words), dtype=np.int64), len(probes.mask)),
                            lens)
        positions = np.empty(total, dtype=np.int64)
        before = np.concatenate([[0], ends])
        for i, begin, end in probes.spans:
            a, b = int(before[begin * len(words)]), int(before[end * len(words)])
            positions[a:b] = self.ids[i][gather[a:b]]
        return numbers, positions


class _Probes:
    """Every key to probe for a radius, as masks to XOR with the query's substrings."""

    def __init__(self, tables: _Tables, radius: int) -> None:
        radii = table_radii(radius, len(tables.layout))
        masks = [_masks(w, r) if r >= 0 else np.empty(0, dtype=np.uint64)
                 for (_, w), r in zip(tables.layout, radii, strict=True)]
        counts = [len(m) for m in masks]
        self.mask = np.concatenate(masks)
        self.table = np.repeat(np.arange(len(masks)), counts)
        self.base = tables.off_base[self.table]
        edges = np.cumsum([0, *counts]).tolist()
        self.spans = [(i, edges[i], edges[i + 1]) for i in range(len(masks)) if counts[i]]


class HammingIndex:
    """Exact range search over 32-byte codes, appended at positions 0, 1, 2, …"""

    def __init__(self, tail_max: int = TAIL_MAX) -> None:
        self._tail_max = tail_max
        self._codes: U8 = np.empty((1024, CODE_BYTES), dtype=np.uint8)
        self.alive = np.empty(1024, dtype=bool)  # view: use alive[:ntotal]
        self.ntotal = 0
        self.dead = 0
        self._tables: _Tables | None = None

    @property
    def indexed(self) -> int:
        """Positions in the hashing tables; the rest are scanned flat."""
        return self._tables.size if self._tables else 0

    def codes(self) -> U8:
        return self._codes[:self.ntotal]

    def code(self, position: int) -> bytes:
        return bytes(self._codes[position])

    def add(self, codes: U8) -> int:
        """Append codes (k by 32 uint8); returns the first one's position."""
        first, end = self.ntotal, self.ntotal + len(codes)
        if end > len(self._codes):
            capacity = max(end, 2 * len(self._codes))
            grown = np.empty((capacity, CODE_BYTES), dtype=np.uint8)
            grown[:first] = self._codes[:first]
            alive = np.empty(capacity, dtype=bool)
            alive[:first] = self.alive[:first]
            self._codes, self.alive = grown, alive
        self._codes[first:end] = codes
        self.alive[first:end] = True
        self.ntotal = end
        if end - self.indexed > self._tail_max:
            self._index_tail()
        return first

    def set_alive(self, positions: I64, alive: bool) -> None:
        positions = np.unique(positions)
        changed = int(np.count_nonzero(self.alive[positions] != alive))
        self.dead += -changed if alive else changed
        self.alive[positions] = alive

    def compact(self) -> I64:
        """Drop tombstoned codes; returns the old positions kept, in order (new position
        i was old position kept[i])."""
        kept = np.flatnonzero(self.alive[:self.ntotal])
        codes = self._codes[kept]
        self._tables = None  # freed before the new ones are built
        self.ntotal, self.dead = 0, 0
        self.add(codes)
        return kept

    def _index_tail(self) -> None:
        words = self._words()
        tables = self._tables
        if tables is not None and (tables.built_at / REBUILD_FACTOR <= self.ntotal
                                   <= tables.built_at * REBUILD_FACTOR):
            tables.merge(words, self.ntotal)
        elif tables is not None and tables.layout == layout(self.ntotal):
            tables.merge(words, self.ntotal)  # a rebuild would cut the bits the same way
            tables.built_at = self.ntotal
        else:
            # The old tables are freed before the new ones are built (~900 MB at 10M).
            del tables
            self._tables = None
            self._tables = _Tables(words, self.ntotal)

    def _words(self) -> U64:
        return self._codes[:self.ntotal].view(np.uint64)

    # -- search -----------------------------------------------------------------------

    def search(self, queries: U8, radius: int) -> Hits:
        """Every live code within `radius` bits of a query, each hit once, in no order."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, CODE_BYTES)
        parts = [self._flat(queries, radius, self.indexed, self.ntotal)]
        tables = self._tables
        if tables is not None:
            if tables.cost(radius) * PROBE_COST < tables.size:
                parts.append(self._probe(tables, queries, radius))
            else:
                parts.append(self._flat(queries, radius, 0, tables.size))
        q, p, d = (np.concatenate(column) for column in zip(*parts, strict=True))
        keep = self.alive[p]
        return q[keep], p[keep], d[keep]

    def _probe(self, tables: _Tables, queries: U8, radius: int) -> Hits:
        words_q = queries.view(np.uint64)
        q, p = tables.candidates(words_q, radius)
        dist = np.bitwise_count(self._words()[p] ^ words_q[q]).sum(axis=1, dtype=np.int64)
        near = dist <= radius
        q, p, dist = q[near], p[near], dist[near]
        # A code can share keys with a query in several tables: report it once.
        _, first = np.unique(q * self.ntotal + p, return_index=True)
        return q[first], p[first], dist[first]

    def _flat(self, queries: U8, radius: int, start: int, end: int) -> Hits:
        if end <= start:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        found = faiss.RangeSearchResult(len(queries))
        # faiss's range search keeps distances strictly below its radius.
        # The SWIG wrapper has no stubs for this function (IndexBinaryFlat's own search).
        faiss.hamming_range_search(  # type: ignore[attr-defined]
            faiss.swig_ptr(queries), faiss.swig_ptr(self._codes[start:]), len(queries),
            end - start, radius + 1, CODE_BYTES, found)
        lims = faiss.rev_swig_ptr(found.lims, len(queries) + 1).astype(np.int64)
        total = int(lims[-1])
        if not total:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        positions = faiss.rev_swig_ptr(found.labels, total).astype(np.int64) + start
        dist = faiss.rev_swig_ptr(found.distances, total).astype(np.int64)
        numbers = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(lims))
        return numbers, positions, dist
