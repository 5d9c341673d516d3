"""A person's download of their own data (GDPR Art. 20: what they provided, in a
machine-readable form): `POST /me/exports` queues a job that writes a zip, and the person
downloads it once it is ready. One export at a time per person; a newer one, once ready,
takes the place of the ones before (their zips go).

The zip holds `profile.json`, `settings.json` (privacy choices, whom they blocked),
`chats.json` (the chats they are in: kind, title, their role),
`messages.json` (the messages they sent, not deleted), `media/` (the files they sent, their
profile photo), and a small offline viewer: `index.html` and `viewer.js`, which reads
`data.js` (the same data as one script: a page opened from a folder may not fetch JSON) and
shows it with text nodes only, never as HTML. Nothing of anyone else's messages is in it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson

from darbuka.clock import Clock
from darbuka.errors import ApiError, Conflict, NotFound
from darbuka.media.blobs import BlobStore
from darbuka.media.zipout import ZipOut
from darbuka.services.ratelimit import WriteLimits
from darbuka.services.uploads import sanitise_filename
from darbuka.services.views import message_view, user_view
from darbuka.services.writer import Tx, Writer
from darbuka.storage import Conn, Database, Stores
from darbuka.storage.rows import MediaRow

__all__ = ["EXPORT_JOB", "ExportService", "export_view"]

log = logging.getLogger(__name__)

EXPORT_JOB = "export.person"
_PAGE = 1000
_VIEWER = ("index.html", "viewer.js")
_VIEWER_DIR = Path(__file__).parent / "export_viewer"
_PRIVACY = ("find_by_phone", "last_seen", "group_add")


class ExportNotReady(ApiError):
    status = 409
    code = "export_not_ready"


def export_view(row: dict[str, Any]) -> dict[str, Any]:
    view = {"id": row["id"], "state": row["state"], "created_at": row["created_at"]}
    if row["finished_at"] is not None:
        view["finished_at"] = row["finished_at"]
    if row["state"] == "ready":
        view["size"] = row["size"]
        view["download"] = f"/api/v1/me/exports/{row['id']}/download"
    if row["error"]:
        view["error"] = row["error"]
    return view


class ExportService:
    def __init__(self, db: Database, stores: Stores, writer: Writer, clock: Clock,
                 blobs: BlobStore, work_dir: Path, *, writes: WriteLimits) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._clock = clock
        self._blobs = blobs
        self._work = work_dir
        self._writes = writes

    async def do_request(self, user_id: int) -> dict[str, Any]:
        """Queue an export; 409 `export_running` while one is being made."""
        await self._writes.check("other", user_id)

        async def request(tx: Tx) -> dict[str, Any]:
            latest = await tx.stores.exports.of_user(tx.conn, user_id, limit=1)
            if latest and latest[0]["state"] == "pending":
                raise Conflict("your data is already being exported; download it when it "
                               "is ready", code="export_running")
            export_id = await tx.stores.exports.add(tx.conn, user_id, now=tx.now)
            await tx.queue_job(EXPORT_JOB, f"export:{export_id}", {"export_id": export_id})
            row = await tx.stores.exports.get(tx.conn, export_id)
            assert row is not None  # noqa: S101 - added just above
            return export_view(row)

        return await self._writer.run(request)

    async def list_for(self, user_id: int) -> list[dict[str, Any]]:
        async with self._db.read() as conn:
            return [export_view(r) for r in await self._stores.exports.of_user(conn, user_id)]

    async def get(self, user_id: int, export_id: int) -> dict[str, Any]:
        """The caller's own export; anyone else's is 404, as one that does not exist."""
        async with self._db.read() as conn:
            row = await self._stores.exports.get(conn, export_id)
        if row is None or row["user_id"] != user_id:
            raise NotFound("no such export", code="export_not_found")
        return row

    async def open_download(self, user_id: int, export_id: int) -> tuple[Any, int]:
        """The zip's bytes in chunks and its size."""
        row = await self.get(user_id, export_id)
        if row["state"] != "ready" or row["blob"] is None:
            raise ExportNotReady({
                "pending": "this export is not ready yet",
                "expired": "a newer export took this one's place"}.get(
                    row["state"], "this export failed; ask for a new one"))
        try:
            return await self._blobs.open(row["blob"]), int(row["size"])
        except FileNotFoundError:
            raise NotFound("the export is gone from storage", code="blob_missing") from None

    # -- the job ------------------------------------------------------------------------

    async def run_job(self, payload: dict[str, Any]) -> None:
        export_id = int(payload["export_id"])
        async with self._db.read() as conn:
            row = await self._stores.exports.get(conn, export_id)
        if row is None or row["state"] != "pending":
            return
        self._work.mkdir(parents=True, exist_ok=True)
        path = self._work / f"export-{export_id}.zip"
        try:
            await self._write(row["user_id"], path)
            key, size = await self._blobs.put_file(path, move=True)
        finally:
            path.unlink(missing_ok=True)
        await self._finish(export_id, {"state": "ready", "blob": key, "size": size},
                           user_id=row["user_id"])

    async def give_up_job(self, payload: dict[str, Any], error: str) -> None:
        log.warning("export %s failed: %s", payload.get("export_id"), error)
        await self._finish(int(payload["export_id"]), {
            "state": "failed", "error": "the export could not be made; ask for a new one"})

    async def _finish(self, export_id: int, values: dict[str, Any], *,
                      user_id: int | None = None) -> None:
        async def finish(tx: Tx) -> None:
            await tx.stores.exports.finish(tx.conn, export_id,
                                           {**values, "finished_at": tx.now})
            if user_id is not None:  # the newer zip is ready: the older ones go
                await tx.stores.exports.expire_before(tx.conn, user_id, export_id)

        await self._writer.run(finish)

    async def _write(self, user_id: int, path: Path) -> None:
        async with self._db.read() as conn:
            user = await self._stores.users.get(conn, user_id)
            if user is None:
                raise NotFound("no such user", code="user_not_found")
            chats = [{"id": c["id"], "kind": c["kind"], "title": c["title"],
                      "role": c["role"]}
                     for c in await self._stores.chats.user_chats(conn, user_id)]
            messages = await _sent(conn, self._stores, user_id)
            chosen = (await self._stores.privacy.settings(conn, [user_id])).get(user_id, {})
            settings = {"privacy": {k: chosen.get(k, "everyone") for k in _PRIVACY},
                        "blocked": [{"user_id": r["blocked_id"], "at": r["created_at"]}
                                    for r in await self._stores.privacy.blocked_by(
                                        conn, user_id)]}
            wanted = {str(m["id"]) for v in messages if (media := v.get("media"))
                      for m in v.get("album") or [media]}
            if user["avatar"]:
                wanted.add(user["avatar"])
            media = await self._stores.media.by_ids(conn, wanted)
        profile = user_view(user)
        files: dict[str, str] = {}  # media id -> its path in the zip
        async with ZipOut(path) as zf:
            for media_id, row in sorted(media.items()):
                if row["owner_id"] != user_id:  # a sticker of someone's pack
                    continue
                found = _largest(row)
                if found is None:
                    continue
                name = f"media/{media_id}/{sanitise_filename(row['filename'] or found[1])}"
                try:
                    chunks = await self._blobs.open(found[0])
                except FileNotFoundError:
                    continue
                await zf.add_chunks(name, chunks)
                files[media_id] = name
            data = {"format": "darbuka-export-1", "exported_at": self._clock.now_ms(),
                    "profile": profile, "settings": settings, "chats": chats,
                    "messages": messages, "files": files}
            await zf.add("profile.json", _json(profile))
            await zf.add("settings.json", _json(settings))
            await zf.add("chats.json", _json(chats))
            await zf.add("messages.json", _json(messages))
            await zf.add("files.json", _json(files))
            await zf.add("data.js", b"window.DARBUKA_EXPORT = " + orjson.dumps(data) + b";\n")
            for name in _VIEWER:
                await zf.add(name, await asyncio.to_thread((_VIEWER_DIR / name).read_bytes))


async def _sent(conn: Conn, stores: Stores, user_id: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while page := await stores.messages.sent_by(conn, user_id, after_id=after, limit=_PAGE):
        out += [message_view(r) for r in page]
        after = page[-1]["id"]
    return out


def _largest(row: MediaRow) -> tuple[str, str] | None:
    """The original's key (else the largest variant's) and a name for it."""
    variants: dict[str, Any] = orjson.loads(row["variants"] or "{}")
    if not variants:
        return None
    name = "original" if "original" in variants else max(
        variants, key=lambda v: int(variants[v]["size"]))
    mime = str(variants[name].get("mime", ""))
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
                 "audio/ogg": ".ogg", "video/mp4": ".mp4"}.get(mime, "")
    return str(variants[name]["key"]), f"{row['kind']}{extension}"


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
