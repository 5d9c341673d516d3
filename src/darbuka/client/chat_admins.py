"""What chat admins' tools answer, typed: bans, join requests, admin log entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AdminLogEntry", "Ban", "JoinRequest"]

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Ban:
    user_id: int
    banned_by: int
    created_at: int

    @classmethod
    def from_json(cls, data: Json) -> Ban:
        return cls(int(data["user_id"]), int(data["banned_by"]), int(data["created_at"]))


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A request to join a chat whose admins approve newcomers: what a join answers there,
    and what the admins list."""

    chat_id: int
    user_id: int
    created_at: int

    @classmethod
    def from_json(cls, data: Json) -> JoinRequest:
        return cls(int(data["chat_id"]), int(data["user_id"]), int(data["created_at"]))


@dataclass(frozen=True, slots=True)
class AdminLogEntry:
    """One admin action: `action` as docs/moderation.md lists them, `details` what changed."""

    id: int
    actor_id: int
    action: str
    target_id: int | None
    created_at: int
    details: Json = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Json) -> AdminLogEntry:
        return cls(int(data["id"]), int(data["actor_id"]), data["action"], data.get("target_id"),
                   int(data["created_at"]), dict(data.get("details") or {}))
