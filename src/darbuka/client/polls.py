"""Polls as the SDK hands them out: a poll message's definition, its results, and the
text the terminal client shows for one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Poll", "PollResults", "poll_lines"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Poll:
    """What every member sees of a poll (kind `poll`; its question is the message text).
    A quiz's right answer is not here: it comes with `PollResults` once you answered."""

    options: tuple[str, ...]
    multiple: bool = False
    anonymous: bool = True
    quiz: bool = False
    close_at: int | None = None
    closed_at: int | None = None

    @classmethod
    def from_json(cls, data: Json) -> Poll:
        return cls(options=tuple(data["options"]), multiple=bool(data.get("multiple")),
                   anonymous=bool(data.get("anonymous", True)), quiz=bool(data.get("quiz")),
                   close_at=data.get("close_at"), closed_at=data.get("closed_at"))


@dataclass(frozen=True, slots=True)
class PollResults:
    """A poll's results as you see them (`poll_results`, `vote`, and the `poll.results`
    event, which has no `mine`)."""

    message_id: int
    chat_id: int
    counts: tuple[int, ...]
    voters: int
    closed: bool
    mine: tuple[int, ...] = ()
    correct_option: int | None = None  # a quiz: once you answered, or it closed
    explanation: str | None = None
    voter_ids: tuple[tuple[int, ...], ...] | None = None  # a public poll: who chose each

    @classmethod
    def from_json(cls, data: Json) -> PollResults:
        who = data.get("voter_ids")
        return cls(message_id=int(data["message_id"]), chat_id=int(data["chat_id"]),
                   counts=tuple(data.get("counts") or ()), voters=int(data.get("voters", 0)),
                   closed=bool(data.get("closed")), mine=tuple(data.get("mine") or ()),
                   correct_option=data.get("correct_option"),
                   explanation=data.get("explanation"),
                   voter_ids=None if who is None else tuple(tuple(ids) for ids in who))


def poll_lines(question: str, poll: Poll, results: PollResults | None = None) -> list[str]:
    """A poll as plain text: the question, then each option with its count and share
    (`*` marks your choice, `✓` a quiz's right answer)."""
    kind = "quiz" if poll.quiz else "poll" if not poll.anonymous else "anonymous poll"
    closed = results.closed if results is not None else poll.closed_at is not None
    lines = [f"[{kind}{', closed' if closed else ''}] {question}"]
    for i, option in enumerate(poll.options):
        mark = "*" if results is not None and i in results.mine else " "
        right = " ✓" if results is not None and results.correct_option == i else ""
        if results is None:
            lines.append(f" {mark} {i + 1}. {option}")
            continue
        count = results.counts[i] if i < len(results.counts) else 0
        share = round(count * 100 / results.voters) if results.voters else 0
        bar = "█" * (share // 10)
        lines.append(f" {mark} {i + 1}. {option}{right}  {bar} {share}% ({count})")
    if results is not None:
        lines.append(f"   {results.voters} voted")
        if results.explanation and results.correct_option is not None:
            lines.append(f"   {results.explanation}")
    return lines
