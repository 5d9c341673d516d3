"""Hash banks: named lists of hashes with their own rules, and the live matcher over them.

Every change is written through the writer and then loaded into this process's matcher
before the call returns, so a hash added to a bank takes effect at once. Other server
processes learn of changes by polling: each bank carries a `version` that every change
raises (under the bank's row lock), and each hash row the version that last touched it, so
a process loads exactly the rows after the version it has seen — additions and removals
alike — every `safety_bank_poll_s` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import faiss
import numpy as np
from PIL import Image

from darbuka.clock import Clock
from darbuka.errors import ApiError, BadRequest, Conflict, NotFound
from darbuka.media.result import Hash
from darbuka.safety.hashformats import SIGNALS, HashRow, ImportProblems, ParsedFile
from darbuka.safety.matcher import BankRules, Entry, Matcher, Verdict
from darbuka.safety.perceptual import pdq_dihedral, pdq_of
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, DuplicateKey, Stores

__all__ = ["SCAN_JOB", "BankService", "InvalidHashList", "bank_view", "check_bank_fields",
           "record_matches"]

log = logging.getLogger(__name__)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
IMPORT_CHUNK = 5_000  # rows per transaction: the server keeps writing between chunks
LOAD_PAGE = 100_000  # hash rows per read and matcher update when loading banks
_TEXT_LIMITS = {"source": 256, "category": 64, "entity": 128}
# The job that checks stored media against hashes a bank gained (`safety/retro.py`).
SCAN_JOB = "bank.scan"
_MEDIA_SIGNALS = frozenset({"md5", "sha256", "pdq"})


class InvalidHashList(ApiError):
    status = 422
    code = "invalid_hash_list"

    def __init__(self, problems: ImportProblems) -> None:
        super().__init__(str(problems))
        self.problems = problems

    def as_dict(self) -> dict[str, object]:
        problems = [{"where": w, "problem": p} for w, p in self.problems.problems]
        return {"error": {"code": self.code, "message": self.message, "problems": problems,
                          "problem_count": self.problems.total}}


def check_bank_fields(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The bank settings in `values`, validated (BadRequest names the first bad one)."""
    out: dict[str, Any] = {}
    if creating or "name" in values:
        name = values.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            raise BadRequest("name: 1-64 letters, digits, '.', '_' or '-'", code="invalid_bank")
        out["name"] = name
    for key, limit in _TEXT_LIMITS.items():
        if key in values:
            text = values[key]
            if not isinstance(text, str) or len(text) > limit:
                raise BadRequest(f"{key}: text of at most {limit} characters",
                                 code="invalid_bank")
            out[key] = text
    for key, low, high in (("pdq_threshold", 0, 128), ("quality_floor", 0, 100)):
        if key in values:
            number = values[key]
            if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
                raise BadRequest(f"{key}: a whole number from {low} to {high}",
                                 code="invalid_bank")
            out[key] = number
    if "action" in values:
        if values["action"] not in ("refuse", "review"):
            raise BadRequest("action: refuse or review", code="invalid_bank")
        out["action"] = values["action"]
    for key in ("enabled", "negative"):
        if key in values:
            if not isinstance(values[key], bool):
                raise BadRequest(f"{key}: true or false", code="invalid_bank")
            out[key] = values[key]
    return out


