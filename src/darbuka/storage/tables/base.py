"""What every table shares: the metadata they register on, and the id column type.

Times are integer milliseconds since the epoch; ids are integers. Changes go through a new
numbered migration in `migrations/versions/`, never an edit here alone.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

__all__ = ["Id", "metadata"]

metadata = MetaData()

# SQLite only makes INTEGER PRIMARY KEY an alias of the rowid; BigInteger would not autoincrement.
Id = BigInteger().with_variant(Integer(), "sqlite")
