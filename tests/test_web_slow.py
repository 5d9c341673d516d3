"""The web client on a slow link: DevTools' "3G" profile (400 kbit/s both ways, 2,000 ms
latency) set through the DevTools protocol. The issue's targets: the chat list in ≤ 3 s for
a returning user (cached shell, stored chats) and in ≤ 10 s for a first-time user."""

from __future__ import annotations

import time
from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer

THREE_G = {"offline": False, "latency": 2000, "downloadThroughput": 400_000 / 8,
           "uploadThroughput": 400_000 / 8}


def _throttle(context: Any, page: Any) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THREE_G)


def test_chat_list_on_3g(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.group("Weekend plans", [bob])
    alice.send(chat["id"], "who brings the darbuka?")

    # Returning user: the shell is in the service worker's cache, the chats in IndexedDB.
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_text("Weekend plans", exact=True).wait_for()
        _throttle(ctx, page)
        start = time.monotonic()
        page.reload()
        page.get_by_text("Weekend plans", exact=True).wait_for(timeout=15_000)
        returning = time.monotonic() - start
    finally:
        ctx.close()

    # First-time user: nothing cached. Timed: loading the app to the sign-in screen, and
    # from entering the code to the chat list. Not timed: the wait for the SMS itself.
    phone = "+447700900301"
    web_server.sign_up("Bob again", phone=phone)  # an account with a chat to show
    bob_again = web_server.sign_up(phone=phone)
    bob_again.group("Weekend plans too", [alice])
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        _throttle(ctx, page)
        start = time.monotonic()
        page.goto(web_server.url, wait_until="commit")
        page.get_by_label("Phone number").fill(phone, timeout=15_000)
        to_sign_in = time.monotonic() - start
        old_code = web_server.codes.codes[phone]
        page.get_by_role("button", name="Send code").click()
        page.get_by_label("Code").wait_for(timeout=15_000)
        assert web_server.codes.codes[phone] != old_code
        page.get_by_label("Code").fill(web_server.codes.codes[phone])
        start = time.monotonic()
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("Weekend plans too", exact=True).wait_for(timeout=15_000)
        first_time = to_sign_in + time.monotonic() - start
    finally:
        ctx.close()

    print(f"\n3G chat list: returning user {returning:.2f} s, first-time user {first_time:.2f} s "
          f"(app to sign-in screen {to_sign_in:.2f} s)")
    # The functional requirement, not a benchmark: keep these bounds.
    assert returning <= 3.0, f"a returning user saw the chat list after {returning:.2f} s (> 3)"
    assert first_time <= 10.0, f"a new user saw the chat list after {first_time:.2f} s (> 10)"
