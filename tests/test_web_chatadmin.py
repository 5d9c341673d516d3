"""A chat admin in the web client: slow mode set and someone banned from chat info, on a
fresh browser profile signed in through the sign-in screen, with no reloads; the server
then holds both."""

from __future__ import annotations

from typing import Any

from tests.browser import sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import new_client_id, wait_until


def test_an_admin_bans_someone_and_sets_slow_mode(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900601")
    bob, carol = web_server.sign_up("Bob"), web_server.sign_up("Carol")
    chat = alice.group("Book club", [bob, carol])
    cid = chat["id"]
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_ui(page, web_server, "+447700900601")
        page.get_by_test_id("chat-list").get_by_text("Book club", exact=True).click()
        page.locator(".conversation h2").filter(has_text="Book club").wait_for()
        page.get_by_role("button", name="Chat info").click()

        page.get_by_label("Slow mode").select_option(label="30 s")
        wait_until(lambda: alice.ok("GET", f"/chats/{cid}").get("slow_mode_s") == 30,
                   message="slow mode saved")
        page.get_by_role("button", name="Ban: Bob").click()
        page.get_by_test_id("bans").get_by_text("Bob").wait_for()
        assert page.get_by_test_id("ban-members").get_by_text("Bob").count() == 0

        # The server holds both: Bob is out and cannot come back; Carol waits 30 s a post.
        assert [b["user_id"] for b in alice.ok("GET", f"/chats/{cid}/bans")["bans"]] == [bob.id]
        bob.call("POST", f"/chats/{cid}/messages",
                 json={"client_id": new_client_id(), "text": "hello?"}, expect=404)
        carol.send(cid, "first")
        refused = carol.call("POST", f"/chats/{cid}/messages",
                             json={"client_id": new_client_id(), "text": "second"}, expect=429)
        assert refused.json()["error"]["code"] == "slow_mode"
        # The admin log on the same screen tells both, newest first.
        log = page.get_by_test_id("admin-log")
        log.get_by_text("banned Bob").wait_for()
        assert "set slow mode: 30 s" in log.inner_text()
        assert page.get_by_label("Slow mode").input_value() == "30"
    finally:
        context.close()
