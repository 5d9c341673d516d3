"""Media in the web client, in Chromium: a photo whose upload is cut by going offline
resumes and arrives once; a voice note from the fake microphone is sent, received and
played; low-data mode shows a placeholder and fetches nothing until tapped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, STORED, attach_files, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until
from tests.media_helpers import jpeg, make_video, upload_ready

FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def media_browser(browser: Any) -> Iterator[Any]:
    """A second Chromium with the fake microphone (the shared one has no media flags)."""
    chromium = browser.browser_type.launch(executable_path=CHROMIUM,
                                           args=CHROMIUM_ARGS + FAKE_MEDIA)
    yield chromium
    chromium.close()


def _photo_file(tmp_path: Path) -> Path:
    """A 2,000 by 1,500 PNG with gradients and noise: big enough for many small chunks."""
    rng = np.random.default_rng(7)
    x = np.linspace(30, 220, 2000, dtype=np.float32)[None, :, None]
    y = np.linspace(40, 200, 1500, dtype=np.float32)[:, None, None]
    base = np.concatenate([np.broadcast_to(x, (1500, 2000, 1)), np.broadcast_to(y, (1500, 2000, 1)),
                           np.full((1500, 2000, 1), 120, np.float32)], axis=-1)
    pixels = np.clip(base + rng.normal(0, 18, base.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "harbour.png"
    Image.fromarray(pixels, "RGB").save(path)
    return path


def _open_first_chat(page: Any) -> None:
    page.get_by_test_id("chat-list").get_by_role("button").first.click()
    page.get_by_label("Message").wait_for()


def _media_messages(api: Api, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in api.history(chat_id) if m.get("media")]


def test_photo_upload_resumes_after_going_offline(media_browser: Any, web_server: LiveServer,
                                                  tmp_path: Path) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    a_ctx, b_ctx = media_browser.new_context(), media_browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        a.evaluate("localStorage.setItem('darbuka.chunk', '16384')")  # many small PATCHes
        patches: list[int] = []
        held: list[Any] = []

        def hold_third_patch(route: Any) -> None:
            if route.request.method == "PATCH":
                patches.append(1)
                if len(patches) == 3 and not held:
                    held.append(route)  # never answered: the link "drops" under it
                    return
            route.continue_()

        a.route("**/api/v1/uploads/**", hold_third_patch)
        _open_first_chat(a)
        attach_files(a, str(_photo_file(tmp_path)))
        wait_until(lambda: a.evaluate("1") and held, timeout=15, message="the third PATCH")
        a_ctx.set_offline(True)
        held[0].abort("internetdisconnected")
        bar = a.get_by_test_id("upload-progress")
        sent, total = int(bar.get_attribute("value") or 0), int(bar.get_attribute("max") or 0)
        assert 0 < sent < total, (sent, total)  # two chunks in, the rest waiting
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        a.screenshot(path=str(ARTIFACTS / "chat-photo-uploading.png"))
        assert not _media_messages(alice, chat["id"])

        a_ctx.set_offline(False)
        a.wait_for_selector(STORED, timeout=20_000)
        assert a.locator("[data-testid=upload-progress]").count() == 0
        photos = _media_messages(alice, chat["id"])
        assert len(photos) == 1  # sent exactly once
        assert photos[0]["kind"] == "photo"
        media = photos[0]["media"]
        assert max(media["width"], media["height"]) == 1280  # shrunk in the browser
        assert media["thumbhash"]
        # The server holds exactly the bytes of the shrunk file: the resume sent only the rest.
        assert media["size"] == total

        b = open_signed_in(b_ctx, web_server, bob)
        _open_first_chat(b)
        b.wait_for_selector("[data-testid=media][data-kind=photo][data-loaded=true]")
        natural = b.eval_on_selector("[data-testid=media] img",
                                     "img => img.complete && img.naturalWidth")
        assert natural == 1280
    finally:
        a_ctx.close()
        b_ctx.close()


def test_photo_upload_resumes_after_a_reload(media_browser: Any, web_server: LiveServer,
                                             tmp_path: Path) -> None:
    """The upload URL and the file are kept with the outbox item: a reload mid-upload goes
    on from the server's offset and sends only the missing bytes."""
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    ctx = media_browser.new_context()
    try:
        a = open_signed_in(ctx, web_server, alice)
        a.evaluate("localStorage.setItem('darbuka.chunk', '16384')")
        bodies: list[int] = []
        held: list[Any] = []

        def hold_third_patch(route: Any) -> None:
            if route.request.method == "PATCH":
                if len(bodies) == 2 and not held:
                    held.append(route)
                    return
                bodies.append(len(route.request.post_data_buffer or b""))
            route.continue_()

        a.route("**/api/v1/uploads/**", hold_third_patch)
        _open_first_chat(a)
        attach_files(a, str(_photo_file(tmp_path)))
        wait_until(lambda: a.evaluate("1") and held, timeout=15, message="the third PATCH")
        total = int(a.get_by_test_id("upload-progress").get_attribute("max") or 0)
        a.reload()
        _open_first_chat(a)
        a.wait_for_selector(STORED, timeout=20_000)
        photos = _media_messages(alice, chat["id"])
        assert len(photos) == 1
        assert photos[0]["media"]["size"] == total
        assert sum(bodies) == total  # nothing sent twice: the reload resumed at the offset
    finally:
        ctx.close()


