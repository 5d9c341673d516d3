"""What a newcomer trips over in the first hour, each fixed and checked as they would meet
it: a fresh browser profile, the screens, no reloads and no state put in behind the app's
back. (The whole first hour in one walk: test_web_newcomer.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import ARTIFACTS, LOOKS, STORED, attach_files, open_signed_in, sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import wait_until
from tests.media_helpers import jpeg, make_video, upload_ready


def create_chat(page: Any, kind: str, title: str) -> None:
    """New chat → Group or Channel → a title → Create, as a person does it."""
    page.get_by_role("button", name="New chat").click()
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("Title").fill(title)
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_role("heading", name=title).wait_for()


def post(page: Any, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.keyboard.press("Enter")
    page.get_by_test_id("messages").get_by_text(text, exact=True).wait_for()
    page.locator(f"[data-testid=message]:has-text('{text}') :is({STORED})").wait_for()


def act(page: Any, text: str, action: str) -> None:
    """A message's action (Reply, Edit, Delete …), as hovering the message shows it."""
    row = page.get_by_test_id("messages").locator("[data-testid=message]").filter(
        has=page.get_by_text(text, exact=True))
    row.hover()
    row.get_by_role("button", name=action, exact=True).click()


def test_the_creator_of_a_group_or_channel_runs_it_at_once(browser: Any,
                                                           web_server: LiveServer) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_ui(page, web_server, "+447700900401")
        create_chat(page, "Channel", "Tour dates")
        # The owner gets the composer, not "Only admins post in this channel."
        assert page.get_by_text("Only admins post in this channel.").count() == 0
        post(page, "first post")
        page.get_by_role("button", name="Chat info").click()
        page.locator("#i-title").wait_for()  # the admin's form, not just "Report chat"

        create_chat(page, "Group", "Band")
        post(page, "hello band")
        page.get_by_role("button", name="Chat info").click()
        page.locator("#i-title").wait_for()
        assert page.get_by_role("button", name="Report chat").count() == 0
        assert page.get_by_role("button", name="Leave chat").count() == 0
    finally:
        context.close()


HEADER = ["Profile", "Reports and decisions", "New chat"]


@pytest.mark.parametrize("width", [1280, 360])
@pytest.mark.parametrize("locale", ["en", "ar"])
def test_every_header_control_stays_reachable_offline(browser: Any, web_server: LiveServer,
                                                      width: int, locale: str) -> None:
    alice = web_server.sign_up("Alice")
    context = browser.new_context(viewport={"width": width, "height": 700})
    try:
        page = open_signed_in(context, web_server, alice)
        if locale == "ar":
            page.evaluate("localStorage.setItem('locale', 'ar')")
            page.reload()
            page.wait_for_selector("[data-testid=conn][data-state=online]")
        context.set_offline(True)
        page.wait_for_selector("[data-testid=conn][data-state=offline]")
        page.get_by_test_id("offline-note").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"firsthour-offline-{locale}-{width}.png"))
        bar = page.locator("nav.list header.bar")
        box = bar.bounding_box()
        names = [_label(page, name, locale) for name in HEADER]
        for name in [*names, "h1"]:
            control = bar.locator("h1") if name == "h1" else bar.get_by_role("button", name=name)
            assert control.is_visible(), name
            rect = control.bounding_box()
            assert rect["x"] >= box["x"] - 1, name
            assert rect["x"] + rect["width"] <= box["x"] + box["width"] + 1, name
        # Clickable while offline: the profile opens, and so does New chat.
        bar.get_by_role("button", name=names[0]).click()
        page.locator("#p-name").wait_for()
        if width == 360:
            page.locator(".panel .bar .back").click()
        bar.get_by_role("button", name=names[2]).click()
        page.locator("#new-h").wait_for()
    finally:
        context.close()


def _label(page: Any, english: str, locale: str) -> str:
    if locale == "en":
        return english
    return {"Profile": "الملف الشخصي", "Reports and decisions": "البلاغات والقرارات",
            "New chat": "محادثة جديدة"}[english]


