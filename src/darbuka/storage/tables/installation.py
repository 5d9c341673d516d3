"""What belongs to the installation as a whole rather than to any user: one row."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, Table

from darbuka.storage.tables.base import metadata

__all__ = ["installation"]

installation = Table(
    "installation",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 0
    # HMAC-SHA256 of a fixed label under the secret of the first start (`secret.fingerprint`),
    # never the secret: every later process checks its own against it.
    Column("secret_fingerprint", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)
