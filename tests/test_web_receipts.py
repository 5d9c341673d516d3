"""Receipts in the web client: ✓ when stored, ✓✓ (muted) once the other person's device
has the message, ✓✓ (accent) once they read it — without reloading."""

from __future__ import annotations

from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api


def _mark(page: Any, seq: int, status: str, label: str) -> None:
    """Waits for the mark of the message with `seq` to say `status` (and be labelled)."""
    page.wait_for_selector(f'[data-testid=message][data-seq="{seq}"] '
                           f'.mark[data-status={status}][aria-label="{label}"]')


def _bob_in(alice: Api, chat_id: int, bob: Api) -> dict[str, Any]:
    members = alice.ok("GET", f"/chats/{chat_id}/members")["members"]
    found: dict[str, Any] = next(m for m in members if m["user_id"] == bob.id)
    return found


def _colour(page: Any, seq: int) -> str:
    colour: str = page.locator(f'[data-testid=message][data-seq="{seq}"] .mark').evaluate(
        "e => getComputedStyle(e).color")
    return colour


def _send(page: Any, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.keyboard.press("Enter")


def test_marks_go_from_stored_to_delivered_to_read(browser: Any,
                                                   web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice")
    bob = web_server.sign_up("Bob")
    chat = alice.direct(bob)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        a.get_by_test_id("chat-list").get_by_role("button").first.click()
        _send(a, "are you there?")
        first = a.locator("[data-testid=message][data-seq]").last
        first.locator(".mark[data-status=sent]").wait_for()
        seq = int(first.get_attribute("data-seq"))
        # Bob has no page open: nothing of his has the message, so it stays at ✓.
        _mark(a, seq, "sent", "Sent")
        assert _bob_in(alice, chat["id"], bob)["last_delivered_seq"] == 0
        assert a.locator(".mark[data-status=delivered], .mark[data-status=read]").count() == 0

        # Bob opens the app on his chat list (the chat stays closed): delivered, not read.
        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_test_id("chat-list").get_by_text("are you there?").wait_for()
        _mark(a, seq, "delivered", "Delivered")
        # A message that reaches Bob live turns ✓✓ too.
        _send(a, "hello?")
        second = seq + 1
        _mark(a, second, "delivered", "Delivered")
        member = _bob_in(alice, chat["id"], bob)
        assert (member["last_delivered_seq"], member["last_read_seq"]) == (second, 0)
        muted = _colour(a, seq)

        # Bob opens the chat: both turn to read, in the accent colour.
        b.get_by_test_id("chat-list").get_by_role("button").first.click()
        _mark(a, second, "read", "Read")
        _mark(a, seq, "read", "Read")
        assert _bob_in(alice, chat["id"], bob)["last_read_seq"] == second
        assert _colour(a, seq) != muted
    finally:
        a_ctx.close()
        b_ctx.close()