def test_a_new_group_member_is_not_made_owner(browser: Any, web_server: LiveServer) -> None:
    """The role a chat starts with comes from who owns it: someone added to a channel is a
    subscriber there, not its owner."""
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, bob)
        alice.ok("POST", "/chats", json={"kind": "channel", "title": "News",
                                          "member_ids": [bob.id]})
        page.get_by_test_id("chat-list").get_by_text("News", exact=True).click()
        page.get_by_text("Only admins post in this channel.").wait_for()
        wait_until(lambda: page.get_by_label("Message").count() == 0, message="no composer")
    finally:
        context.close()


def _clipped_start(page: Any, selector: str) -> bool:
    """Whether the first character of the element's text is drawn outside its box."""
    return bool(page.eval_on_selector(selector, """el => {
        const node = [...el.childNodes].find(n => n.nodeType === 3) ?? el.firstChild.firstChild;
        const range = document.createRange();
        range.setStart(node, 0);
        range.setEnd(node, 1);
        const ch = range.getBoundingClientRect(), box = el.getBoundingClientRect();
        return ch.left < box.left - 1 || ch.right > box.right + 1;
    }"""))


def _x_of(page: Any, selector: str, char: str) -> float:
    """Where `char` (its first time in the element's text) is drawn, from the left."""
    x: float = page.eval_on_selector(selector, """(el, ch) => {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const at = n.data.indexOf(ch);
            if (at < 0) continue;
            const range = document.createRange();
            range.setStart(n, at);
            range.setEnd(n, at + 1);
            return range.getBoundingClientRect().left;
        }
        return NaN;
    }""", char)
    return x


def test_numbers_and_latin_previews_keep_their_direction_in_arabic(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    link = "https://example.org/map is where we meet, see you all there at eight tonight"
    alice.send(chat["id"], link)
    context = browser.new_context(locale="ar-EG", viewport={"width": 360, "height": 700})
    try:
        page = context.new_page()
        page.goto(web_server.url)
        hint = "#phone-hint"
        page.locator(hint).wait_for()
        # "+44 7700 900123" reads left to right: the + comes before the 4, not after 900123.
        assert _x_of(page, hint, "+") < _x_of(page, hint, "4")
        page.close()

        page = open_signed_in(context, web_server, alice)
        page.get_by_test_id("chat-list").locator(".last .text").wait_for()
        page.screenshot(path=str(ARTIFACTS / "firsthour-rtl-preview-360.png"))
        # The preview shows the start of the Latin text ("https://…"), cut at its end.
        assert not _clipped_start(page, "[data-testid=chat-list] .last .text")
        assert page.locator("[data-testid=chat-list] .last .who").inner_text() == "أنت:"
    finally:
        context.close()


def test_delete_offers_undo_and_the_list_shows_what_is_left(browser: Any,
                                                            web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, alice)
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        for text in ("hello", "see you at eight", "bring the drum"):
            post(page, text)
        messages = page.get_by_test_id("messages")

        act(page, "bring the drum", "Delete")
        page.get_by_test_id("undo").wait_for()
        assert messages.get_by_text("bring the drum", exact=True).count() == 0
        page.get_by_test_id("undo").get_by_role("button", name="Undo").click()
        messages.get_by_text("bring the drum", exact=True).wait_for()

        act(page, "see you at eight", "Delete")
        wait_until(lambda: [m.get("deleted") for m in alice.history(chat["id"])
                            if m.get("text") == "see you at eight" or m.get("deleted")]
                   == [True], timeout=15, message="the second delete went through")
        stored = {m.get("text"): m for m in alice.history(chat["id"])}
        assert not stored["bring the drum"].get("deleted"), "Undo kept it"

        act(page, "bring the drum", "Delete")
        page.get_by_test_id("undo").wait_for(state="detached", timeout=15_000)
        chat_list = page.get_by_test_id("chat-list")
        # The preview line is the newest message still there, not "Message deleted".
        wait_until(lambda: "Message deleted" not in chat_list.inner_text(), timeout=10,
                   message="no 'Message deleted' preview")
        assert chat_list.locator(".last .text").inner_text() == "hello"
    finally:
        context.close()


def test_layout_the_sign_in_page_the_forms_and_a_short_chat(browser: Any,
                                                            web_server: LiveServer) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 700})
    try:
        page = context.new_page()
        page.goto(web_server.url)
        theme = page.get_by_label("Theme").bounding_box()
        assert theme["x"] + theme["width"] <= 360, "the theme selector fits"
        low = page.locator(".settings label.check").bounding_box()
        line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight) || 22")
        assert low["height"] <= 2.5 * line, "the low-data label takes at most two lines"
        page.screenshot(path=str(ARTIFACTS / "firsthour-signin-360.png"))

        sign_in_ui(page, web_server, "+447700900410")
        page.get_by_role("button", name="New chat").click()
        hint = page.locator("#n-user-hint").bounding_box()
        create = page.get_by_role("button", name="Create", exact=True).bounding_box()
        assert create["y"] >= hint["y"] + hint["height"], "Create sits under its hint"
        page.get_by_label("Join").check()
        search = page.get_by_label("Search public channels and groups")
        search.wait_for()
        assert page.locator(".public-results li").count() == 0 or page.evaluate(
            "getComputedStyle(document.querySelector('.public-results li')).listStyleType"
        ) == "none", "no stray bullet"
        page.locator("#new-h").locator("..").get_by_role("button", name="Back").click()
        create_chat(page, "Group", "Tour News")
        post(page, "one line")
        # A short chat sits at the bottom, by the composer.
        log = page.get_by_test_id("messages").bounding_box()
        bubble = page.get_by_test_id("message").last.bounding_box()
        assert bubble["y"] + bubble["height"] > log["y"] + log["height"] - 60
        # The same initials wherever the chat's face is drawn.
        faces = page.locator("[data-testid=chat-list] [data-testid=avatar], "
                             ".conversation .bar [data-testid=avatar]").all_inner_texts()
        assert set(faces) == {"TN"}, faces
    finally:
        context.close()


