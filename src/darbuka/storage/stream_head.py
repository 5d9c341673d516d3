"""How far PostgreSQL's event stream is complete, with writers on several processes.

On PostgreSQL positions come from a sequence (`event_pos`), so writers take them without
waiting for each other and commit in any order. A reader must still never read N+1 while N
belongs to a transaction that may yet commit: a client whose cursor passed N would miss it
forever. So the head a reader reads up to is proven, never merely observed:

1. A writer's transaction has its id (xid) before it takes a position (the one-time filter
   of `events._NEXT_PG`): from before the moment a position is handed out until its
   transaction ends, the writer's backend shows that xid.
2. A look (`darbuka_stream_look()`, migration 0027) reads the sequence's last value R, and
   *then* the backends of this database that hold an xid (W). Every transaction holding a
   position <= R showed its xid before R was read: it is in W, or it has already ended.
3. A backend stops showing its xid in the same step that makes its commit visible to new
   snapshots (or after its rollback). So at a later look that finds none of W still
   writing, every position <= R is decided: committed, and visible to every snapshot taken
   from then on, or rolled back (a hole nothing will ever fill). A look that finds W empty
   proves its own R at once.

Looks run before the reading transaction takes its snapshot (`Conn.before_snapshot`), so
what they prove holds for it. Each process keeps its unproven pairs (R, W); one is proven by
the first later look in which none of its writers still write — about one write later
under load, at once when idle. Only this database's writers delay a proof (a transaction
of another database on the same server does not), and Darbuka's write transactions are
short (a batch at most).
"""

from __future__ import annotations

__all__ = ["Watermark"]

# Unproven pairs kept; past this the oldest go (a later pair proves all they would).
PAIRS = 64


class Watermark:
    def __init__(self) -> None:
        self._pairs: list[tuple[int, frozenset[str]]] = []
        # The largest R proven so far (None before the first proof), and the highest
        # position live delivery handed out in order (`EventStore.note_delivered`).
        self.proven: int | None = None
        self.delivered = 0

    def look(self, top: int, writing: frozenset[str]) -> int | None:
        """Learn a look's R (`top`) and writers; the complete head it proves (or the best
        proven before), for any snapshot taken from now on. None: nothing proven yet."""
        kept: list[tuple[int, frozenset[str]]] = []
        for r, writers in self._pairs:
            if writers & writing:
                kept.append((r, writers))
            else:
                self._prove(r)
        if writing:
            kept.append((top, writing))
        else:
            self._prove(top)
        self._pairs = kept[-PAIRS:]
        if self.proven is None:
            return None
        return max(self.proven, self.delivered)

    def _prove(self, r: int) -> None:
        self.proven = r if self.proven is None else max(self.proven, r)
