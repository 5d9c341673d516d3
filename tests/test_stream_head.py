"""The proof of PostgreSQL's complete head, as a process keeps it (`storage/stream_head.py`):
a look's R is proven once none of the writers that look saw still writes."""

from __future__ import annotations

from darbuka.storage.stream_head import Watermark


def test_a_look_with_no_writer_proves_its_own_top_at_once() -> None:
    mark = Watermark()
    assert mark.look(7, frozenset()) == 7


def test_a_top_waits_for_every_writer_seen_with_it() -> None:
    mark = Watermark()
    assert mark.look(5, frozenset()) == 5
    assert mark.look(9, frozenset({"1:100", "2:101"})) == 5
    # One of them ended, one still writes; a new writer came: nothing more is proven.
    assert mark.look(12, frozenset({"2:101", "3:102"})) == 5
    # Both seen with 9 ended; 12's writer 3 still writes.
    assert mark.look(14, frozenset({"3:102", "4:103"})) == 9
    assert mark.look(14, frozenset({"5:104"})) == 14


def test_nothing_is_proven_before_a_first_proof_and_delivery_counts_once_there_is() -> None:
    mark = Watermark()
    assert mark.look(3, frozenset({"1:100"})) is None
    mark.delivered = 6
    assert mark.look(4, frozenset({"1:100"})) is None
    assert mark.look(8, frozenset({"2:101"})) == 6  # 3 and 4 proven; delivery reached 6