def test_a_toast_never_blocks_the_button_under_it(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice")
    group = alice.group("Band", [], public=False)
    alice.ok("PATCH", f"/chats/{group['id']}", json={"handle": "the_band"})
    context = browser.new_context(viewport={"width": 360, "height": 640})
    try:
        page = open_signed_in(context, web_server, alice)
        page.get_by_test_id("chat-list").get_by_text("Band", exact=True).click()
        page.get_by_role("button", name="Chat info").click()
        page.get_by_role("button", name="Save").first.click()
        page.get_by_role("status").filter(has_text="Saved").wait_for()
        button = page.get_by_role("button", name="Make private")
        toast = page.get_by_role("status").filter(has_text="Saved").bounding_box()
        # Put the button right under the toast, as a person scrolling the panel may.
        page.evaluate("""([y]) => {
            const b = [...document.querySelectorAll('button')]
                .find(e => e.textContent === 'Make private');
            const r = b.getBoundingClientRect();
            b.closest('.panel').scrollTop += r.top + r.height / 2 - y;
        }""", [toast["y"] + toast["height"] / 2])
        box = button.bounding_box()
        assert abs(box["y"] + box["height"] / 2 - toast["y"] - toast["height"] / 2) < 8
        # A point the toast covers, inside the button: the button is what it hits.
        x = max(box["x"] + 4, toast["x"] + 4)
        assert x < box["x"] + box["width"]
        hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.textContent",
                            [x, toast["y"] + toast["height"] / 2])
        page.screenshot(path=str(ARTIFACTS / "firsthour-toast.png"))
        assert hit == "Make private", (hit, box, toast)
    finally:
        context.close()


def _photos(tmp_path: Path, n: int) -> list[Path]:
    paths = []
    for i in range(n):
        path = tmp_path / f"photo{i}.jpg"
        path.write_bytes(jpeg(1600 + 40 * i, 1200))
        paths.append(path)
    return paths


