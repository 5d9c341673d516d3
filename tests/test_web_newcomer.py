"""A newcomer's first hour, end to end, in one fresh browser profile: sign in, a name,
finding a person by phone, a chat (reply, edit, delete with undo, react), a group and a
channel posted into at once, a photo with a caption opened in the viewer, offline and
back. Nothing is put in behind the app's back, and the page is never reloaded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser import ARTIFACTS, STORED, attach_files, sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import wait_until
from tests.media_helpers import jpeg
from tests.test_web_firsthour import act, create_chat, post

BOB_PHONE = "+447700900502"
THUMBS = "\U0001f44d"


def _texts(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "[data-testid=messages] [data-testid=message] .text", "els => els.map(e => e.textContent)")
    return texts


def test_a_newcomers_first_hour(browser: Any, web_server_each_db: LiveServer,
                                tmp_path: Path) -> None:
    bob = web_server_each_db.sign_up("Bob", phone=BOB_PHONE)
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        sign_in_ui(page, web_server_each_db, "+447700900501")

        # A name first: the face in the bar shows initials, not the user id.
        prompt = page.get_by_test_id("name-prompt")
        prompt.get_by_label("Your name").fill("Alice Amari")
        prompt.get_by_role("button", name="Save").click()
        prompt.wait_for(state="detached")
        wait_until(lambda: page.get_by_test_id("profile-button").inner_text() == "AA",
                   message="own initials")

        # Bob, found by his phone number.
        page.get_by_role("button", name="Profile", exact=True).click()
        page.get_by_role("button", name="Find contacts").click()
        page.get_by_label("Phone numbers").fill("07700 900502")
        page.get_by_role("button", name=re.compile(r"^Find \(\d+\)$")).click()
        page.get_by_test_id("found").get_by_role("button", name="Message Bob").click()
        page.locator(".conversation .bar h2", has_text="Bob").wait_for()

        # A chat: send, get an answer, reply to it, edit, delete with undo, react.
        post(page, "hello Bob")
        chat_id = page.evaluate("""async () => {
            const req = indexedDB.open("darbuka", 1);
            await new Promise(ok => req.onsuccess = ok);
            const get = req.result.transaction("chats").objectStore("chats").getAll();
            await new Promise(ok => get.onsuccess = ok);
            return get.result.find(c => c.kind === "direct").id;
        }""")
        bob.send(chat_id, "hi Alice, welcome")
        messages = page.get_by_test_id("messages")
        messages.get_by_text("hi Alice, welcome").wait_for()
        act(page, "hi Alice, welcome", "Reply")
        post(page, "how are you")
        assert page.locator("[data-testid=message] .quote").last.inner_text().endswith(
            "hi Alice, welcome")
        act(page, "how are you", "Edit")
        page.get_by_label("Message").fill("how are you?")
        page.keyboard.press("Enter")
        messages.get_by_text("how are you?", exact=True).wait_for()
        messages.get_by_text("edited").wait_for()
        post(page, "oops, wrong chat")
        act(page, "oops, wrong chat", "Delete")
        page.get_by_test_id("undo").get_by_role("button", name="Undo").click()
        messages.get_by_text("oops, wrong chat").wait_for()
        act(page, "oops, wrong chat", "Delete")
        page.get_by_test_id("undo").wait_for(state="detached", timeout=15_000)
        wait_until(lambda: "oops, wrong chat" not in _texts(page), message="deleted")
        act(page, "hi Alice, welcome", "React")
        page.get_by_role("toolbar", name="React with").get_by_role(
            "button", name=f"React with {THUMBS}").click()
        page.locator(f"[data-emoji='{THUMBS}'][aria-pressed=true]").wait_for()
        history = bob.history(chat_id)
        assert [m.get("text") for m in history if not m.get("deleted")] == [
            "hello Bob", "hi Alice, welcome", "how are you?"]

        # A group and a channel, posted into at once.
        create_chat(page, "Group", "Band")
        post(page, "first rehearsal on Monday")
        create_chat(page, "Channel", "Tour News")
        post(page, "dates soon")

        # A photo with a caption, opened in the viewer.
        page.get_by_test_id("chat-list").get_by_text("Bob", exact=True).click()
        picture = tmp_path / "stage.jpg"
        picture.write_bytes(jpeg(1600, 1200))
        attach_files(page, picture, caption="the stage tonight")
        page.locator(f"[data-testid=message]:has-text('the stage tonight') :is({STORED})"
                     ).wait_for(timeout=30_000)
        page.get_by_role("button", name="Open photo").last.click()
        viewer = page.get_by_test_id("viewer")
        viewer.get_by_text("the stage tonight").wait_for()
        page.get_by_test_id("viewer-image").wait_for()
        page.screenshot(path=str(ARTIFACTS / "newcomer-viewer.png"))
        page.keyboard.press("Escape")
        viewer.wait_for(state="detached")

        # Offline and back: the bar still works, the message waits, then goes once.
        context.set_offline(True)
        page.wait_for_selector("[data-testid=conn][data-state=offline]")
        page.get_by_label("Message").fill("written offline")
        page.keyboard.press("Enter")
        page.locator("[data-status=pending]").wait_for()
        assert page.get_by_role("button", name="New chat").is_visible()
        page.screenshot(path=str(ARTIFACTS / "newcomer-offline.png"))
        context.set_offline(False)
        page.locator(f"[data-testid=message]:has-text('written offline') :is({STORED})"
                     ).wait_for(timeout=30_000)
        sent = [m for m in bob.history(chat_id) if m.get("text") == "written offline"]
        assert len(sent) == 1
        page.screenshot(path=str(ARTIFACTS / "newcomer-chat.png"))
    finally:
        context.close()
