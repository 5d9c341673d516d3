"""Settings → *Download my data* in Chromium saves the zip; its offline viewer, opened from
the folder, shows names and messages as text, never as HTML."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import orjson

from tests.browser import open_signed_in
from tests.conftest import LiveServer

TRAP = '<img src=x onerror="document.title=\'owned\'"><b>bold?</b>'


def test_download_my_data_and_view_it_offline(browser: Any, web_server: LiveServer,
                                              tmp_path: Path) -> None:
    alice = web_server.sign_up("Alice")
    alice.ok("PATCH", "/me", json={"display_name": "Al <i>ice</i>"})
    alice.user = alice.ok("GET", "/me")
    bob = web_server.sign_up("Bob")
    chat = alice.group("Plans " + TRAP[:20], [bob])
    alice.send(chat["id"], TRAP)
    context = browser.new_context(accept_downloads=True)
    try:
        page = open_signed_in(context, web_server, alice)
        page.get_by_test_id("profile-button").click()
        with page.expect_download(timeout=60_000) as download:
            page.get_by_test_id("my-data").click()
        page.get_by_test_id("my-data-note").get_by_text("downloaded").wait_for()
        saved = tmp_path / "mine.zip"
        download.value.save_as(saved)
        folder = tmp_path / "mine"
        with zipfile.ZipFile(saved) as zf:
            zf.extractall(folder)
        assert [m["text"] for m in orjson.loads((folder / "messages.json").read_bytes())] \
            == [TRAP]

        viewer = context.new_page()
        errors: list[str] = []
        viewer.on("pageerror", lambda e: errors.append(str(e)))
        viewer.goto((folder / "index.html").as_uri())
        viewer.get_by_text(TRAP).wait_for()
        assert errors == []
        assert viewer.title() == "Your Darbuka data"  # the onerror never ran
        assert viewer.locator("#chats img, #chats b, #profile i").count() == 0
        body = viewer.inner_text("body")
        assert "Name: Al <i>ice</i>" in body
        assert "Plans <img src=x one" in body
    finally:
        context.close()