def test_picked_photos_are_shown_first_and_go_as_one_album_with_the_caption(
        browser: Any, web_server: LiveServer, tmp_path: Path) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        a.get_by_test_id("chat-list").get_by_role("button").first.click()
        photos = _photos(tmp_path, 3)
        a.get_by_test_id("attach-input").set_input_files([str(p) for p in photos])
        preview = a.get_by_test_id("attach-preview")
        preview.wait_for()
        assert preview.locator("img").count() == 3  # what will go, each with its size
        assert "at most 1,280 px" in preview.inner_text()  # "send original" explained
        wait_until(lambda: "To send:" in preview.inner_text(), timeout=20,
                   message="the size to send")
        a.screenshot(path=str(ARTIFACTS / "firsthour-attach-preview.png"))
        preview.get_by_role("button", name="Cancel").click()
        preview.wait_for(state="detached")
        assert a.locator("[data-testid=message]").count() == 0, "Cancel sends nothing"

        attach_files(a, *photos, caption="the view from the stage")
        a.wait_for_selector(STORED, timeout=30_000)
        stored = alice.history(chat["id"])
        assert len(stored) == 1, "one message, not one per photo nor one for the caption"
        assert stored[0]["text"] == "the view from the stage"
        assert len(stored[0]["album"]) == 3
        assert all(max(m["width"], m["height"]) == 1280 for m in stored[0]["album"])

        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_test_id("chat-list").get_by_role("button").first.click()
        album = b.get_by_test_id("album")
        album.wait_for()
        wait_until(lambda: album.locator("[data-loaded=true]").count() == 3, timeout=20,
                   message="three pictures")
        b.get_by_test_id("message").get_by_text("the view from the stage").wait_for()
        b.screenshot(path=str(ARTIFACTS / "firsthour-album.png"))
    finally:
        a_ctx.close()
        b_ctx.close()


def test_the_viewer_zooms_walks_the_chat_downloads_and_plays(browser: Any,
                                                             web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    ids = [upload_ready(alice, jpeg(640 + 10 * i, 480), kind="photo", filename=f"{i}.jpg")["id"]
           for i in range(3)]
    alice.send(chat["id"], "first", media_id=ids[0], kind="photo")
    alice.send(chat["id"], "two more", media_ids=ids[1:])
    video = upload_ready(alice, make_video(), kind="video", filename="clip.mp4")
    alice.send(chat["id"], "", media_id=video["id"], kind="video")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, bob)
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        page.get_by_role("button", name="Open photo").first.click()
        viewer = page.get_by_test_id("viewer")
        viewer.wait_for()
        page.get_by_test_id("viewer-image").wait_for()
        assert viewer.get_attribute("data-index") == "0"
        assert "first" in viewer.inner_text()
        page.screenshot(path=str(ARTIFACTS / "firsthour-viewer.png"))

        page.keyboard.press("ArrowRight")
        wait_until(lambda: viewer.get_attribute("data-index") == "1", message="next photo")
        viewer.get_by_role("button", name="Zoom in").click()
        page.wait_for_selector("[data-testid=viewer-image][data-zoom='2']")
        with page.expect_download() as download:
            viewer.get_by_role("button", name="Download original").click()
        original = alice.call("GET", f"/media/{ids[1]}/original").content
        assert Path(download.value.path()).read_bytes() == original

        # A swipe across the picture goes on, to the album's second photo and then the video.
        viewer.get_by_role("button", name="Zoom out").click()
        for expected in ("2", "3"):
            box = page.locator(".viewer .stage").bounding_box()
            y = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + box["width"] * 0.8, y)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * 0.2, y, steps=5)
            page.mouse.up()
            wait_until(lambda e=expected: viewer.get_attribute("data-index") == e,
                       message=f"item {expected}")
        wait_until(lambda: page.evaluate(
            "document.querySelector('[data-testid=viewer-video]')?.duration > 1"),
                   timeout=20, message="the video plays in the viewer")

        page.keyboard.press("Escape")
        viewer.wait_for(state="detached")
    finally:
        context.close()


def test_a_newcomer_is_asked_for_a_name(browser: Any, web_server: LiveServer) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_ui(page, web_server, "+447700900420")
        prompt = page.get_by_test_id("name-prompt")
        prompt.wait_for()
        face = page.get_by_test_id("profile-button")
        assert face.get_attribute("aria-label") == "Profile"
        page.screenshot(path=str(ARTIFACTS / "firsthour-name-prompt.png"))
        prompt.get_by_label("Your name").fill("Tariq Nasser")
        prompt.get_by_role("button", name="Save").click()
        prompt.wait_for(state="detached")
        wait_until(lambda: face.inner_text() == "TN", message="the face has initials")
    finally:
        context.close()


