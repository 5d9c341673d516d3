"""A chat written out as evidence (`darbuka admin export-chat`), and the check of such a zip
(`darbuka admin verify-export`).

The zip holds `chat.json`, `members.json`, `messages.json` (every message, deleted and
removed ones with their flags) and `media/<id>/<variant>` for each file the messages
carry. `manifest.json` lists the SHA-256 of every other file and the audit chain's head when
the export was made; `manifest.sig` is an HMAC-SHA-256 of the manifest under a key derived
from the server secret. The export itself is then an audit record naming the manifest's
SHA-256, so the chain says when it was made and that it was not made again otherwise.

A changed byte shows: in a file (its hash or the zip's own CRC), in the manifest (the
signature), or in the chain (`audit verify`). Checking the signature needs the secret, so
it is checked by this server's operator (or another with the same secret).
"""

from __future__ import annotations

import hashlib
import hmac
import zipfile
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from darbuka.errors import NotFound
from darbuka.media.blobs import BlobStore
from darbuka.media.zipout import ZipOut
from darbuka.safety.audit import do_audit
from darbuka.services.views import chat_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores

__all__ = ["FORMAT", "Checked", "Written", "export_chat", "verify_export"]

FORMAT = "darbuka-evidence-1"
_LABEL = b"darbuka evidence export v1"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Written:
    messages: int
    files: int
    audit_id: int


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    files: int = 0
    audit_head: int | None = None
    why: str = ""


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, _LABEL, hashlib.sha256).digest()


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2
                        | orjson.OPT_NON_STR_KEYS)  # column names are str subclasses


async def export_chat(db: Database, stores: Stores, writer: Writer, blobs: BlobStore,
                      secret: bytes, chat_id: int, out: Path, *, now_ms: int) -> Written:
    """Write the chat to `out` (made whole next to it, then moved in place)."""
    async with db.read() as conn:
        chat = await stores.chats.get(conn, chat_id)
        if chat is None:
            raise NotFound(f"no chat {chat_id}", code="chat_not_found")
        members = await _members(conn, stores, chat_id)
        messages = await _messages(conn, stores, chat_id)
        media = await stores.media.by_ids(conn, {str(m["id"]) for r in messages if r["media"]
                                                 for m in r["media"].get("album")
                                                 or [r["media"]]})
        head = await stores.safety.last_audit(conn)
    async with ZipOut(out) as zf:
        await zf.add("chat.json", _json(chat_view(chat)))
        await zf.add("members.json", _json(members))
        await zf.add("messages.json", _json(messages))
        for media_id, row in sorted(media.items()):
            for variant, stored in sorted(orjson.loads(row["variants"] or "{}").items()):
                await zf.add_chunks(f"media/{media_id}/{variant}",
                                    await _chunks(blobs, str(stored["key"])))
        files = dict(zf.hashes)
        manifest = _json({"format": FORMAT, "chat_id": chat_id, "exported_at": now_ms,
                          "files": files,
                          "audit_head": None if head is None else {
                              "id": int(head["id"]), "hash": bytes(head["hash"]).hex()}})
        await zf.add(MANIFEST, manifest)
        await zf.add(SIGNATURE, hmac.new(_key(secret), manifest, "sha256").hexdigest().encode())

    async def record(tx: Tx) -> int:
        return await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None,
                              action="chat.exported", target=f"chat:{chat_id}", details={
                                  "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
                                  "files": len(files), "messages": len(messages)})

    return Written(len(messages), len(files), await writer.run(record))


