"""People's accounts, their devices, sign-in codes, and the one namespace of
@usernames and group/channel handles."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
)

from darbuka.storage.tables.base import Id, metadata

__all__ = ["devices", "handles", "login_codes", "users"]

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("phone", String(20), nullable=True, unique=True),
    Column("username", String(32), nullable=True),
    # Lower-cased copy that carries the uniqueness: @Alice and @alice are the same handle.
    Column("username_key", String(32), nullable=True, unique=True),
    Column("display_name", String(64), nullable=False, server_default=""),
    Column("about", String(512), nullable=False, server_default=""),
    Column("kind", String(16), nullable=False, server_default="person"),
    Column("created_at", BigInteger, nullable=False),
    # Staff role: user | moderator | operator. Set only by operators (`darbuka admin set-role`).
    Column("role", String(16), nullable=False, server_default="user"),
    # active | suspended | banned; a suspension ends at `restricted_until` (null: no end).
    Column("status", String(16), nullable=False, server_default="active"),
    Column("restricted_until", BigInteger, nullable=True),
    # Reports from trusted flaggers (DSA Art. 22) go ahead of other users' reports.
    Column("trusted_flagger", Boolean, nullable=False, server_default="0"),
    # Media id of the profile photo (kind "avatar"), when one is set.
    Column("avatar", String(32), nullable=True),
)

devices = Table(
    "devices",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    # SHA-256 of the token; the token itself is shown once and never stored.
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    # Never reuse an id (SQLite would reuse the highest after a delete): `device.revoked`
    # names devices by id, and must never name a later device of the same account.
    sqlite_autoincrement=True,
)

login_codes = Table(
    "login_codes",
    metadata,
    Column("phone", String(20), primary_key=True),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    # Checks of a code against this number since `attempts_reset_at` - `1 hour`; a new code
    # keeps the count (see `LoginCodeStore`), so asking again buys no more guesses.
    Column("attempts", Integer, nullable=False, server_default="0"),
)

# One namespace for user @usernames and group/channel @handles. `key` is the normalised
# form (NFKC, casefold); `skeleton` folds look-alike letters (0/o, 1/l/i, …) so a handle that
# looks like a verified account's can be refused.
handles = Table(
    "handles",
    metadata,
    Column("key", String(32), primary_key=True),
    Column("skeleton", String(32), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=True, unique=True),
    Column("chat_id", BigInteger, nullable=True, unique=True),
    # Whose it is: the user, or the chat's owner.
    Column("owner_id", BigInteger, nullable=False),
)

# Columns added to older tables by the social migration.
users.append_column(Column("verified", Boolean, nullable=False, server_default="0"))
# By the sessions migration: when the count of code checks starts over (ms; 0: not started).
login_codes.append_column(Column("attempts_reset_at", BigInteger, nullable=False,
                                 server_default="0"))