def bank_view(bank: Mapping[str, Any], counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    counts = counts or {}
    return {
        "id": bank["id"], "name": bank["name"], "source": bank["source"],
        "category": bank["category"], "entity": bank["entity"],
        "pdq_threshold": bank["pdq_threshold"], "quality_floor": bank["quality_floor"],
        "enabled": bool(bank["enabled"]), "action": bank["action"],
        "negative": bool(bank["negative"]), "version": bank["version"],
        "hashes": {s: counts.get(s, 0) for s in SIGNALS},
        "created_at": bank["created_at"], "updated_at": bank["updated_at"],
    }


def _rules(bank: Mapping[str, Any]) -> BankRules:
    return BankRules(id=int(bank["id"]), name=bank["name"],
                     pdq_threshold=int(bank["pdq_threshold"]),
                     quality_floor=int(bank["quality_floor"]), enabled=bool(bank["enabled"]),
                     action=bank["action"], negative=bool(bank["negative"]))


class BankService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 matcher: Matcher | None = None, *, poll_s: float = 2.0) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self.matcher = matcher or Matcher()
        self._poll_s = poll_s
        # bank id → (created_at, version) this process has loaded; created_at tells a new
        # bank from a deleted one whose id was reused.
        self._seen: dict[int, tuple[int, int]] = {}
        self._refresh_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        # One lookup is one query: OpenMP threads would only add hand-off cost and compete
        # with the event loop. Lookups take the matcher's lock one at a time (~0.3 ms each at
        # a million PDQ hashes, ~0.8 ms at ten million), so one process checks about a
        # thousand uploads a second.
        faiss.omp_set_num_threads(1)
        await self.refresh()
        if self._poll_s > 0:
            self._task = asyncio.get_running_loop().create_task(self._poll(), name="bank-poll")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_s)
            try:
                await self.refresh()
            except Exception:  # the next poll tries again; matching goes on meanwhile
                log.exception("loading bank changes failed")

    async def refresh(self) -> None:
        """Load bank rules and every hash row changed since this process last looked.

        Hash rows are read and applied a page at a time: at start-up with ten million
        hashes banked, the rows as Python objects all at once would take gigabytes."""
        async with self._refresh_lock, self._db.read() as conn:
            rows = await self._stores.banks.all(conn)
            pending: list[tuple[int, int]] = []  # (bank id, version seen)
            reused: set[int] = set()
            for bank in rows:
                created, seen = self._seen.get(bank["id"], (bank["created_at"], 0))
                # A deleted bank's id taken by a new bank (SQLite reuses the top id).
                if created != bank["created_at"] or bank["version"] < seen:
                    reused.add(bank["id"])
                    seen = 0
                if bank["version"] > seen:
                    pending.append((bank["id"], seen))
            # In a worker thread: dropping a deleted bank can compact a large index.
            if reused:
                kept = [_rules(b) for b in rows if b["id"] not in reused]
                await asyncio.to_thread(self.matcher.set_banks, kept)
            await asyncio.to_thread(self.matcher.set_banks, [_rules(b) for b in rows])
            for bank_id, seen in pending:
                await self._load(conn, bank_id, seen)
            self._seen = {b["id"]: (b["created_at"], b["version"]) for b in rows}

    async def _load(self, conn: Conn, bank_id: int, seen: int) -> None:
        after = 0
        while True:
            changed = await self._stores.banks.changes(
                conn, bank_id, seen, active_only=seen == 0, after_id=after, limit=LOAD_PAGE)
            if changed:
                entries = [Entry(row_id, bank_id, signal, digest, removed)
                           for row_id, signal, digest, removed in changed]
                await asyncio.to_thread(self.matcher.apply, entries)
            if len(changed) < LOAD_PAGE:
                return
            after = changed[-1][0]

    # -- banks ------------------------------------------------------------------------

    async def all_banks(self) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            rows = await self._stores.banks.all(conn)
            counts = await self._stores.banks.counts(conn)
        return [bank_view(b, counts.get(b["id"])) for b in rows]

    async def get(self, name: str) -> dict[str, Any]:
        async with self._db.read() as conn:
            bank = await self._bank(conn, name)
            counts = await self._stores.banks.counts(conn)
        return bank_view(bank, counts.get(bank["id"]))

    async def do_create(self, values: Mapping[str, Any]) -> dict[str, Any]:
        fields = check_bank_fields(values, creating=True)

        async def create(tx: Tx) -> None:
            await tx.stores.banks.create(tx.conn, fields, tx.now)

        try:
            await self._writer.run(create)
        except DuplicateKey:
            raise Conflict(f"a bank named {fields['name']!r} exists", code="bank_exists") from None
        await self.refresh()
        return await self.get(fields["name"])

    async def do_update(self, name: str, values: Mapping[str, Any]) -> dict[str, Any]:
        fields = check_bank_fields(values, creating=False)

        async def change(tx: Tx) -> None:
            bank = await self._bank(tx.conn, name)
            if fields:
                await tx.stores.banks.update(tx.conn, bank["id"], fields, tx.now)

        try:
            await self._writer.run(change)
        except DuplicateKey:
            raise Conflict("a bank with that name exists", code="bank_exists") from None
        await self.refresh()
        return await self.get(fields.get("name", name))

    async def do_delete(self, name: str) -> None:
        async def remove(tx: Tx) -> None:
            bank = await self._bank(tx.conn, name)
            await tx.stores.banks.delete(tx.conn, bank["id"])

        await self._writer.run(remove)
        await self.refresh()

    async def _bank(self, conn: Conn, name: str) -> dict[str, Any]:
        bank = await self._stores.banks.by_name(conn, name)
        if bank is None:
            raise NotFound(f"no bank named {name!r}", code="no_such_bank")
        return bank

    # -- hashes -----------------------------------------------------------------------

    async def do_import(self, name: str, parsed: ParsedFile,
                        on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Add a whole validated file. Written in chunks (each its own transaction, so the
        server keeps serving); re-running an interrupted import is safe."""
        unique = {(r.signal, r.hash): dict(r.labels) for r in parsed.rows}
        rows = [(s, h, labels) for (s, h), labels in unique.items()]
        added = 0
        for start in range(0, len(rows), IMPORT_CHUNK):
            part = rows[start:start + IMPORT_CHUNK]
            added += await self._add(name, part)
            if on_progress:
                on_progress(len(part))
        return {"bank": name, "rows": len(parsed.rows), "unique": len(rows), "added": added,
                "already_present": len(rows) - added,
                "skipped_deleted": parsed.skipped_deleted}

    async def do_add_hashes(self, name: str, rows: Iterable[HashRow]) -> int:
        return await self._add(name, [(r.signal, r.hash, dict(r.labels)) for r in rows])

    async def do_remove_hashes(self, name: str, keys: Sequence[tuple[str, bytes]]) -> int:
        async def remove(tx: Tx) -> int:
            bank = await self._bank(tx.conn, name)
            version = await tx.stores.banks.bump(tx.conn, bank["id"], tx.now)
            return await tx.stores.banks.remove_hashes(tx.conn, bank["id"], keys, version)

        removed = await self._writer.run(remove)
        await self.refresh()
        return removed

    async def do_add_media(self, name: str, *,
                           image: Image.Image | np.ndarray[Any, Any] | None = None,
                           pdq: Iterable[bytes | str] = (), md5: bytes | str | None = None,
                           sha256: bytes | str | None = None,
                           all_eight_transforms: bool = True,
                           labels: Mapping[str, str] | None = None) -> int:
        """Bank a removed media item so every re-upload matches: its MD5 and SHA-256, and
        the PDQ of the image — all eight rotations and flips unless told otherwise."""
        tags = dict(labels or {})
        rows: list[tuple[str, bytes, dict[str, str]]] = []
        if md5 is not None:
            rows.append(("md5", _raw(md5, 16), tags))
        if sha256 is not None:
            rows.append(("sha256", _raw(sha256, 32), tags))
        rows.extend(("pdq", _raw(h, 32), tags) for h in pdq)
        if image is not None:
            hasher = pdq_dihedral if all_eight_transforms else (lambda i: [pdq_of(i)])
            hashes = await asyncio.to_thread(hasher, image)
            rows.extend(("pdq", h, tags) for h, _quality in hashes)
        if not rows:
            raise BadRequest("nothing to bank: give an image or hashes", code="no_hashes")
        return await self._add(name, rows)

    async def _add(self, name: str, rows: Sequence[tuple[str, bytes, dict[str, str]]]) -> int:
        async def add(tx: Tx) -> int:
            bank = await self._bank(tx.conn, name)
            version = await tx.stores.banks.bump(tx.conn, bank["id"], tx.now)
            added = await tx.stores.banks.add_hashes(tx.conn, bank["id"], rows, version, tx.now)
            if added and any(signal in _MEDIA_SIGNALS for signal, _, _ in rows):
                await self._queue_scan(tx, bank, version)
            return added

        added = await self._writer.run(add)
        await self.refresh()
        return added

    async def _queue_scan(self, tx: Tx, bank: Mapping[str, Any], version: int) -> None:
        """Media stored before these hashes came must be checked against them too. In the
        adding transaction, so a crash cannot lose the scan. It starts a poll interval
        later, when every process screens uploads against the new hashes: an upload screened
        before then has stored its own hashes by the time the scan reads them (bar one
        still being stored at that very moment). A negative or disabled bank never acts:
        nothing to scan."""
        if bank["negative"] or not bank["enabled"]:
            return
        scan_id = await tx.stores.banks.queue_scan(tx.conn, bank["id"], version, tx.now)
        if scan_id is not None:
            await tx.queue_job(SCAN_JOB, f"bank-scan:{scan_id}", {"scan_id": scan_id},
                               delay_ms=int(self._poll_s * 1000))

    async def export(self, name: str) -> tuple[dict[str, Any], list[HashRow]]:
        async with self._db.read() as conn:
            bank = await self._bank(conn, name)
            rows = await self._stores.banks.hashes(conn, bank["id"])
        meta = {k: bank[k] for k in ("name", "source", "category", "entity", "pdq_threshold",
                                     "quality_floor", "action", "negative")}
        return meta, [HashRow(r["signal"], r["hash"], r["labels"]) for r in rows]

    # -- matching ---------------------------------------------------------------------

    async def check(self, subject: str, *, md5: bytes | str | None = None,
                    sha256: bytes | str | None = None,
                    pdq: Sequence[tuple[bytes | str, int]] = ()) -> Verdict:
        """Match an upload's hashes against every enabled bank and record each match.
        `subject` says what was checked (e.g. "media:42"); it is stored with the match."""
        verdict = await asyncio.to_thread(self.matcher.check, md5, sha256, pdq)
        if verdict.matches:
            await self._writer.run(lambda tx: record_matches(tx, subject, verdict))
        return verdict

    async def screen_upload(self, media_id: str, hashes: Sequence[Hash]) -> str | None:
        """Match a processed upload's hashes (file MD5/SHA-256, PDQ of the picture or of
        every sampled video frame); the action to take: refuse, review or None."""
        md5 = next((h.value for h in hashes if h.algo == "md5"), None)
        sha256 = next((h.value for h in hashes if h.algo == "sha256"), None)
        pdq = [(h.value, h.quality or 0) for h in hashes if h.algo == "pdq"]
        verdict = await self.check(f"media:{media_id}", md5=md5, sha256=sha256, pdq=pdq)
        return verdict.action

    async def check_image(self, subject: str, image: Image.Image | np.ndarray[Any, Any], *,
                          md5: bytes | str | None = None,
                          sha256: bytes | str | None = None) -> Verdict:
        """`check` for a decoded image: hashes it with PDQ first (in a worker thread)."""
        pdq = await asyncio.to_thread(pdq_of, image)
        return await self.check(subject, md5=md5, sha256=sha256, pdq=[pdq])

    async def recent_matches(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            return await self._stores.banks.recent_matches(conn, limit)


async def record_matches(tx: Tx, subject: str, verdict: Verdict) -> None:
    """Every match of one check, acted on or not, in the `matches` table."""
    await tx.stores.banks.record_matches(tx.conn, [
        {"subject": subject[:128], "bank_id": m.bank_id, "bank_name": m.bank_name,
         "bank_hash_id": m.bank_hash_id, "signal": m.signal, "query_hash": m.query_hash,
         "banked_hash": m.banked_hash, "distance": m.distance, "outcome": m.outcome,
         "created_at": tx.now} for m in verdict.matches])


def _raw(value: bytes | str, size: int) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else bytes(value)
    except ValueError:
        raise BadRequest("hashes must be hex", code="invalid_hash") from None
    if len(raw) != size:
        raise BadRequest(f"expected a {size}-byte hash", code="invalid_hash")
    return raw
