"""search: an index of every message's words (FTS5 on SQLite, a tsvector with GIN on
PostgreSQL), filled with the messages already stored

Revision ID: 0015
Revises: 0019
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from darbuka.storage.searchtext import index_text

revision = '0015'
down_revision = '0019'
branch_labels = None
depends_on = None

_CHUNK = 5000


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.create_table(
        'message_search',
        sa.Column('message_id', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('chat_id', sa.BigInteger(), nullable=False),
        sa.Column('pos', sa.BigInteger(), nullable=False),
        sa.Column('has_words', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint('message_id'),
    )
    if postgres:
        op.execute("ALTER TABLE message_search ADD COLUMN words tsvector NOT NULL "
                   "DEFAULT ''::tsvector")
        op.execute("CREATE INDEX ix_message_search_words ON message_search USING GIN (words)")
    else:
        op.execute("CREATE VIRTUAL TABLE message_fts USING fts5(body, content='', "
                   "detail=none, columnsize=0, tokenize='ascii')")
    _index_existing(bind, postgres)


def _positions(bind: Any) -> dict[int, int]:
    """Each stored message's `message.new` position (the spans are in positions)."""
    found: dict[int, int] = {}
    rows = bind.execute(sa.text("SELECT pos, payload FROM events WHERE type = 'message.new'"))
    for pos, payload in rows:
        message = orjson.loads(payload).get("message") or {}
        if isinstance(message.get("id"), int):
            found[message["id"]] = int(pos)
    return found


def _index_existing(bind: Any, postgres: bool) -> None:
    positions = _positions(bind)
    # A message whose event was pruned takes the stream's head: its chat's members today
    # find it (as they read it in the history), former members do not.
    head = int(bind.execute(sa.text("SELECT coalesce(max(pos), 0) FROM streams")).scalar())
    last = 0
    while True:
        rows = bind.execute(sa.text(
            # Deleted and removed messages have no text left: a row without words.
            "SELECT id, chat_id, text FROM messages WHERE id > :last AND kind != 'system' "
            "ORDER BY id LIMIT :n"), {"last": last, "n": _CHUNK}).all()
        if not rows:
            return
        last = int(rows[-1][0])
        entries = [{"id": int(i), "chat": int(c), "pos": positions.get(int(i), head),
                    "body": index_text(t or "")} for i, c, t in rows]
        for entry in entries:
            entry["has"] = bool(entry["body"])
        if postgres:
            bind.execute(sa.text(
                "INSERT INTO message_search (message_id, chat_id, pos, has_words, words) "
                "VALUES (:id, :chat, :pos, :has, "
                "array_to_tsvector(string_to_array(:body, ' ')))"), entries)
            continue
        bind.execute(sa.text("INSERT INTO message_search (message_id, chat_id, pos, has_words) "
                             "VALUES (:id, :chat, :pos, :has)"), entries)
        if words := [e for e in entries if e["body"]]:
            bind.execute(sa.text("INSERT INTO message_fts (rowid, body) VALUES (:id, :body)"),
                         words)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE message_fts")
    op.drop_table('message_search')
