"""The app's service worker answers only for the app: the server's own pages (the
transparency report, public channel pages, anything else outside the app) come from the
server, never as the cached app shell."""

from __future__ import annotations

from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer


def test_server_pages_are_not_answered_with_the_app(browser: Any,
                                                    web_server: LiveServer) -> None:
    api = web_server.sign_up("Alice")
    context = browser.new_context()
    try:
        page = open_signed_in(context, web_server, api)  # the worker controls the page
        response = page.goto(f"{web_server.url}/transparency")
        assert response is not None
        assert not response.from_service_worker
        assert "text/html" in response.headers["content-type"]
        page.get_by_text("Transparency report", exact=False).first.wait_for()
        assert page.locator("[data-testid=chat-list]").count() == 0
        # The app itself still opens from the worker's cache.
        back = page.goto(web_server.url)
        assert back is not None
        assert back.from_service_worker
        page.get_by_test_id("chat-list").wait_for()
    finally:
        context.close()
