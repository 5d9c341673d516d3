"""Search in the web client: across chats and within one, a result opening its message in
the chat's history, and with no link the messages this device holds (and a note saying so).
A fresh profile, signed in through the screen, never reloaded."""

from __future__ import annotations

from typing import Any

from tests.browser import sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import wait_until

TARGET = "قَرَأْتُ كِتَابَ أحمد <img src=x onerror=alert(1)>"


def _marks(page: Any) -> list[str]:
    marks: list[str] = page.eval_on_selector_all(
        "[data-testid=search-hit] mark", "els => els.map(e => e.textContent)")
    return marks


def test_search_opens_the_message_in_its_history_and_works_offline(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    group = alice.group("Book club", [bob])
    alice.group("Elsewhere", [bob])
    alice.send(group["id"], "welcome")
    target = alice.send(group["id"], TARGET)
    for n in range(80):  # the target is far from the newest page
        alice.send(group["id"], f"filler {n}")
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_ui(page, web_server, bob.user["phone"])
        page.get_by_test_id("search-button").click()
        page.get_by_test_id("search-input").fill("كتاب احمد")
        page.get_by_test_id("search-hit").first.wait_for()
        assert page.get_by_test_id("search-hit").count() == 1
        assert _marks(page) == ["كِتَابَ", "أحمد"]
        # The message's text is text: nothing in it became an element.
        assert page.locator("[data-testid=search-screen] img").count() == 0
        page.get_by_test_id("search-hit").click()
        page.locator(".conversation h2").filter(has_text="Book club").wait_for()
        found = page.locator(f"[data-testid=message][data-seq='{target['seq']}'][data-found]")
        found.wait_for()
        assert found.is_visible()
        assert "كِتَابَ أحمد" in found.inner_text()
        # Within the open chat.
        page.get_by_test_id("search-chat").click()
        page.get_by_test_id("search-input").fill("filler 7")
        # Each word as a word's start: "filler 7" and "filler 70" to "filler 79".
        wait_until(lambda: page.get_by_test_id("search-hit").count() == 11,
                   message="hits within the chat")
        # No link: what IndexedDB holds, and a note that says so.
        context.set_offline(True)
        page.get_by_test_id("search-input").fill("احمد")
        page.get_by_test_id("search-offline").wait_for()
        wait_until(lambda: _marks(page) == ["أحمد"], message="the offline hit")
        assert page.get_by_test_id("search-hit").count() == 1
    finally:
        context.close()
