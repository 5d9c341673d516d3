"""Retroactive matching: when a bank gains hashes, the media already stored is checked
against them, and what matches is treated as it would have been at upload.

One job per scan (`SCAN_JOB`, queued by `BankService` in the transaction that adds the
hashes; hashes added while it waits join it). The job reads the stored PDQ hashes in pages
of `PAGE` rows in id order, and finds those within the bank's threshold of a new hash in a
flat index of only the new hashes: a 10,000-hash import against a million stored hashes is
10¹⁰ Hamming distances, seconds on one core, and no index of all stored media is kept.
Stored MD5 and SHA-256 equal to a new one are found through their index. Each media item
found is then matched again against every bank — the upload's own check, so a negative bank
still cancels and the strongest action wins — and:

- refuse: it is removed everywhere on the moderators' path (`apply_decision` with
  `remove_media`: each message carrying it removed with a preserved copy, a statement of
  reasons to the uploader, an audit record), as an automated decision;
- review: it is held — served to nobody, attachable by nobody — with a `hash_match` item
  in the queue, as at upload.

Progress is written to the scan's row after every page, with the last row checked, so a
scan taken over after a crash goes on from there.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable
from typing import Any

import faiss
import numpy as np

from darbuka.safety.banks import SCAN_JOB, BankService
from darbuka.safety.effects import set_captions_found
from darbuka.safety.matcher import PDQ_BITS, BankRules, Verdict
from darbuka.safety.mediaremoval import add_match_item
from darbuka.safety.moderation import apply_decision
from darbuka.safety.statements import REASONS, Decision, Reason
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Database, Stores

__all__ = ["PAGE", "SCAN_JOB", "RetroScanner", "scan_view"]

PAGE = 50_000  # stored hashes per read, search and progress write
# What a removal's statement says (it names no bank and no hash, as an upload's refusal).
FACTS = ("A file you shared matched an entry added since to a list of known content that "
         "may not be shared here.")
_ACTIVE = ("ready", "held")


def scan_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "state", "hashes", "total", "scanned", "matched",
                                "created_at", "started_at", "finished_at")}


class RetroScanner:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 banks: BankService) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._banks = banks

    async def scans(self, bank_name: str, limit: int = 20) -> list[dict[str, Any]]:
        """The bank's latest scans with their progress, newest first."""
        bank = await self._banks.get(bank_name)
        async with self._db.read() as conn:
            rows = await self._stores.banks.scans(conn, bank["id"], limit)
        return [scan_view(r) for r in rows]

    async def run_job(self, payload: dict[str, Any]) -> None:
        """The `bank.scan` job."""
        scan_id = int(payload["scan_id"])

        async def claim(tx: Tx) -> dict[str, Any] | None:
            return await tx.stores.banks.claim_scan(tx.conn, scan_id, tx.now)

        scan = await self._writer.run(claim)
        if scan is None:
            return
        await self._banks.refresh()  # this process may not have polled the new hashes yet
        rules = self._banks.matcher.banks.get(int(scan["bank_id"]))
        if rules is not None and rules.enabled and not rules.negative:
            await self._scan(scan, rules)
        await self._progress(scan_id, state="done", finished_at=None)

    async def _scan(self, scan: dict[str, Any], rules: BankRules) -> None:
        scan_id, cursor = int(scan["id"]), int(scan["cursor"])
        async with self._db.read() as conn:
            added = await self._stores.banks.added_between(
                conn, rules.id, int(scan["from_version"]), int(scan["to_version"]))
            total = await self._stores.media.count_hashes(conn, "pdq", 0)
            exact: set[str] = set()
            for signal in ("md5", "sha256"):
                values = [h.hex() for s, h in added if s == signal]
                exact |= await self._stores.media.with_hash_values(conn, signal, values)
        pdq = [h for s, h in added if s == "pdq"]
        if cursor == 0:
            await self._progress(scan_id, hashes=len(added), total=total if pdq else 0)
        # Acting is idempotent (only media still ready or held changes): a scan taken over
        # does the exact matches again.
        matched = int(scan["matched"]) + await self._act_on(exact)
        scanned = int(scan["scanned"])
        index = _index(pdq)
        while index is not None:
            async with self._db.read() as conn:
                page = await self._stores.media.hash_page(conn, "pdq", cursor, PAGE)
            if not page:
                break
            found = await asyncio.to_thread(_near, index, page, rules)
            matched += await self._act_on(found)
            cursor, scanned = page[-1][0], scanned + len(page)
            await self._progress(scan_id, cursor=cursor, scanned=scanned, matched=matched)
        if index is None:
            await self._progress(scan_id, matched=matched)

    async def _progress(self, scan_id: int, **values: Any) -> None:
        """Write a scan's figures; `finished_at=None` stamps the transaction's time."""
        async def write(tx: Tx) -> None:
            if "finished_at" in values:
                values["finished_at"] = tx.now
            await tx.stores.banks.update_scan(tx.conn, scan_id, **values)

        await self._writer.run(write)

    async def _act_on(self, media_ids: Iterable[str]) -> int:
        """Match each media item again against every bank and act; how many changed."""
        acted = 0
        for media_id in sorted(media_ids):
            async with self._db.read() as conn:
                row = await self._stores.media.get(conn, media_id)
                hashes = await self._stores.media.hashes(conn, media_id)
            if row is None or row["state"] not in _ACTIVE:
                continue
            md5 = next((h["value"] for h in hashes if h["algo"] == "md5"), None)
            sha256 = next((h["value"] for h in hashes if h["algo"] == "sha256"), None)
            pdq = [(h["value"], h["quality"] or 0) for h in hashes if h["algo"] == "pdq"]
            verdict = await self._banks.check(f"media:{media_id}", md5=md5, sha256=sha256,
                                              pdq=pdq)
            if verdict.action is not None and await self._writer.run(
                    functools.partial(_act, media_id=media_id, verdict=verdict)):
                acted += 1
        return acted


