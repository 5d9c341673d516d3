"""Browser tests' fixtures: Debian's Chromium driven by Playwright, and a live server that
serves the built web client (SQLite only: the browser tests are about the client)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer, make_server
from tests.helpers import Api

__all__ = ["ARTIFACTS", "CHROMIUM_ARGS", "LOOKS", "STORED", "attach_files", "browser",
           "open_signed_in", "sign_in_ui", "web_server", "web_server_each_db"]

ROOT = Path(__file__).resolve().parent.parent
WEB_DIST = ROOT / "web" / "dist"
ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A message the server has stored shows one of these marks: ✓ sent, ✓✓ delivered or read
# (which one depends on how quickly the other side's open app answers).
STORED = "[data-status=sent], [data-status=delivered], [data-status=read]"
# The looks every screenshot is taken in: browser-context options by name.
LOOKS: dict[str, dict[str, str]] = {
    "light": {"color_scheme": "light"},
    "dark": {"color_scheme": "dark"},
    "arabic": {"color_scheme": "light", "locale": "ar-EG"},
}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _missing() -> str:
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (make test installs it)"
    if not (WEB_DIST / "index.html").exists():
        return "web/dist is not built (make test builds it)"
    return ""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the whole session; each test makes its own contexts."""
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def web_server(tmp_path: Path) -> Iterator[LiveServer]:
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, web_dir=WEB_DIST)
    yield srv
    srv.thread.stop()


@pytest.fixture
def web_server_each_db(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The web client's server on SQLite and on PostgreSQL (what a newcomer meets first runs
    on both engines an operator may choose)."""
    srv = make_server(database_url, tmp_path, web_dir=WEB_DIST)
    yield srv
    srv.thread.stop()


def sign_in_ui(page: Any, server: LiveServer, phone: str) -> None:
    """The sign-in screen, as a person uses it (the code comes from the fake SMS outbox)."""
    page.goto(server.url)
    page.get_by_label("Phone number").fill(phone)
    page.get_by_role("button", name="Send code").click()
    page.get_by_label("Code").wait_for()
    page.get_by_label("Code").fill(server.codes.codes[phone])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("chat-list").wait_for()


def open_signed_in(context: Any, server: LiveServer, api: Api) -> Any:
    """A page of `context` already signed in as `api` (its token put where the app keeps
    it), with the service worker in control and the socket live."""
    page = context.new_page()
    page.goto(server.url)
    page.evaluate("""async ([token, user]) => {
        const db = await new Promise((ok, fail) => {
            const req = indexedDB.open("darbuka", 1);
            req.onsuccess = () => ok(req.result);
            req.onerror = () => fail(req.error);
        });
        await new Promise((ok, fail) => {
            const tx = db.transaction("kv", "readwrite");
            tx.objectStore("kv").put({token, user}, "session");
            tx.oncomplete = ok;
            tx.onerror = () => fail(tx.error);
        });
        db.close();
        await navigator.serviceWorker.ready;
    }""", [api.token, api.user])
    page.reload()
    page.wait_for_selector("[data-testid=conn][data-state=online]")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return page


def attach_files(page: Any, *paths: Any, caption: str = "", original: bool = False) -> None:
    """The composer's attach button as a person uses it: pick, look at the preview, Send."""
    page.get_by_test_id("attach-input").set_input_files([str(p) for p in paths])
    preview = page.get_by_test_id("attach-preview")
    if original:
        preview.get_by_label("Send original").check()
    if caption:
        preview.get_by_label("Caption").fill(caption)
    send = preview.get_by_role("button", name="Send", exact=True)
    page.wait_for_function("b => !b.disabled", arg=send.element_handle(), timeout=30_000)
    send.click()
    preview.wait_for(state="detached")