async def _members(conn: Conn, stores: Stores, chat_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = 0
    while page := await stores.chats.list_members(conn, chat_id, after_user=after,
                                                  limit=_PAGE):
        rows += [dict(r) for r in page]
        after = page[-1]["user_id"]
    users = await stores.users.by_ids(conn, [r["user_id"] for r in rows])
    for row in rows:
        user = users.get(row["user_id"])
        if user is not None:
            row |= {"display_name": user["display_name"], "username": user["username"],
                    "kind": user["kind"]}
    return rows


async def _messages(conn: Conn, stores: Stores, chat_id: int) -> list[dict[str, Any]]:
    """Every message as stored (the JSON columns decoded), deleted and removed ones too
    (their words are gone; a removal's preserved copy is in `safety/preservation.py`)."""
    out: list[dict[str, Any]] = []
    after = 0
    while page := await stores.messages.page(conn, chat_id, before=None, after=after,
                                             limit=_PAGE):
        for row in page:
            view: dict[str, Any] = dict(row)
            for name in ("forward_of", "system", "media", "keyboard", "markup"):
                if view.get(name):
                    view[name] = orjson.loads(view[name])
            out.append(view)
        after = page[-1]["seq"]
    return out


async def _chunks(blobs: BlobStore, key: str) -> AsyncIterator[bytes]:
    """The blob's bytes; none for a blob gone from storage (its hash in the manifest is then
    the empty file's: the file was gone when the export was made)."""
    try:
        return await blobs.open(key)
    except FileNotFoundError:
        return _nothing()


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


async def verify_export(db: Database, stores: Stores, secret: bytes, path: Path) -> Checked:
    """Every file against the manifest, the manifest against its signature, and the
    manifest's audit head and the export's own record against this server's chain."""
    checked, manifest = _check_zip(path, secret)
    if not checked.ok or manifest is None:
        return checked
    digest = hashlib.sha256(manifest).hexdigest()
    head = orjson.loads(manifest)["audit_head"]
    after = 0 if head is None else int(head["id"]) - 1
    async with db.read() as conn:
        named = await stores.safety.audit_records(conn, after=after, limit=1)
        if head is not None and (not named or bytes(named[0]["hash"]).hex() != head["hash"]):
            return Checked(False, checked.files, why=f"audit record {head['id']} is not the "
                           "one the export names (another server, or a changed chain)")
        if not await _recorded(conn, stores, digest, after=after):
            return Checked(False, checked.files, why="the audit chain has no record of "
                           "this export")
    return Checked(True, checked.files, None if head is None else int(head["id"]))


async def _recorded(conn: Conn, stores: Stores, digest: str, *, after: int) -> bool:
    """Whether a `chat.exported` record after the head names this manifest."""
    while batch := await stores.safety.audit_records(conn, after=after, limit=_PAGE):
        if any(r["action"] == "chat.exported"
               and orjson.loads(str(r["details"])).get("manifest_sha256") == digest
               for r in batch):
            return True
        after = int(batch[-1]["id"])
    return False


def _check_zip(path: Path, secret: bytes) -> tuple[Checked, bytes | None]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {MANIFEST, SIGNATURE} <= names:
                return Checked(False, why="no manifest or no signature in it"), None
            manifest, signature = zf.read(MANIFEST), zf.read(SIGNATURE).decode().strip()
            expected = hmac.new(_key(secret), manifest, "sha256").hexdigest()
            if not hmac.compare_digest(signature, expected):
                return Checked(False, why="the manifest's signature does not match (changed, "
                               "or signed by another server)"), None
            files: dict[str, str] = orjson.loads(manifest)["files"]
            if extra := sorted(names - set(files) - {MANIFEST, SIGNATURE}):
                return Checked(False, why=f"{extra[0]} is not in the manifest"), None
            for name, sha in files.items():
                if name not in names:
                    return Checked(False, why=f"{name} is missing"), None
                if hashlib.sha256(zf.read(name)).hexdigest() != sha:
                    return Checked(False, why=f"{name} does not match its hash"), None
    except (zipfile.BadZipFile, zlib.error, UnicodeDecodeError, orjson.JSONDecodeError,
            KeyError, OSError) as err:
        return Checked(False, why=f"the zip is damaged: {err}"), None
    return Checked(True, len(files)), manifest
