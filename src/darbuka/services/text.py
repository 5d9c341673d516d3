"""Text people type. Names (display names, chat titles, bot and pack names, device names)
must look like what they are: no invisible or direction-changing characters that would let
"Support" pass for someone else's name or turn "gnp.exe" into "exe.png". Message text keeps
what people type — right-to-left writers use direction marks — but no text may hold NUL,
which PostgreSQL cannot store.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from darbuka.errors import BadRequest

__all__ = ["MAX_TEXT", "check_no_nul", "clean_name", "has_nul"]

# The longest message text, and so the longest draft of one.
MAX_TEXT = 4096

_ZWNJ, _ZWJ = "\u200c", "\u200d"


def _joins_emoji(before: str, after: str) -> bool:
    """ZWJ glues emoji into one (👩‍💻): keep it there and nowhere else."""
    return (unicodedata.category(before) in ("So", "Sk", "Mn")
            and unicodedata.category(after) in ("So", "Sk"))


def _joins_letters(before: str, after: str) -> bool:
    """ZWNJ keeps letters apart where a script joins them (Persian, the Indic scripts); it
    changes nothing visible between Latin letters, where it could only hide a difference."""
    return all(unicodedata.category(c)[0] in "LM" and not c.isascii() for c in (before, after))


def clean_name(raw: str) -> str:
    """`raw` without control and format characters (bidi embeddings, overrides, isolates
    and marks, zero-width spaces, word joiners, BOMs, tags, soft hyphens), runs of spaces
    folded into one and the ends trimmed. ZWJ and ZWNJ stay only where they join emoji or
    keep letters of a joining script apart."""
    out: list[str] = []
    chars = unicodedata.normalize("NFC", raw)
    for index, char in enumerate(chars):
        category = unicodedata.category(char)
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
            continue
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            before = out[-1] if out else ""
            after = chars[index + 1] if index + 1 < len(chars) else ""
            if before and after and (
                    (char == _ZWJ and _joins_emoji(before, after))
                    or (char == _ZWNJ and _joins_letters(before, after))):
                out.append(char)
            continue
        out.append(char)
    return "".join(out).strip()


def has_nul(value: Any) -> bool:
    """Whether a string, or any string inside lists and dicts, holds NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(has_nul(v) for v in value)
    return False


def check_no_nul(value: Any, field: str) -> None:
    if has_nul(value):
        raise BadRequest(f"{field} may not contain NUL characters", code=f"invalid_{field}")
