"""`darbuka admin export-chat` and `verify-export`: a chat as signed evidence; any changed
byte (a file, the manifest, a file added) makes the check fail."""

from __future__ import annotations

import zipfile
from pathlib import Path

import orjson

from darbuka.safety.audit import verify_chain
from tests.conftest import LiveServer
from tests.helpers import new_client_id
from tests.media_helpers import png, upload_ready
from tests.test_import_telegram import admin, live  # noqa: F401 - the fixture


def test_a_chat_exported_as_evidence_verifies_and_tampering_shows(
        live: LiveServer, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    alice, bob, carol = (live.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    chat = alice.group("Evidence", [bob])
    alice.send(chat["id"], "first words")
    gone = bob.send(chat["id"], "words taken back")
    bob.ok("DELETE", f"/chats/{chat['id']}/messages/{gone['id']}")
    picture = upload_ready(alice, png(), "photo", "p.png")
    alice.ok("POST", f"/chats/{chat['id']}/messages",
             json={"client_id": new_client_id(), "media_id": picture["id"]})
    carol.send(carol.direct(alice)["id"], "not in this chat")

    out = tmp_path / "evidence.zip"
    code, text = admin(live, "export-chat", str(chat["id"]), str(out))
    assert code == 0, text
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        messages = orjson.loads(zf.read("messages.json"))
        manifest = orjson.loads(zf.read("manifest.json"))
        members = orjson.loads(zf.read("members.json"))
    assert {"chat.json", "members.json", "messages.json", "manifest.json",
            "manifest.sig"} <= names
    assert any(n.startswith(f"media/{picture['id']}/") for n in names)
    texts = [m["text"] for m in messages if m["kind"] == "text"]
    assert texts == ["first words", ""]  # a deleted message: its place and time stay
    assert [m["deleted"] for m in messages if m["kind"] == "text"] == [False, True]
    assert "not in this chat" not in str(messages)
    assert {m["user_id"] for m in members} == {alice.id, bob.id}
    assert set(manifest["files"]) == names - {"manifest.json", "manifest.sig"}
    assert manifest["audit_head"] is None or manifest["audit_head"]["id"] >= 1

    code, text = admin(live, "verify-export", str(out))
    assert code == 0, text
    assert "export verified" in text
    # The export is in the audit chain, and the chain still holds.
    async def chain() -> tuple[bool, list[str]]:
        rt = live.app.state.runtime
        async with rt.db.read() as conn:
            check = await verify_chain(conn, rt.stores)
            records = await rt.stores.safety.audit_records(conn)
        return check.ok, [r["action"] for r in records]

    ok, actions = live.run_async(chain())
    assert ok
    assert actions[-1] == "chat.exported"

    # One byte changed in the middle of the zip.
    raw = bytearray(out.read_bytes())
    raw[len(raw) // 3] ^= 0x01
    broken = tmp_path / "broken.zip"
    broken.write_bytes(bytes(raw))
    code, text = admin(live, "verify-export", str(broken))
    assert code == 1
    assert "export NOT verified" in text

    # A file rewritten whole (its CRC right): the manifest's hash tells.
    rewritten = _rezip(out, tmp_path / "rewritten.zip",
                       {"messages.json": b'[{"text": "something else"}]'})
    code, text = admin(live, "verify-export", str(rewritten))
    assert code == 1
    assert "messages.json does not match its hash" in text

    # The manifest changed to match: its signature tells.
    forged = orjson.loads(zipfile.ZipFile(rewritten).read("manifest.json"))
    forged["files"]["messages.json"] = "0" * 64
    resigned = _rezip(out, tmp_path / "forged.zip", {"manifest.json": orjson.dumps(forged)})
    code, text = admin(live, "verify-export", str(resigned))
    assert code == 1
    assert "signature does not match" in text

    # A file slipped in.
    added = _rezip(out, tmp_path / "added.zip", {"extra.txt": b"hello"})
    code, text = admin(live, "verify-export", str(added))
    assert code == 1
    assert "extra.txt is not in the manifest" in text

    code, text = admin(live, "export-chat", "999999", str(tmp_path / "none.zip"))
    assert code == 2
    assert "no chat 999999" in text


def _rezip(source: Path, target: Path, replace: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, replace.pop(name, None) or zin.read(name))
        for name, data in replace.items():
            zout.writestr(name, data)
    return target
