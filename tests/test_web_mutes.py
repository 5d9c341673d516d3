"""Mute and drafts in the web client, with two browsers of one person: a draft typed in one
shows in the other's composer, live; a mute set in one shows in the other's chat list, with
a quiet unread badge; a send clears the draft everywhere; a draft written offline is kept
and reaches the server when the link is back."""

from __future__ import annotations

from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

PHONE = "+447700900351"


def _composer_says(page: Any, text: str) -> None:
    page.wait_for_function("t => document.querySelector('textarea')?.value === t", arg=text)


def _server_draft(api: Api, chat_id: int) -> str | None:
    chat = next(c for c in api.ok("GET", "/chats")["chats"] if c["id"] == chat_id)
    draft = chat.get("draft")
    return None if draft is None else str(draft["text"])


def test_drafts_and_mute_follow_a_person_across_browsers(browser: Any,
                                                         web_server: LiveServer) -> None:
    phone = web_server.sign_up("Alice", phone=PHONE)
    laptop = web_server.sign_up(phone=PHONE)
    bob = web_server.sign_up("Bob")
    chat = bob.group("Book club", [phone])
    bob.send(chat["id"], "first chapter by Friday")
    one_ctx, two_ctx = browser.new_context(), browser.new_context()
    try:
        one = open_signed_in(one_ctx, web_server, phone)
        two = open_signed_in(two_ctx, web_server, laptop)
        one.get_by_test_id("chat-list").get_by_text("Book club").click()

        # Mute in one browser, with @mentions let through: the other's list shows it.
        one.get_by_test_id("mute-button").click()
        one.get_by_label("Mentions still notify me").check()
        one.get_by_role("button", name="For 8 hours").click()
        one.get_by_test_id("mute-button").and_(one.get_by_label("Muted")).wait_for()
        row = two.get_by_test_id("chat-list").get_by_role("button").filter(has_text="Book club")
        row.get_by_test_id("muted-mark").wait_for()
        # Unread while muted: the count is there, in a quiet badge (the chat open in the
        # first browser read the earlier message).
        one.get_by_role("button", name="Back").click()
        bob.send(chat["id"], "and the second")
        badge = row.locator(".badge.quiet")
        badge.wait_for()
        assert badge.inner_text() == "1"
        assert one.get_by_test_id("chat-list").locator(".badge.quiet").inner_text() == "1"
        assert not two.title().startswith("(")  # a muted chat's unread leave the tab's title
        colours = badge.evaluate("b => [getComputedStyle(b).backgroundColor,"
                                 " getComputedStyle(document.documentElement)"
                                 ".getPropertyValue('--accent')]")
        assert colours[0] != colours[1]
        mute = next(c for c in phone.ok("GET", "/chats")["chats"] if c["id"] == chat["id"])
        assert mute["mute"]["mentions"] is True
        one.get_by_test_id("chat-list").get_by_text("Book club").click()

        # A draft typed in one shows in the other's composer on opening, then live.
        one.get_by_label("Message").fill("I will bring the")
        wait_until(lambda: _server_draft(laptop, chat["id"]) == "I will bring the",
                   message="the draft saved")
        row.click()
        _composer_says(two, "I will bring the")
        one.get_by_label("Message").press_sequentially(" tea")
        _composer_says(two, "I will bring the tea")

        # Sending it from the second clears the draft in the first.
        two.get_by_label("Message").press("Enter")
        one.get_by_test_id("messages").get_by_text("I will bring the tea").wait_for()
        _composer_says(one, "")
        assert _server_draft(phone, chat["id"]) is None

        # Unmuting in the second: the first's header says so.
        two.get_by_test_id("mute-button").click()
        two.get_by_role("button", name="Unmute").click()
        one.get_by_test_id("mute-button").and_(one.get_by_label("Mute")).wait_for()
        assert row.get_by_test_id("muted-mark").count() == 0

        # Offline, a draft is kept in IndexedDB, survives a reload and is sent when back.
        one_ctx.set_offline(True)
        one.wait_for_selector("[data-testid=conn][data-state=offline]")
        one.get_by_label("Message").fill("written on the train")
        one.wait_for_timeout(1000)  # past the typing pause: the save failed, it waits
        assert _server_draft(phone, chat["id"]) is None
        one.reload()
        one.get_by_test_id("chat-list").get_by_text("Book club").click()
        _composer_says(one, "written on the train")
        one_ctx.set_offline(False)
        wait_until(lambda: _server_draft(phone, chat["id"]) == "written on the train",
                   timeout=15, message="the offline draft sent")
        _composer_says(two, "written on the train")
    finally:
        one_ctx.close()
        two_ctx.close()
