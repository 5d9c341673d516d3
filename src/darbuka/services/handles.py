"""@handles: one namespace for user @usernames and group/channel handles.

A handle is normalised before anything else: NFKC (full-width letters become ASCII, ligatures
split), then casefold (`Straße` becomes `strasse`). What is left must be 5 to 32 of
[a-z0-9_], starting with a letter; everything else is refused. So look-alike letters from
other scripts (Cyrillic a, Greek omicron) are refused, not guessed at. Inside that charset a
*skeleton* folds the characters people mistake for each other (0/o, 1/l/i, 3/e, 5/s, and
drops `_`): a handle whose skeleton is a verified account's (`paypa1`, `pay_pal` against a
verified `paypal`) can only be taken by a verified account.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from darbuka.errors import BadRequest, Conflict, Forbidden
from darbuka.services.writer import Tx
from darbuka.storage.rows import ChatFields, ChatRow

__all__ = ["check_chat_handle", "check_handle", "do_claim", "do_release", "do_set_chat_handle",
           "normalise", "skeleton"]

HANDLE = re.compile(r"[a-z][a-z0-9_]{3,31}")
# Keep in step with the frozen copy in migration 0005.
_LOOKALIKE = str.maketrans({"0": "o", "1": "l", "i": "l", "3": "e", "5": "s", "_": None})


def normalise(raw: str) -> str:
    return unicodedata.normalize("NFKC", raw.strip().removeprefix("@")).casefold()


def check_handle(raw: Any, *, min_length: int = 5) -> tuple[str, str]:
    """(display form, key) or BadRequest. The display form keeps the user's capitals."""
    if not isinstance(raw, str):
        raise BadRequest("handle must be text", code="invalid_handle")
    key = normalise(raw)
    if not HANDLE.fullmatch(key) or len(key) < min_length:
        raise BadRequest(f"handle: {min_length} to 32 of a-z, 0-9 and _, starting with a "
                         "letter (letters of other scripts are refused)",
                         code="invalid_handle")
    display = unicodedata.normalize("NFKC", raw.strip().removeprefix("@"))
    if display.casefold() != key or not display.isascii():
        display = key
    return display, key


def skeleton(key: str) -> str:
    return key.translate(_LOOKALIKE)[:32]


async def do_claim(tx: Tx, key: str, *, owner_id: int, user_id: int | None = None,
                   chat_id: int | None = None) -> None:
    """Take `key` for a user or a chat (dropping its old handle); Conflict when taken.

    A handle whose skeleton matches a verified account's needs the claimant to be that
    account or verified too: this stops squatting on brands' names.
    """
    store = tx.stores.handles
    holder = await store.get(tx.conn, key)
    if holder is not None and (holder["user_id"], holder["chat_id"]) != (user_id, chat_id):
        raise Conflict("that handle is taken", code="handle_taken")
    shape = skeleton(key)
    if (await store.verified_lookalike(tx.conn, shape, other_than=owner_id)
            and not await store.is_verified(tx.conn, owner_id)):
        raise Conflict("that handle looks like a verified account's; only a verified "
                       "account may take it", code="handle_reserved")
    if holder is None:
        await store.release(tx.conn, user_id=user_id, chat_id=chat_id)
        await store.insert(tx.conn, key=key, skeleton=shape, user_id=user_id,
                           chat_id=chat_id, owner_id=owner_id)


async def do_release(tx: Tx, *, user_id: int | None = None, chat_id: int | None = None) -> None:
    await tx.stores.handles.release(tx.conn, user_id=user_id, chat_id=chat_id)


def check_chat_handle(raw: Any) -> tuple[str, str] | None:
    """The PATCH value: a handle (display, key), or None to make the chat private again."""
    if raw is None or raw == "":
        return None
    return check_handle(raw)


async def do_set_chat_handle(tx: Tx, chat: ChatRow,
                             handle: tuple[str, str] | None) -> ChatFields:
    """Claim or drop the chat's handle; returns the column values to store on the chat."""
    if chat["kind"] == "direct":
        raise Forbidden("direct chats have no handle", code="direct_chat")
    if handle is None:
        await do_release(tx, chat_id=chat["id"])
        return {"handle": None, "is_public": False}
    display, key = handle
    assert chat["owner_id"] is not None  # noqa: S101 - groups and channels have an owner
    await do_claim(tx, key, owner_id=chat["owner_id"], chat_id=chat["id"])
    return {"handle": display, "is_public": True}