def test_public_means_a_name_chosen_at_creation_and_join_takes_a_link(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        a.get_by_role("button", name="New chat").click()
        a.get_by_label("Channel", exact=True).check()
        a.get_by_label("Title").fill("Tour News")
        a.get_by_label("Public name (optional)").fill("tour_news")
        a.get_by_role("button", name="Create", exact=True).click()
        a.get_by_role("heading", name="Tour News").wait_for()
        chat = next(c for c in alice.ok("GET", "/chats")["chats"] if c["title"] == "Tour News")
        assert chat["handle"] == "tour_news"
        assert chat["public"] is True
        photo = upload_ready(alice, jpeg(800, 600), kind="photo", filename="stage.jpg")
        alice.send(chat["id"], "tonight https://example.org/map", media_id=photo["id"],
                   kind="photo")

        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_role("button", name="New chat").click()
        b.get_by_label("Join").check()
        # The search has a visible label; results have no stray bullet.
        search = b.get_by_label("Search public channels and groups")
        search.fill("tour")
        result = b.get_by_test_id("public-results").locator("li").first
        result.wait_for()
        assert result.evaluate("li => getComputedStyle(li).listStyleType") == "none"
        # A link to the public page opens the chat's preview, with the post's picture.
        b.get_by_label("Link or @name of the group or channel").fill(
            f"{web_server.url}/c/tour_news")
        b.get_by_role("button", name="Join", exact=True).click()
        preview = b.get_by_test_id("public-preview")
        preview.locator("#pub-h", has_text="Tour News").wait_for()
        thumb = preview.get_by_test_id("public-thumb")
        wait_until(lambda: thumb.evaluate("i => i.complete && i.naturalWidth > 0"),
                   timeout=15, message="the thumbnail, not the word Photo")
        assert preview.get_by_role("link", name="https://example.org/map").count() == 1
        b.screenshot(path=str(ARTIFACTS / "firsthour-public-preview.png"))
        preview.get_by_role("button", name="Subscribe").click()
        b.get_by_test_id("chat-list").get_by_text("Tour News", exact=True).wait_for()

        # @name works too; something else says what the field takes.
        b.get_by_role("button", name="New chat").click()
        b.get_by_label("Join").check()
        field = b.get_by_label("Link or @name of the group or channel")
        field.fill("not a link at all")
        b.get_by_role("button", name="Join", exact=True).click()
        b.get_by_role("alert").filter(has_text="invite link").wait_for()
        field.fill("@Tour_News")
        b.get_by_role("button", name="Join", exact=True).click()
        b.get_by_test_id("public-preview").get_by_role("button", name="Open").wait_for()
    finally:
        a_ctx.close()
        b_ctx.close()


@pytest.mark.parametrize("look", [*LOOKS, "phone-dark"])
def test_the_first_hours_screens(browser: Any, web_server: LiveServer, tmp_path: Path,
                                 look: str) -> None:
    """Pictures of the new screens (name prompt, attach preview, album, viewer) in every
    look, for a person to look at; and nothing sticks out sideways."""
    newcomer, bob = web_server.sign_up(""), web_server.sign_up("Bob")
    chat = newcomer.direct(bob)
    ids = [upload_ready(bob, jpeg(900, 600), kind="photo", filename=f"{i}.jpg")["id"]
           for i in range(2)]
    bob.send(chat["id"], "two from the sound check", media_ids=ids)
    options = (dict(LOOKS["dark"], viewport={"width": 360, "height": 740})
               if look == "phone-dark" else dict(LOOKS[look]))
    context = browser.new_context(**options)
    try:
        page = open_signed_in(context, web_server, newcomer)
        page.get_by_test_id("name-prompt").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"firsthour-name-{look}.png"))
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        page.get_by_test_id("album").locator("[data-loaded=true]").nth(1).wait_for()
        page.screenshot(path=str(ARTIFACTS / f"firsthour-album-{look}.png"))
        page.get_by_test_id("attach-input").set_input_files([str(p) for p in _photos(tmp_path, 2)])
        preview = page.get_by_test_id("attach-preview")
        wait_until(lambda: preview.locator("s").count() == 2, timeout=20, message="sizes")
        page.screenshot(path=str(ARTIFACTS / f"firsthour-attach-{look}.png"))
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        page.keyboard.press("Escape")
        preview.wait_for(state="detached")
        page.get_by_test_id("open-photo").first.click()
        page.get_by_test_id("viewer-image").wait_for()
        page.screenshot(path=str(ARTIFACTS / f"firsthour-viewer-{look}.png"))
    finally:
        context.close()
