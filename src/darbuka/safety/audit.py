"""The audit log: append-only, each record carrying the hash of the one before it.

Every automated or human safety action, and every read of a preserved copy, is recorded
here in the same transaction as the action itself. `darbuka admin audit verify` walks the
chain and names the first record that was changed, removed or inserted out of order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from darbuka.storage import Conn, Stores

__all__ = ["GENESIS", "ChainCheck", "do_audit", "record_hash", "verify_chain"]

GENESIS = bytes(32)


def record_hash(prev_hash: bytes, record: dict[str, Any]) -> bytes:
    """SHA-256 over the previous hash and the record's fields in a fixed JSON form."""
    fields = {k: record[k] for k in ("id", "at", "actor_id", "action", "target", "details")}
    return hashlib.sha256(prev_hash + orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).digest()


async def do_audit(conn: Conn, stores: Stores, *, now: int, actor_id: int | None,
                   action: str, target: str, details: dict[str, Any] | None = None) -> int:
    """Append one record inside the caller's transaction; return its id."""
    await stores.safety.lock_audit(conn)
    last = await stores.safety.last_audit(conn)
    prev_hash = bytes(last["hash"]) if last else GENESIS
    record: dict[str, Any] = {
        "id": (int(last["id"]) if last else 0) + 1, "at": now, "actor_id": actor_id,
        "action": action, "target": target,
        "details": orjson.dumps(details or {}, option=orjson.OPT_SORT_KEYS).decode(),
    }
    record["prev_hash"] = prev_hash
    record["hash"] = record_hash(prev_hash, record)
    await stores.safety.append_audit(conn, record)
    return int(record["id"])


@dataclass(frozen=True, slots=True)
class ChainCheck:
    records: int
    first_broken: int | None
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


async def verify_chain(conn: Conn, stores: Stores) -> ChainCheck:
    prev_hash, expected_id, count, after = GENESIS, 1, 0, 0
    while True:
        batch = await stores.safety.audit_records(conn, after=after)
        if not batch:
            return ChainCheck(count, None)
        for row in batch:
            broken = _check(row, prev_hash, expected_id)
            if broken:
                return ChainCheck(count, int(row["id"]), broken)
            prev_hash, expected_id, count = bytes(row["hash"]), expected_id + 1, count + 1
        after = int(batch[-1]["id"])


def _check(row: dict[str, Any], prev_hash: bytes, expected_id: int) -> str:
    if int(row["id"]) != expected_id:
        return f"record {expected_id} is missing"
    if bytes(row["prev_hash"]) != prev_hash:
        return "its link to the previous record does not match"
    if bytes(row["hash"]) != record_hash(prev_hash, row):
        return "its contents do not match its hash"
    return ""
