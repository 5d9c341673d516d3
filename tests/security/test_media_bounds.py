"""Media within bounds: a Range header of thousands of digits is 416, not 500; a bot's
upload URL takes files over the general body limit (it has its own) and counts against the
bot's upload quota like any upload."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer, make_server
from tests.helpers import Api
from tests.media_helpers import png, upload_ready


def test_a_range_of_thousands_of_digits_is_416(server: LiveServer, alice: Api) -> None:
    media = upload_ready(alice, png(), "photo", "p.png")
    url = f"/media/{media['id']}/thumb"
    huge = "9" * 5000
    past_end = alice.call("GET", url, headers={"Range": f"bytes={huge}-"})
    assert past_end.status_code == 416, past_end.text
    assert past_end.json()["error"]["code"] == "range_not_satisfiable"
    # A huge last position is the end of the file; a huge suffix is all of it.
    whole = alice.call("GET", url, expect=200).content
    assert alice.call("GET", url, headers={"Range": f"bytes=0-{huge}"},
                      expect=206).content == whole
    assert alice.call("GET", url, headers={"Range": f"bytes=-{huge}"},
                      expect=206).content == whole


def test_a_bot_uploads_a_file_over_the_body_limit(server: LiveServer) -> None:
    bot = make_bot(server, "Archivist")
    url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
    body = b"x" * (server.settings.max_body_bytes + 500_000)
    sent = httpx.post(url, files={"data": ("big.bin", body)}, timeout=60)
    assert sent.status_code == 200, sent.text
    assert sent.json()["token"]


def test_bot_uploads_count_against_the_quota(database_url: str, tmp_path: Path) -> None:
    server = make_server(database_url, tmp_path, upload_quota_bytes=30_000)
    try:
        bot = make_bot(server, "Hoarder")
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        first = httpx.post(url, files={"data": ("one.bin", b"x" * 20_000)})
        assert first.status_code == 200, first.text
        url = bot.call("POST", "/uploads", params={"type": "file"})["url"]
        second = httpx.post(url, files={"data": ("two.bin", b"x" * 20_000)})
        assert second.status_code == 413, second.text
        assert second.json()["code"] == "too.large"
        assert "quota" in second.json()["message"]
    finally:
        server.thread.stop()
