"""Sending later from the web client: a newcomer (fresh profile, signed in through the
screen, no reload) types a message, schedules it from the composer's clock, sees it wait and
cancels it; a second one goes out at its time and reaches the other side."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import WEB_DIST, sign_in_ui
from tests.conftest import LiveServer, make_server
from tests.helpers import wait_until

PHONE = "+447700900371"


@pytest.fixture
def quick_server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, web_dir=WEB_DIST,
                      scheduled_check_s=0.5)
    yield srv
    srv.thread.stop()


def test_a_message_scheduled_from_the_composer_waits_and_goes_out(
        browser: Any, quick_server: LiveServer) -> None:
    server = quick_server
    bob = server.sign_up("Bob")
    context = browser.new_context()
    try:
        page = context.new_page()
        sign_in_ui(page, server, PHONE)
        chat = bob.ok("POST", "/chats", json={"kind": "direct",
                                              "user_id": server.run_async(_user_id(server))})
        page.get_by_test_id("chat-list").get_by_text("Bob").click()

        box = page.get_by_label("Message")
        box.fill("see you at nine")
        page.get_by_test_id("schedule-button").click()
        page.get_by_role("button", name="Schedule", exact=True).click()
        listed = page.get_by_test_id("scheduled-list")
        listed.get_by_text("see you at nine").wait_for()
        assert box.input_value() == ""  # the composer emptied
        waiting = bob.ok("GET", f"/chats/{chat['id']}/scheduled")["scheduled"]
        assert waiting == []  # the other side sees nothing of it
        # Cancelled from the list: it never goes.
        listed.get_by_role("button", name="Cancel").click()
        listed.wait_for(state="detached")

        box.fill("the second one")
        page.get_by_role("button", name="Schedule", exact=True).click()
        page.get_by_test_id("scheduled-list").get_by_text("the second one").wait_for()
        server.clock.advance(3601)
        wait_until(lambda: [m["text"] for m in bob.history(chat["id"])] == ["the second one"],
                   timeout=15, message="the scheduled message sent")
        page.get_by_test_id("messages").get_by_text("the second one").wait_for()
    finally:
        context.close()


async def _user_id(server: LiveServer) -> int:
    runtime = server.app.state.runtime
    async with runtime.db.read() as conn:
        user = await runtime.stores.users.by_phone(conn, PHONE)
    assert user is not None
    return int(user["id"])
