"""After a first visit the whole app opens offline, screens fetched later included: the
conversation, a chat's info, one's profile, finding contacts, a new chat, and the Arabic
interface (switched to and back with no reload). The browser's own HTTP cache is emptied
first, so only the service worker's cache can answer."""

from __future__ import annotations

from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer


def test_later_screens_and_languages_open_offline(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    alice.send(chat["id"], "before the tunnel")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, alice)
        page.get_by_test_id("chat-list").get_by_text("Bob").wait_for()  # his name is stored
        context.new_cdp_session(page).send("Network.clearBrowserCache")
        context.set_offline(True)
        page.wait_for_selector("[data-testid=conn][data-state=offline]")
        page.reload()  # the service worker serves the app

        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        page.get_by_test_id("messages").get_by_text("before the tunnel", exact=True).wait_for()
        page.get_by_role("button", name="Chat info").click()
        page.locator("#info-h", has_text="Bob").wait_for()

        page.get_by_role("button", name="Profile", exact=True).click()
        page.get_by_role("button", name="Find contacts").click()
        page.get_by_label("Phone numbers").wait_for()

        page.get_by_role("button", name="Profile", exact=True).click()
        page.get_by_label("Language").select_option("ar")
        page.wait_for_selector("html[dir=rtl][lang=ar]")
        page.get_by_label("اللغة").select_option("en")
        page.wait_for_selector("html[dir=ltr][lang=en]")
        page.get_by_label("Language").wait_for()

        page.get_by_role("button", name="New chat").click()
        page.locator("#new-h").wait_for()
    finally:
        context.close()


def test_a_language_never_fetched_is_refused_offline(browser: Any, web_server: LiveServer) -> None:
    """Its strings gone from every cache and no network: the picker says so and goes back."""
    alice = web_server.sign_up("Alice")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, alice)
        dropped = page.evaluate("""async () => {
            const cache = await caches.open("darbuka-shell-v1");
            const arabic = (await cache.keys()).filter(r => /\\/ar-[^/]+\\.js$/.test(r.url));
            for (const r of arabic) await cache.delete(r);
            return arabic.length;
        }""")
        assert dropped == 1
        context.new_cdp_session(page).send("Network.clearBrowserCache")
        context.set_offline(True)
        page.get_by_role("button", name="Profile", exact=True).click()
        page.get_by_label("Language").select_option("ar")
        page.get_by_text("that language can be chosen once you are online").wait_for()
        assert page.get_by_label("Language").input_value() == "en"
        assert page.evaluate("document.documentElement.dir") == "ltr"
    finally:
        context.close()
