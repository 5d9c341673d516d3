"""Hash banks and the matches of uploads against them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["bank_hashes", "bank_scans", "banks", "matches"]

# Hash banks (safety): named lists of MD5, SHA-256 and PDQ hashes with their own thresholds.
# `version` goes up with every change to the bank or its hashes, under the bank's row lock,
# so another server process can load exactly the hash rows it has not seen yet.
banks = Table(
    "banks",
    metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("source", String(256), nullable=False, server_default=""),
    Column("category", String(64), nullable=False, server_default=""),
    Column("entity", String(128), nullable=False, server_default=""),
    Column("pdq_threshold", Integer, nullable=False, server_default="31"),
    Column("quality_floor", Integer, nullable=False, server_default="50"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    # refuse | review; ignored by negative banks, which never act.
    Column("action", String(16), nullable=False, server_default="review"),
    # Known false positives: a match here cancels the action of other banks' matches.
    Column("negative", Boolean, nullable=False, server_default="0"),
    Column("version", BigInteger, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

bank_hashes = Table(
    "bank_hashes",
    metadata,
    Column("id", Id, primary_key=True),
    Column("bank_id", ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    # md5 | sha256 | pdq: `hash` holds the raw bytes (16, 32, 32); url | domain: the
    # normalised text's UTF-8 (up to 2,048 bytes; `safety/links.py`).
    Column("signal", String(8), nullable=False),
    Column("hash", LargeBinary(), nullable=False),
    # JSON object of labels (category, entity, anything the source gave).
    Column("labels", Text, nullable=False, server_default="{}"),
    # The bank version that last touched this row; removed rows stay as tombstones so other
    # processes learn of the removal by the same version scan.
    Column("version", BigInteger, nullable=False),
    Column("removed", Boolean, nullable=False, server_default="0"),
    Column("added_at", BigInteger, nullable=False),
    UniqueConstraint("bank_id", "signal", "hash", name="uq_bank_hashes_hash"),
    Index("ix_bank_hashes_version", "bank_id", "version"),
)

# Every match of an upload against a bank, acted on or not (the transparency report counts
# these).
matches = Table(
    "matches",
    metadata,
    Column("id", Id, primary_key=True),
    # What was checked: the caller's reference (e.g. "media:123" or the upload's SHA-256).
    Column("subject", String(128), nullable=False),
    Column("bank_id", BigInteger, nullable=True),
    Column("bank_name", String(64), nullable=False),
    Column("bank_hash_id", BigInteger, nullable=True),
    Column("signal", String(8), nullable=False),
    # Hex of the checked hash (the upload's), and of the banked one it matched; for links,
    # the normalised URL or domain itself.
    Column("query_hash", String(2048), nullable=False),
    Column("banked_hash", String(2048), nullable=False),
    Column("distance", Integer, nullable=False),
    # refuse | review | cancelled (a negative bank matched too) | none (a negative match).
    Column("outcome", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_matches_created", "created_at"),
    # A queue item shows the matches of its media (`media:<id>`).
    Index("ix_matches_subject", "subject"),
)

# Stored media checked against the hashes a bank gained (retroactive matching, one job per
# scan: `safety/retro.py`). A scan covers the bank's hash rows stamped with a version in
# (from_version, to_version]; additions made while it is still queued widen it, so a large
# import written in chunks is one scan. `cursor` is the last `media_hashes.id` checked, so a
# scan taken over after a crash goes on where it stopped.
bank_scans = Table(
    "bank_scans",
    metadata,
    Column("id", Id, primary_key=True),
    Column("bank_id", BigInteger, nullable=False),
    Column("from_version", BigInteger, nullable=False),
    Column("to_version", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # queued | running | done
    Column("hashes", Integer, nullable=False, server_default="0"),  # new hashes checked for
    Column("total", BigInteger, nullable=False, server_default="0"),  # stored hashes to check
    Column("scanned", BigInteger, nullable=False, server_default="0"),
    Column("cursor", BigInteger, nullable=False, server_default="0"),
    Column("matched", Integer, nullable=False, server_default="0"),  # media acted on
    Column("created_at", BigInteger, nullable=False),
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Index("ix_bank_scans_bank", "bank_id", "state"),
)
