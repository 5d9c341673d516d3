"""Statements of reasons (DSA Art. 17) in the field names of the DSA Transparency Database.

A statement goes to the affected user with every decision, and can be exported as-is to the
Transparency Database by platforms that must (small and micro enterprises are exempt).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["EU_STATES", "REASONS", "Decision", "Reason", "statement_body"]

# Why something is reported or removed (what request bodies declare), and each reason's
# category in the Transparency Database and, where there is one, its keyword.
Reason = Literal["terrorism", "child_safety", "violence", "hate", "spam", "other"]
REASONS: dict[Reason, tuple[str, str | None]] = {
    "terrorism": ("STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", "KEYWORD_TERRORIST_CONTENT"),
    "child_safety": ("STATEMENT_CATEGORY_PROTECTION_OF_MINORS", None),
    "violence": ("STATEMENT_CATEGORY_VIOLENCE", None),
    "hate": ("STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", None),
    "spam": ("STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE", None),
    "other": ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC", None),
}

EU_STATES = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU",
             "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")

# Decision → which restriction field it fills and with what.
_RESTRICTIONS: dict[str, tuple[str, str]] = {
    "remove_message": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),
    "disable_message": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_DISABLED"),
    "remove_media": ("decision_visibility", "DECISION_VISIBILITY_CONTENT_REMOVED"),
    "suspend_user": ("decision_account", "DECISION_ACCOUNT_SUSPENDED"),
    "ban_user": ("decision_account", "DECISION_ACCOUNT_TERMINATED"),
    "close_chat": ("decision_provision", "DECISION_PROVISION_TOTAL_TERMINATION"),
}

_SOURCES = {"report": "SOURCE_ARTICLE_16", "referral": "SOURCE_TRUSTED_FLAGGER",
            "hash_match": "SOURCE_VOLUNTARY", "order": "SOURCE_OTHER_NOTIFICATION",
            "own": "SOURCE_VOLUNTARY"}

_CONTENT_TYPES = {"message": ["CONTENT_TYPE_TEXT"], "send": ["CONTENT_TYPE_TEXT"],
                  "media": ["CONTENT_TYPE_IMAGE"], "user": ["CONTENT_TYPE_OTHER"],
                  "chat": ["CONTENT_TYPE_OTHER"]}

APPEAL_HOW = ("Complain within six months: POST /api/v1/appeals with this statement's id, or "
              "use Appeal in the app. A moderator who did not take this decision reviews it. "
              "You may also use an out-of-court dispute settlement body or go to court.")


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # a key of _RESTRICTIONS
    ground: str  # "illegal" | "terms"
    reason: Reason
    facts: str
    legal_ground: str = ""  # e.g. "Regulation (EU) 2021/784, Art. 3"
    clause: str = ""  # the clause of our terms, e.g. "Terms §4.2 (violent extremism)"
    source: str = "own"
    source_identity: str = ""
    automated_detection: bool = False
    automated_decision: str = "not"  # fully | partially | not
    territorial_scope: tuple[str, ...] = EU_STATES
    end_date: int | None = None  # ms; None: no end
    # The database's content types when the target's type does not say (media: image/video).
    content_type: tuple[str, ...] = ()


def statement_body(decision: Decision, *, target_type: str, target_id: int,
                   content_date: int | None, now: int, puid: str) -> dict[str, Any]:
    field, value = _RESTRICTIONS[decision.action]
    category, keyword = REASONS.get(decision.reason, REASONS["other"])
    body: dict[str, Any] = {
        field: value,
        "account_type": "ACCOUNT_TYPE_PRIVATE",
        "decision_facts": decision.facts[:5000],
        "category": category,
        "category_specification": [keyword] if keyword else [],
        "content_type": (list(decision.content_type)
                         or _CONTENT_TYPES.get(target_type, ["CONTENT_TYPE_OTHER"])),
        "content_date": _day(content_date or now),
        "application_date": _day(now),
        "territorial_scope": list(decision.territorial_scope),
        "source_type": _SOURCES.get(decision.source, "SOURCE_VOLUNTARY"),
        "automated_detection": "Yes" if decision.automated_detection else "No",
        "automated_decision": {"fully": "AUTOMATED_DECISION_FULLY",
                               "partially": "AUTOMATED_DECISION_PARTIALLY"}.get(
                                   decision.automated_decision, "AUTOMATED_DECISION_NOT_AUTOMATED"),
        "puid": puid,
        "redress": APPEAL_HOW,
        "target": {"type": target_type, "id": target_id},
    }
    if decision.source_identity:
        body["source_identity"] = decision.source_identity
    end_field = {"decision_visibility": "end_date_visibility_restriction",
                 "decision_account": "end_date_account_restriction",
                 "decision_provision": "end_date_service_restriction"}[field]
    body[end_field] = _day(decision.end_date) if decision.end_date else None
    if decision.ground == "illegal":
        body["decision_ground"] = "DECISION_GROUND_ILLEGAL_CONTENT"
        body["illegal_content_legal_ground"] = decision.legal_ground or "unspecified"
        body["illegal_content_explanation"] = decision.facts[:2000]
    else:
        body["decision_ground"] = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
        body["incompatible_content_ground"] = decision.clause or "Terms of service"
        body["incompatible_content_explanation"] = decision.facts[:2000]
        body["incompatible_content_illegal"] = "No"
    return body


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")