def test_voice_note_is_recorded_sent_and_played(media_browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    photo = upload_ready(alice, jpeg(960, 640), kind="photo", filename="band.jpg")
    alice.ok("POST", f"/chats/{chat['id']}/messages",
             json={"client_id": "photo-1", "media_id": photo["id"], "text": "Rehearsal room"})
    a_ctx = media_browser.new_context(permissions=["microphone"])
    b_ctx = media_browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open_first_chat(a)
        a.get_by_role("button", name="Record a voice note").click()
        a.get_by_test_id("recording").filter(has_text="2 s").wait_for(timeout=10_000)
        a.get_by_role("button", name="Send voice").click()
        a.wait_for_selector(
            "[data-kind=voice] >> xpath=ancestor::article[.//*[@data-status='sent']]",
            timeout=20_000)
        voice = [m for m in _media_messages(alice, chat["id"]) if m["kind"] == "voice"]
        assert len(voice) == 1
        assert voice[0]["media"]["duration"] >= 1.5
        assert len(voice[0]["media"]["waveform"]) == 64

        b = open_signed_in(b_ctx, web_server, bob)
        _open_first_chat(b)
        b.wait_for_selector("[data-testid=media][data-kind=photo][data-loaded=true]")
        player = b.locator("[data-kind=voice]")
        player.get_by_role("button", name="Play").click()
        wait_until(lambda: b.eval_on_selector("[data-kind=voice] audio",
                                              "a => a.currentTime > 0.2 && a.duration > 1"),
                   timeout=15, message="the voice note plays")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        b.screenshot(path=str(ARTIFACTS / "chat-media.png"))
    finally:
        a_ctx.close()
        b_ctx.close()


def test_low_data_mode_shows_a_placeholder_until_tapped(media_browser: Any,
                                                        web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    photo = upload_ready(alice, jpeg(800, 600), kind="photo", filename="big.jpg")
    alice.ok("POST", f"/chats/{chat['id']}/messages",
             json={"client_id": "photo-2", "media_id": photo["id"]})
    ctx = media_browser.new_context()
    try:
        b = open_signed_in(ctx, web_server, bob)
        b.get_by_role("button", name="Profile").click()
        b.get_by_label("Low-data mode (no automatic downloads)").check()
        b.get_by_role("button", name="Back").first.click()
        fetched: list[str] = []
        b.on("request", lambda r: fetched.append(r.url) if "/api/v1/media/" in r.url else None)
        _open_first_chat(b)
        b.get_by_role("button", name="Tap to load").wait_for()
        box = b.locator("[data-testid=media][data-kind=photo]")
        assert box.get_attribute("data-loaded") == "false"
        # The ThumbHash is drawn from the message alone: a small picture, not blank.
        drawn = b.eval_on_selector("[data-testid=thumbhash]", """c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let sum = 0; for (let i = 0; i < d.length; i += 4) sum += d[i] + d[i+1] + d[i+2];
            return [c.width, c.height, sum];
        }""")
        assert drawn[0] == 32
        assert 20 <= drawn[1] <= 26
        assert drawn[2] > 0
        assert fetched == []
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        b.screenshot(path=str(ARTIFACTS / "chat-low-data.png"))
        b.get_by_role("button", name="Tap to load").click()
        b.wait_for_selector("[data-testid=media][data-kind=photo][data-loaded=true]")
        # The placeholder's colours are the photo's: mean colours within a few levels.
        means = b.eval_on_selector("[data-testid=media]", """async box => {
            const mean = (src, w, h) => {
                const c = document.createElement('canvas'); c.width = w; c.height = h;
                const g = c.getContext('2d'); g.drawImage(src, 0, 0, w, h);
                const d = g.getImageData(0, 0, w, h).data, m = [0, 0, 0];
                for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) m[k] += d[i+k];
                return m.map(v => v / (w * h));
            };
            const img = box.querySelector('img'); await img.decode();
            return [mean(box.querySelector('canvas'), 32, 24), mean(img, 32, 24)];
        }""")
        for hashed, real in zip(means[0], means[1], strict=True):
            assert abs(hashed - real) < 12, means
        assert any(u.endswith(f"/media/{photo['id']}/screen") for u in fetched)
    finally:
        ctx.close()




def test_file_card_video_poster_and_a_sticker(media_browser: Any, web_server: LiveServer,
                                              tmp_path: Path) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    clip = upload_ready(alice, make_video(), kind="video", filename="clip.mp4")
    alice.ok("POST", f"/chats/{chat['id']}/messages",
             json={"client_id": "video-1", "media_id": clip["id"]})
    a_ctx, b_ctx = media_browser.new_context(), media_browser.new_context(accept_downloads=True)
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open_first_chat(a)
        notes = tmp_path / "setlist.txt"
        notes.write_bytes(b"1. Longa\n2. Sama'i\n" * 60)
        attach_files(a, str(notes))
        a.wait_for_selector(
            "[data-kind=file] >> xpath=ancestor::article[.//*[@data-status='sent']]")
        a.get_by_role("button", name="Stickers").click()
        a.get_by_role("dialog", name="Stickers").get_by_role("button").first.click()
        wait_until(lambda: len(_media_messages(alice, chat["id"])) == 3, timeout=15,
                   message="the sticker is stored")
        kinds = [m["kind"] for m in _media_messages(alice, chat["id"])]
        assert kinds == ["video", "file", "sticker"]

        b = open_signed_in(b_ctx, web_server, bob)
        _open_first_chat(b)
        card = b.locator("[data-testid=media][data-kind=file]")
        assert "setlist.txt" in card.inner_text()
        assert "1 KB" in card.inner_text()  # 1,140 bytes
        with b.expect_download() as download:
            card.get_by_role("button", name="Download").click()
        assert Path(download.value.path()).read_bytes() == notes.read_bytes()
        b.wait_for_selector("[data-testid=media][data-kind=sticker][data-loaded=true]")
        b.wait_for_selector("[data-testid=media][data-kind=video][data-loaded=true]")
        b.locator("[data-kind=video]").get_by_role("button", name="Play").click()
        wait_until(lambda: b.evaluate(
            "document.querySelector('[data-kind=video] video')?.duration > 1"),
                   timeout=15, message="the video loads")
        b.screenshot(path=str(ARTIFACTS / "chat-file-video-sticker.png"))
    finally:
        a_ctx.close()
        b_ctx.close()
