"""A person downloads their own data: a zip of their profile, chats, the messages and files
they sent (nothing of others' private chats), with an offline viewer; nobody else gets it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import LiveServer, make_server
from tests.helpers import Api, new_client_id, wait_until
from tests.media_helpers import png, upload_ready


def ready(api: Api, export_id: int) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        view: dict[str, Any] = api.ok("GET", f"/me/exports/{export_id}")
        return view if view["state"] != "pending" else None

    return dict(wait_until(done, timeout=30, message="export made"))


def test_my_data_is_mine_alone(server: LiveServer) -> None:
    alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    group = alice.group("Friends", [bob])
    alice.send(group["id"], "alice in the group")
    bob.send(group["id"], "bob in the group")
    direct = alice.direct(bob)
    alice.send(direct["id"], "alice to bob")
    gone = alice.send(direct["id"], "taken back")
    alice.ok("DELETE", f"/chats/{direct['id']}/messages/{gone['id']}")
    carol.send(carol.direct(bob)["id"], "carol to bob, private")
    alice.ok("PATCH", "/me/privacy", json={"last_seen": "nobody"})
    alice.ok("PUT", f"/me/blocked/{carol.id}")
    picture = upload_ready(alice, png(), "photo", "beach.png")
    alice.ok("POST", f"/chats/{group['id']}/messages",
             json={"client_id": new_client_id(), "media_id": picture["id"],
                   "text": "the beach"})

    asked = alice.call("POST", "/me/exports", expect=202).json()
    assert asked["state"] == "pending"
    view = ready(alice, asked["id"])
    assert view["state"] == "ready", view
    assert view["download"] == f"/api/v1/me/exports/{asked['id']}/download"
    assert [e["id"] for e in alice.ok("GET", "/me/exports")["exports"]] == [asked["id"]]

    # Nobody else sees or downloads it.
    bob.call("GET", f"/me/exports/{asked['id']}", expect=404)
    assert bob.call("GET", f"/me/exports/{asked['id']}/download",
                    expect=404).json()["error"]["code"] == "export_not_found"
    assert bob.ok("GET", "/me/exports")["exports"] == []
    Api(server.url).call("GET", f"/me/exports/{asked['id']}/download", expect=401)

    response = alice.call("GET", f"/me/exports/{asked['id']}/download", expect=200)
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    zf = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(zf.namelist())
    assert {"profile.json", "settings.json", "chats.json", "messages.json", "files.json", "data.js",
            "index.html", "viewer.js"} <= names
    profile = orjson.loads(zf.read("profile.json"))
    assert profile["id"] == alice.id
    assert profile["display_name"] == "Alice"
    assert profile["phone"] == alice.user["phone"]
    settings = orjson.loads(zf.read("settings.json"))
    assert settings["privacy"] == {"find_by_phone": "everyone", "last_seen": "nobody",
                                   "group_add": "everyone"}
    assert [b["user_id"] for b in settings["blocked"]] == [carol.id]
    chats = orjson.loads(zf.read("chats.json"))
    assert {c["id"] for c in chats} == {group["id"], direct["id"]}
    messages = orjson.loads(zf.read("messages.json"))
    assert sorted(m["text"] for m in messages) == ["alice in the group", "alice to bob",
                                                   "the beach"]
    assert {m["sender_id"] for m in messages} == {alice.id}
    everything = b"".join(zf.read(n) for n in names)
    for others in (b"bob in the group", b"carol to bob", b"taken back"):
        assert others not in everything
    files = orjson.loads(zf.read("files.json"))
    assert list(files) == [picture["id"]]
    assert files[picture["id"]].startswith(f"media/{picture['id']}/")
    assert zf.read(files[picture["id"]])[:8] == b"\x89PNG\r\n\x1a\n"
    assert zf.read("data.js").startswith(b"window.DARBUKA_EXPORT = {")
    # The viewer shows the data as text: never as HTML.
    viewer = zf.read("viewer.js").decode()
    assert "textContent" in viewer
    assert "innerHTML" not in viewer
    assert "insertAdjacentHTML" not in viewer

    # A newer export takes the older one's place.
    newer = alice.call("POST", "/me/exports", expect=202).json()
    assert ready(alice, newer["id"])["state"] == "ready"
    assert alice.ok("GET", f"/me/exports/{asked['id']}")["state"] == "expired"
    assert alice.call("GET", f"/me/exports/{asked['id']}/download",
                      expect=409).json()["error"]["code"] == "export_not_ready"
    alice.call("GET", f"/me/exports/{newer['id']}/download", expect=200)


def test_one_export_at_a_time(database_url: str, tmp_path: Path) -> None:
    # No job runner here: the export stays pending.
    server = make_server(database_url, tmp_path, run_jobs=False)
    try:
        alice = server.sign_up("Alice")
        first = alice.call("POST", "/me/exports", expect=202).json()
        again = alice.call("POST", "/me/exports", expect=409).json()
        assert again["error"]["code"] == "export_running"
        refused = alice.call("GET", f"/me/exports/{first['id']}/download", expect=409)
        assert refused.json()["error"]["code"] == "export_not_ready"
        alice.call("GET", "/me/exports/999999", expect=404)
    finally:
        server.thread.stop()
