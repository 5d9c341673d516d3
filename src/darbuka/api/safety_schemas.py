"""Request bodies of the trust-and-safety routes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from darbuka.api.schemas import Body, Id

__all__ = [
    "AppealBody",
    "AppealDecisionBody",
    "ConfirmOrderBody",
    "DecisionBody",
    "ExtendBody",
    "OrderBody",
    "RefuseOrderBody",
    "ReportBody",
]

Reason = Literal["terrorism", "child_safety", "violence", "hate", "spam", "other"]
# Times are milliseconds since the epoch, like everywhere in the API.
Millis = int


class ReportBody(Body):
    target_type: Literal["message", "user", "chat"]
    target_id: Id
    reason: Reason
    note: str = Field("", max_length=1000)


class DecisionBody(Body):
    action: Literal["remove_message", "remove_media", "suspend_user", "ban_user",
                    "close_chat", "dismiss"]
    # "illegal": against the law (name it in legal_ground); "terms": against our terms.
    ground: Literal["illegal", "terms"] = "terms"
    reason: Reason = "other"
    facts: str = Field("", max_length=5000)
    legal_ground: str = Field("", max_length=500)
    clause: str = Field("", max_length=500)
    # When a suspension ends (ms); none for a removal, a ban or a permanent closure.
    end_date: Millis | None = Field(None, gt=0, lt=2**53)


class OrderBody(Body):
    """Annex I of Regulation 2021/784: who issued it, its reference, when, what and why."""

    issuing_authority: str = Field(min_length=1, max_length=256)
    issuing_state: str = Field("", max_length=2, examples=["DE"])
    reference: str = Field(min_length=1, max_length=128)
    issued_at: Millis = Field(gt=0, lt=2**53)
    location: str = Field(min_length=1, max_length=2048,
                          examples=["https://chat.example.org/chats/12/messages/345"])
    reasons: str = Field(min_length=1, max_length=5000)
    message_id: Id | None = None


class ConfirmOrderBody(Body):
    facts: str = Field("", max_length=5000)


class RefuseOrderBody(Body):
    """Annex III: why the order could not be carried out."""

    reason: Literal["force_majeure", "de_facto_impossibility", "manifest_error",
                    "missing_information"]
    explanation: str = Field("", max_length=5000)


class AppealBody(Body):
    statement_id: Id
    text: str = Field(min_length=1, max_length=4000)


class AppealDecisionBody(Body):
    outcome: Literal["upheld", "reversed"]
    reply: str = Field("", max_length=4000)


class ExtendBody(Body):
    days: int = Field(ge=1, le=3650)
