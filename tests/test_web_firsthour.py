"""What a newcomer trips over in the first hour, each fixed and checked as they would meet
it: a fresh browser profile, the screens, no reloads and no state put in behind the app's
back. (The whole first hour in one walk: test_web_newcomer.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import ARTIFACTS, STORED, open_signed_in, sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import wait_until


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
