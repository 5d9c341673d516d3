"""Reading a Telegram export (`services/telegram.py`): its pieces of text into text and
markup, its dates, its media paths (never outside the folder)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from darbuka.errors import BadRequest
from darbuka.services.telegram import entity_markup, read_export


def test_pieces_become_text_and_ranges() -> None:
    text, markup = entity_markup([
        {"type": "plain", "text": "run "},
        {"type": "pre", "text": "make test", "language": "sh"},
        {"type": "plain", "text": " or\n"},
        {"type": "pre", "text": "make run"},
        {"type": "plain", "text": "\nat "},
        {"type": "link", "text": "example.org"},
        {"type": "plain", "text": " with "},
        {"type": "mention_name", "text": "Ana", "user_id": 77},
        {"type": "strikethrough", "text": "old"},
        {"type": "underline", "text": "u"},
        {"type": "spoiler", "text": "secret"},
        {"type": "custom_emoji", "text": "🙂", "document_id": "x"},
    ])
    assert text == "run make test or\nmake run\nat example.org with Anaoldusecret🙂"
    assert markup == [
        # Inside a line, a `pre` is inline code; on lines of its own, a code block.
        {"type": "monospaced", "from": 4, "length": 9},
        {"type": "code_block", "from": 17, "length": 8},
        {"type": "link", "url": "https://example.org", "from": 29, "length": 11},
        {"type": "user_mention", "author": "user77", "from": 46, "length": 3},
        {"type": "strikethrough", "from": 49, "length": 3},
        {"type": "underline", "from": 52, "length": 1},
    ]
    assert entity_markup("just text") == ("just text", [])
    assert entity_markup(None) == ("", [])


def test_the_export_read_with_dates_and_media(tmp_path: Path) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"x")
    (tmp_path.parent / "secret.txt").write_bytes(b"not yours")
    messages = [
        {"id": 3, "type": "message", "date": "2020-01-01T00:00:00", "from": "A",
         "from_id": "user1", "text": "", "photo": "photos/a.jpg"},
        {"id": 2, "type": "message", "date": "2020-01-01T00:00:00", "from": None,
         "from_id": "user2", "text": "", "file": "../secret.txt"},
        {"id": 4, "type": "message", "date": "x", "from_id": "user1", "text": "",
         "file": "stickers/s.webp", "media_type": "sticker"},
        {"id": 5, "type": "message", "date_unixtime": "1600000000", "from_id": "user1",
         "text": "", "poll": {"question": "?"}},
    ]
    (tmp_path / "result.json").write_bytes(orjson.dumps(
        {"name": "", "type": "public_channel", "id": 9, "messages": messages}))
    chat = read_export(tmp_path)
    assert chat.source == "telegram:9"
    assert chat.name == "Telegram chat"
    assert [m.id for m in chat.messages] == [2, 3, 4, 5]
    outside, photo, sticker, poll = chat.messages
    assert outside.media is not None
    assert outside.media.path is None
    assert "outside the export folder" in (outside.media.missing or "")
    assert outside.author_name == "Deleted Account"
    assert photo.media is not None
    assert photo.media.kind == "photo"
    assert photo.media.path == (tmp_path / "photos" / "a.jpg").resolve()
    assert photo.date_ms == 1_577_836_800_000  # a date without a zone, read as UTC
    assert sticker.skipped == "a sticker"
    assert poll.skipped == "a poll, place or contact card"
    assert poll.date_ms == 1_600_000_000_000


def test_what_is_no_export_of_one_chat_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match=r"no result\.json here"):
        read_export(tmp_path)
    (tmp_path / "result.json").write_text("{not json")
    with pytest.raises(BadRequest, match="not JSON"):
        read_export(tmp_path)
    (tmp_path / "result.json").write_bytes(orjson.dumps({"chats": {"list": []}}))
    with pytest.raises(BadRequest, match="not the export of one chat"):
        read_export(tmp_path)
