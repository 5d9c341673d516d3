"""Web Push in Chromium: the app's own service worker gets a push (delivered with the
DevTools protocol, as a push service would), shows its notification, closes it when the
chat was read elsewhere, and a click opens the chat. Permission is never asked on load."""

from __future__ import annotations

import json
from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer
from tests.helpers import wait_until

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
    .map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}))"""


def _registration(page: Any, cdp: Any, scope: str) -> str:
    found: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated",
           lambda event: found.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    # Events reach the test while Playwright is at work: a short wait lets them in.
    wait_until(lambda: page.wait_for_timeout(20) or any(r["scopeURL"] == scope
                                                        for r in found),
               message="the registration")
    return str(next(r["registrationId"] for r in found if r["scopeURL"] == scope))


def test_a_push_shows_its_notification_and_a_click_opens_the_chat(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    alice.send(chat["id"], "first")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, bob)
        page.get_by_test_id("chat-list").wait_for()
        assert page.evaluate("Notification.permission") == "default"  # not asked on load
        context.grant_permissions(["notifications"], origin=web_server.url)
        cdp = context.new_cdp_session(page)
        registration = _registration(page, cdp, web_server.url + "/")

        def deliver(body: dict[str, Any]) -> None:
            cdp.send("ServiceWorker.deliverPushMessage", {
                "origin": web_server.url, "registrationId": registration,
                "data": json.dumps(body)})

        deliver({"type": "message", "chat_id": chat["id"], "title": "Alice",
                 "sender": "Alice", "preview": "<b>dinner</b> at eight", "unread": 2,
                 "seq": 2})
        shown = wait_until(lambda: page.evaluate(NOTIFICATIONS), message="the notification")
        # Text as it came (never markup), one notification per chat, tagged with it.
        assert shown == [{"title": "Alice", "body": "<b>dinner</b> at eight",
                          "tag": f"chat{chat['id']}", "data": {"chat_id": chat["id"]}}]
        deliver({"type": "message", "chat_id": chat["id"], "title": "Alice",
                 "sender": "Alice", "preview": "New message", "unread": 3, "seq": 3})
        wait_until(lambda: [n["body"] for n in page.evaluate(NOTIFICATIONS)]
                   == ["New message"], message="the notification replaced")

        # A click: the worker's own click handler on the notification it shows.
        assert page.get_by_test_id("messages").count() == 0
        (worker,) = context.service_workers
        worker.evaluate("""async () => {
            const [n] = await self.registration.getNotifications();
            await openChat(n);
        }""")
        page.get_by_test_id("messages").get_by_text("first").wait_for()

        deliver({"type": "close", "chat_id": chat["id"]})
        wait_until(lambda: page.evaluate(NOTIFICATIONS) == [], message="the notification closed")
    finally:
        context.close()


def test_the_profile_turns_notifications_on_only_when_asked(browser: Any,
                                                            web_server: LiveServer) -> None:
    bob = web_server.sign_up("Bob")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, bob)
        page.get_by_test_id("profile-button").click()
        toggle = page.get_by_test_id("push")
        toggle.get_by_text("Notifications are off for this device").wait_for()
        assert page.evaluate("Notification.permission") == "default"
        # The press is what asks; this browser's answer is no, and the panel says so.
        toggle.get_by_role("button", name="Turn on notifications").click()
        page.get_by_text("Notifications are blocked for this site").wait_for()
        assert page.evaluate("Notification.permission") == "denied"
    finally:
        context.close()
