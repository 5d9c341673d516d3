"""Uploads matched against the banks as they are processed, and removing a media item
everywhere so that its re-uploads are refused — through the API on a live server."""

from __future__ import annotations

import io
from typing import Any

import skimage.data
from PIL import Image

from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id, wait_until
from tests.media_helpers import make_video, upload
from tests.safety_helpers import staff


def photo(name: str) -> Image.Image:
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


def encoded(image: Image.Image, fmt: str = "JPEG", **save: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def settled(api: Api, data: bytes) -> dict[str, Any]:
    """Upload a photo and wait until processing has decided its fate."""
    media_id = upload(api, data, kind="photo", filename="p.jpg")
    return dict(wait_until(lambda: (lambda v: v if v["state"] not in (
        "uploading", "processing") else None)(api.ok("GET", f"/media/{media_id}")),
        timeout=30, message="media processed"))


def send_media(api: Api, chat_id: int, media_id: str) -> Any:
    return api.call("POST", f"/chats/{chat_id}/messages",
                    json={"client_id": new_client_id(), "media_id": media_id})


def bank(server: LiveServer, name: str, action: str, image: Image.Image) -> None:
    banks = server.app.state.services.banks
    server.run_async(banks.do_create({"name": name, "action": action}))
    server.run_async(banks.do_add_media(name, image=image))


def test_refuse_and_review_banks_act_on_uploads(server: LiveServer, alice: Api,
                                                bob: Api) -> None:
    bank(server, "known-propaganda", "refuse", photo("coffee"))
    bank(server, "to-check", "review", photo("chelsea"))
    chat = alice.direct(bob)

    refused = settled(alice, encoded(photo("coffee").resize((300, 200)), quality=70))
    assert refused["state"] == "failed"
    assert refused["error"]["code"] == "media_refused"
    assert "removed" in refused["error"]["message"]
    sent = send_media(alice, chat["id"], refused["id"])
    assert sent.json()["error"]["code"] == "media_refused"
    alice.call("GET", f"/media/{refused['id']}/screen", expect=404)

    held = settled(alice, encoded(photo("chelsea")))
    assert held["state"] == "held"
    sent = send_media(alice, chat["id"], held["id"])
    assert (sent.status_code, sent.json()["error"]["code"]) == (409, "media_held")
    # A user report arrives later but ranks below the hash match.
    text = alice.send(chat["id"], "spam spam")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": text["id"],
                                     "reason": "spam"})
    assert bob.call("GET", "/moderation/queue").status_code == 404  # staff only
    mod = staff(server, "Mod")
    first, second = mod.ok("GET", "/moderation/queue")["items"]
    assert (first["source"], first["priority"], first["target_type"]) == (
        "hash_match", 2, "media")
    assert first["target_key"] == held["id"]
    assert first["context"]["media"]["state"] == "held"
    assert first["context"]["uploader"]["id"] == alice.id
    assert second["source"] == "report"
    mod.call("GET", f"/media/{held['id']}/screen", expect=200)  # to decide on
    alice.call("GET", f"/media/{held['id']}/screen", expect=404)
    assert bob.call("POST", f"/moderation/items/{first['id']}/decision",
                    json={"action": "dismiss"}).status_code == 404
    mod.ok("POST", f"/moderation/items/{first['id']}/decision", json={"action": "dismiss"})
    assert send_media(alice, chat["id"], held["id"]).status_code == 201
    outcomes = {m["bank_name"]: m["outcome"]
                for m in server.run_async(server.app.state.services.banks.recent_matches())}
    assert outcomes == {"known-propaganda": "refuse", "to-check": "review"}


def test_remove_media_everywhere_and_refuse_its_reuploads(server: LiveServer, alice: Api,
                                                          bob: Api, carol: Api) -> None:
    original = photo("astronaut")
    first = alice.group("first", [bob])
    second = bob.group("second", [carol])
    media = settled(alice, encoded(original, quality=90))
    assert media["state"] == "ready"
    posted = send_media(alice, first["id"], media["id"]).json()
    forwarded = bob.send(second["id"], "", forward_of=posted["id"])
    carol.ok("POST", "/reports", json={"target_type": "message", "target_id": forwarded["id"],
                                       "reason": "terrorism"})
    mod, other_mod = staff(server, "Mod"), staff(server, "Other")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]

    decision = mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={
        "action": "remove_media", "reason": "terrorism", "clause": "Terms 4.2"})

    carriers = {posted["id"], forwarded["id"]}
    for api, chat in ((alice, first), (bob, first), (bob, second), (carol, second)):
        shown = [m for m in api.history(chat["id"]) if m["id"] in carriers]
        assert len(shown) == 1
        assert all(m["removed"] and "media" not in m for m in shown)
        api.call("GET", f"/media/{media['id']}/screen", expect=404)
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["decision"] == "remove_media"
    assert statement["content_type"] == ["CONTENT_TYPE_IMAGE"]
    assert statement["decision_visibility"] == "DECISION_VISIBILITY_CONTENT_REMOVED"
    local = server.run_async(server.app.state.services.banks.get("local-removals"))
    assert local["action"] == "refuse"
    assert local["hashes"] == {"md5": 1, "sha256": 1, "pdq": 8,
                                "url": 0, "domain": 0}

    dave = server.sign_up("Dave")
    edits = {
        "resized": encoded(original.resize((256, 256))),
        "jpeg q30": encoded(original, quality=30),
        "rotated 90": encoded(original.transpose(Image.Transpose.ROTATE_90)),
        "mirrored": encoded(original.transpose(Image.Transpose.FLIP_LEFT_RIGHT), "PNG"),
    }
    for name, data in edits.items():
        view = settled(dave, data)
        assert (name, view["state"], view.get("error", {}).get("code")) == (
            name, "failed", "media_refused")
    assert settled(dave, encoded(photo("rocket")))["state"] == "ready"
    report = dave.ok("GET", "/transparency")
    assert report["b_reupload_prevention"]["reuploads_blocked"] == len(edits)

    # An appeal reversed: every message and the file come back; the bank entries stay.
    appeal = alice.ok("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                                "text": "This is a NASA photo."})
    other_mod.ok("POST", f"/moderation/appeals/{appeal['id']}/decision",
                 json={"outcome": "reversed"})
    assert not any(m.get("removed") for m in carol.history(second["id"]))
    carol.call("GET", f"/media/{media['id']}/screen", expect=200)
    assert alice.history(first["id"])[-1]["media"]["id"] == media["id"]


def test_a_removed_video_banks_its_frames(server: LiveServer, alice: Api, bob: Api) -> None:
    clip = make_video(seconds=3)
    media_id = upload(alice, clip, kind="video", filename="clip.mp4")
    view = wait_until(lambda: (lambda v: v if v["state"] == "ready" else None)(
        alice.ok("GET", f"/media/{media_id}")), timeout=30, message="video processed")
    chat = alice.direct(bob)
    message = send_media(alice, chat["id"], view["id"]).json()
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": message["id"],
                                     "reason": "violence"})
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "remove_media"})
    (statement,) = alice.ok("GET", "/statements")["statements"]
    assert statement["content_type"] == ["CONTENT_TYPE_VIDEO"]
    local = server.run_async(server.app.state.services.banks.get("local-removals"))
    assert local["hashes"]["pdq"] > 8  # the poster's eight plus the frames'
    again = upload(bob, clip, kind="video", filename="again.mp4")
    refused = wait_until(lambda: (lambda v: v if v["state"] == "failed" else None)(
        bob.ok("GET", f"/media/{again}")), timeout=30, message="video refused")
    assert refused["error"]["code"] == "media_refused"
