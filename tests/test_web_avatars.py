"""Profile photos in the web client, in Chromium: a person sets a real JPEG and the other
side's list shows it without a reload; removing it brings the initials back; an admin sets
a group's photo that a member sees; a text file dressed as a PNG is refused in words and the
old photo stays. Screenshots (light and dark) go to test-artifacts/web/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.browser import ARTIFACTS, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until
from tests.media_helpers import jpeg, upload_ready

# An <img> inside the face that has really decoded its picture.
LOADED = """el => { const img = el.querySelector("img");
                    return !!img && img.complete && img.naturalWidth > 0; }"""


def _jpeg_file(tmp_path: Path, name: str = "holiday.jpg") -> Path:
    """A 1,600 by 1,200 camera-sized JPEG: wider than tall and larger than 640 px."""
    path = tmp_path / name
    path.write_bytes(jpeg(1600, 1200, quality=90))
    return path


def _face_loaded(face: Any, photo: str) -> bool:
    return bool(face.get_attribute("data-photo") == photo and face.evaluate(LOADED))


def _wait_face(face: Any, photo: str, what: str) -> None:
    wait_until(lambda: _face_loaded(face, photo), timeout=15, message=what)


def _chat_face(page: Any, title: str) -> Any:
    row = page.get_by_test_id("chat-list").get_by_role("button").filter(has_text=title)
    return row.get_by_test_id("avatar")


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _set_own_photo(api: Api) -> str:
    photo = upload_ready(api, jpeg(400, 400), kind="avatar")
    api.ok("PUT", "/me/avatar", json={"media_id": photo["id"]})
    return str(photo["id"])


def test_a_profile_photo_shows_at_once_for_others_and_goes_away(
        browser: Any, web_server: LiveServer, tmp_path: Path) -> None:
    alice, bob = web_server.sign_up("Alice Liddell"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    alice.send(chat["id"], "Hello Bob")
    for look in ("light", "dark"):
        a_ctx = browser.new_context(color_scheme=look)
        b_ctx = browser.new_context(color_scheme=look)
        try:
            a = open_signed_in(a_ctx, web_server, alice)
            b = open_signed_in(b_ctx, web_server, bob)
            b_face = _chat_face(b, "Alice Liddell")
            wait_until(lambda f=b_face: f.inner_text() == "AL", message="alice's initials")
            assert b_face.get_attribute("data-photo") == ""

            a.get_by_role("button", name="Profile").click()
            a.get_by_test_id("photo-input").set_input_files(str(_jpeg_file(tmp_path)))
            photo = wait_until(lambda: alice.ok("GET", "/me").get("avatar"), timeout=20,
                               message="the photo set on the server")
            _wait_face(a.locator(".photo-head [data-testid=avatar]"), photo, "own photo")
            a.get_by_role("button", name="Remove photo").wait_for()
            a.get_by_role("status").filter(has_text="Photo saved").wait_for()
            assert a.get_by_test_id("photo-error").count() == 0
            # Cut to a square of at most 640 px in the browser before the upload.
            assert alice.ok("GET", f"/media/{photo}")["width"] == 640
            assert alice.ok("GET", f"/media/{photo}")["height"] == 640
            # Bob's list shows it with no reload (the page keeps its state).
            b.evaluate("window.__same_page = true")
            _wait_face(b_face, photo, "alice's photo in bob's list")
            _shoot(a, f"avatar-profile-{look}")
            b.get_by_text("Alice Liddell").click()
            _wait_face(b.locator(".conversation .bar [data-testid=avatar]"), photo,
                       "alice's photo in the conversation header")
            _shoot(b, f"avatar-chats-{look}")

            a.get_by_role("button", name="Remove photo").click()
            wait_until(lambda: "avatar" not in alice.ok("GET", "/me"), message="removed")
            wait_until(lambda f=b_face: f.get_attribute("data-photo") == ""
                       and f.inner_text() == "AL" and f.locator("img").count() == 0,
                       message="initials back in bob's list")
            a.get_by_role("button", name="Set photo").wait_for()
            assert a.get_by_test_id("photo-error").count() == 0
            assert b.evaluate("window.__same_page") is True
            alice.ok("DELETE", "/me/avatar")
        finally:
            a_ctx.close()
            b_ctx.close()


def test_an_admin_sets_the_group_photo_and_a_member_sees_it(
        browser: Any, web_server: LiveServer, tmp_path: Path) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    alice_photo = _set_own_photo(alice)
    group = alice.group("Darbuka band", [bob])
    alice.send(group["id"], "Rehearsal on Friday")
    # Bob on a narrow phone in dark mode.
    a_ctx = browser.new_context()
    b_ctx = browser.new_context(color_scheme="dark", viewport={"width": 360, "height": 740})
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        a.get_by_text("Darbuka band").click()
        a.locator(".conversation .bar button.icon").last.click()  # chat info
        a.get_by_test_id("photo-input").set_input_files(str(_jpeg_file(tmp_path, "band.jpg")))
        photo = wait_until(lambda: alice.ok("GET", f"/chats/{group['id']}").get("avatar"),
                           timeout=20, message="the group photo set on the server")
        _wait_face(a.locator(".photo-head [data-testid=avatar]"), photo, "photo in chat info")
        a.get_by_role("status").filter(has_text="Photo saved").wait_for()
        assert a.get_by_test_id("photo-error").count() == 0
        _shoot(a, "avatar-group-info-light")

        _wait_face(_chat_face(b, "Darbuka band"), photo, "group photo in bob's list")
        b.get_by_text("Darbuka band").click()
        _wait_face(b.locator(".conversation .bar [data-testid=avatar]"), photo,
                   "group photo in the header")
        # The sender's face beside her message in the group.
        _wait_face(b.get_by_test_id("message").get_by_test_id("avatar").first, alice_photo,
                   "alice's face beside her message")
        _shoot(b, "avatar-group-phone-dark")
        b.locator(".conversation .bar button.icon").last.click()
        _wait_face(b.locator(".photo-head [data-testid=avatar]"), photo, "photo in bob's info")
        assert b.get_by_role("button", name="Change photo").count() == 0  # not an admin
        assert b.evaluate("document.documentElement.scrollWidth <= innerWidth")
        _shoot(b, "avatar-group-info-phone-dark")
    finally:
        a_ctx.close()
        b_ctx.close()


def test_a_text_file_named_png_is_refused_and_the_photo_stays(
        browser: Any, web_server: LiveServer, tmp_path: Path) -> None:
    alice = web_server.sign_up("Alice")
    photo = _set_own_photo(alice)
    fake = tmp_path / "photo.png"
    fake.write_text("This is a shopping list, not a picture.\n" * 20)
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_role("button", name="Profile").click()
        face = page.locator(".photo-head [data-testid=avatar]")
        _wait_face(face, photo, "the old photo")
        page.get_by_test_id("photo-input").set_input_files(str(fake))
        error = page.get_by_test_id("photo-error")
        error.wait_for()
        assert "not a picture" in error.inner_text()
        assert error.is_visible()
        assert alice.ok("GET", "/me")["avatar"] == photo
        assert _face_loaded(face, photo)
        _shoot(page, "avatar-refused-light")
        # Offline, a real picture is not lost silently either: it says why.
        ctx.set_offline(True)
        page.get_by_test_id("photo-input").set_input_files(str(_jpeg_file(tmp_path)))
        wait_until(lambda: "No connection" in error.inner_text(), message="the offline message")
        ctx.set_offline(False)
        assert alice.ok("GET", "/me")["avatar"] == photo
        assert _face_loaded(face, photo)
    finally:
        ctx.close()


def test_low_data_mode_still_loads_small_faces_only(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    photo = _set_own_photo(bob)
    alice.send(alice.direct(bob)["id"], "Hi")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.evaluate("localStorage.setItem('darbuka.lowData', '1')")
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url) if "/api/v1/media/" in r.url else None)
        page.reload()
        _wait_face(_chat_face(page, "Bob"), photo, "bob's small face in low-data mode")
        page.get_by_text("Bob").first.click()
        page.locator(".conversation .bar button.icon").last.click()  # chat info: a big face
        _wait_face(page.locator(".photo-head [data-testid=avatar]"), photo, "big face")
        variants = {url.rsplit("/", 1)[1] for url in fetched}
        assert variants == {"small"}, fetched
    finally:
        ctx.close()