async def _act(tx: Tx, media_id: str, verdict: Verdict) -> bool:
    """What the upload's check would have done, to media that is already stored."""
    row = await tx.stores.media.get(tx.conn, media_id)
    if row is None or row["state"] not in _ACTIVE:
        return False
    if verdict.action == "review":
        if not await tx.stores.media.update(tx.conn, media_id, {"state": "held"},
                                            state="ready"):
            return False  # held already: its item waits in the queue
        await set_captions_found(tx, media_id, found=False)
        await add_match_item(tx, media_id)
        return True
    item = await tx.stores.safety.open_item_for_key(tx.conn, "media", media_id)
    if item is None:
        item = await tx.stores.safety.item(tx.conn, await add_match_item(tx, media_id))
        assert item is not None  # noqa: S101 - added just above
    decision = Decision(action="remove_media", ground="terms",
                        reason=await _reason(tx, verdict), facts=FACTS, source="hash_match",
                        automated_detection=True, automated_decision="fully")
    await apply_decision(tx, item, decision, actor_id=None)
    return True


async def _reason(tx: Tx, verdict: Verdict) -> Reason:
    """The statement's reason: the refusing bank's category when it names one."""
    for match in verdict.matches:
        if match.outcome == "refuse":
            bank = await tx.stores.banks.by_name(tx.conn, match.bank_name)
            category = str(bank["category"]).lower() if bank else ""
            if category in REASONS:
                return category
    return "other"


def _index(hashes: list[bytes]) -> faiss.IndexBinaryFlat | None:
    if not hashes:
        return None
    index = faiss.IndexBinaryFlat(PDQ_BITS)
    index.add(np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(len(hashes), 32))
    return index


def _near(index: faiss.IndexBinaryFlat, page: list[tuple[int, str, str, int]],
          rules: BankRules) -> set[str]:
    """The media of a page whose PDQ (good enough for the bank) is within its threshold of
    one of the new hashes."""
    kept = [(media_id, value) for _, media_id, value, quality in page
            if quality >= rules.quality_floor and len(value) == 64]
    if not kept:
        return set()
    codes = np.frombuffer(bytes.fromhex("".join(v for _, v in kept)), dtype=np.uint8)
    # range_search returns distances strictly below the radius.
    lims, _, _ = index.range_search(codes.reshape(len(kept), 32), rules.pdq_threshold + 1)
    return {kept[int(q)][0] for q in np.flatnonzero(np.diff(lims))}
