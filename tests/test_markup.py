"""Markup: ranges over the text, stored with the message, in every event, checked strictly."""

from __future__ import annotations

from typing import Any

import pytest

from darbuka.markup import (
    InvalidMarkup,
    check_markup,
    from_code_points,
    to_code_points,
    utf16_len,
)
from tests.conftest import LiveServer
from tests.helpers import Api, Socket, new_client_id

# An emoji outside the BMP takes two UTF-16 code units; Arabic letters one each.
TEXT = "😀 مرحبا bold https://x"
BOLD = {"type": "strong", "from": 9, "length": 4}  # "bold": after 😀(2) + space + 5 + space
ARABIC = {"type": "emphasized", "from": 3, "length": 5}
LINK = {"type": "link", "from": 14, "length": 9, "url": "https://example.org/a?b=1"}


def send(api: Api, chat_id: int, text: str, markup: Any, expect: int = 201) -> Any:
    return api.call("POST", f"/chats/{chat_id}/messages",
                    json={"client_id": new_client_id(), "text": text, "markup": markup},
                    expect=expect).json()


def test_offsets_are_utf16_code_units() -> None:
    assert utf16_len(TEXT) == 23
    assert TEXT[to_code_points(TEXT, [BOLD])[0]["from"]:][:4] == "bold"
    points = to_code_points(TEXT, [ARABIC, BOLD])
    assert [TEXT[p["from"]:p["from"] + p["length"]] for p in points] == ["مرحبا", "bold"]
    assert from_code_points(TEXT, points) == [ARABIC, BOLD]


def test_every_offset_converts_and_pairs_are_never_split() -> None:
    text = "a😀b👩‍💻 مرحبا 𝄞\n"
    for index in range(len(text) + 1):
        unit = len(text[:index].encode("utf-16-le")) // 2
        span = {"type": "strong", "from": 0, "length": unit}
        if unit:
            assert to_code_points(text, [span]) == [span | {"length": index}]
            assert from_code_points(text, [span | {"length": index}]) == [span]
            check_markup(text, [span])
        if index < len(text) and ord(text[index]) > 0xFFFF:
            with pytest.raises(InvalidMarkup, match="splits a character"):
                check_markup(text, [{"type": "strong", "from": unit + 1, "length": 1}])


def test_markup_round_trips_over_http_and_sync(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    cursor = bob.sync()["cursor"]
    sent = send(alice, chat["id"], TEXT, [LINK, BOLD, ARABIC])
    # Stored sorted by position, as given otherwise.
    assert sent["markup"] == [ARABIC, BOLD, LINK]
    assert bob.history(chat["id"])[-1]["markup"] == [ARABIC, BOLD, LINK]
    events, _ = bob.sync_all(cursor)
    assert [e["message"]["markup"] for e in events if e["type"] == "message.new"] == [
        [ARABIC, BOLD, LINK]]
    plain = alice.send(chat["id"], "plain")
    assert "markup" not in plain  # absent, not [], as every optional field


def test_an_edit_replaces_the_markup(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    sent = send(alice, chat["id"], "make it bold", [BOLD | {"from": 8}])
    path = f"/chats/{chat['id']}/messages/{sent['id']}"
    edited = alice.ok("PATCH", path, json={"text": "now underlined",
                                           "markup": [{"type": "underline", "from": 4,
                                                       "length": 10}]})
    assert edited["markup"] == [{"type": "underline", "from": 4, "length": 10}]
    plain = alice.ok("PATCH", path, json={"text": "plain again"})
    assert "markup" not in plain
    assert "markup" not in bob.history(chat["id"])[-1]
    bad = alice.call("PATCH", path, json={"text": "short", "markup": [BOLD]}, expect=422)
    assert bad.json()["error"]["code"] == "invalid_markup"


def test_a_forward_keeps_the_markup_and_a_delete_drops_it(alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    sent = send(alice, chat["id"], TEXT, [BOLD])
    forwarded = alice.ok("POST", f"/chats/{chat['id']}/messages",
                         json={"client_id": new_client_id(), "forward_of": sent["id"]})
    assert (forwarded["text"], forwarded["markup"]) == (TEXT, [BOLD])
    alice.ok("DELETE", f"/chats/{chat['id']}/messages/{sent['id']}")
    assert "markup" not in bob.history(chat["id"])[-2]


@pytest.mark.parametrize(("markup", "says"), [
    ({"type": "strong"}, "must be a list"),
    ([{"type": "blink", "from": 0, "length": 1}], "type must be one of"),
    ([{"type": "strong", "from": 0, "length": 0}], "length one ≥ 1"),
    ([{"type": "strong", "from": "0", "length": 1}], "from must be an integer"),
    ([{"type": "strong", "from": 20, "length": 4}], "past the end of the text"),
    ([{"type": "strong", "from": 1, "length": 2}], "splits a character"),
    ([{"type": "strong", "from": 0, "length": 8}, {"type": "emphasized", "from": 5,
                                                   "length": 6}], "cross"),
    ([{"type": "strong", "from": 0, "length": 8}, {"type": "strong", "from": 3,
                                                   "length": 2}], "never holds another"),
    ([{"type": "monospaced", "from": 0, "length": 8}, {"type": "strong", "from": 3,
                                                       "length": 2}], "code is shown as typed"),
    ([{"type": "link", "from": 0, "length": 8, "url": "javascript:alert(1)"}], "http://"),
    ([{"type": "link", "from": 0, "length": 8, "url": "https://"}], "with a host"),
    ([{"type": "link", "from": 0, "length": 8, "url": "https://[::1"}], "does not parse"),
    ([{"type": "link", "from": 0, "length": 8}], "a link needs url"),
    ([{"type": "strong", "from": 0, "length": 8, "url": "https://x.org"}], "takes no url"),
    ([{"type": "user_mention", "from": 0, "length": 8, "user_id": True}], "needs user_id"),
    ([{"type": "heading", "from": 3, "length": 4}], "covers whole lines"),
    ([{"type": "link", "from": 0, "length": 8, "url": "https://a.org"},
      {"type": "user_mention", "from": 3, "length": 2, "user_id": 5}], "holds no other"),
    ([{"type": "strong", "from": 0, "length": 1}] * 101, "at most 100"),
])
def test_bad_markup_is_422_with_a_clear_message(alice: Api, bob: Api, markup: Any,
                                                says: str) -> None:
    chat = alice.direct(bob)
    error = send(alice, chat["id"], TEXT, markup, expect=422)["error"]
    assert error["code"] == "invalid_markup"
    assert says in error["message"]
    assert bob.history(chat["id"]) == []


def test_ranges_that_make_sense_are_kept() -> None:
    text = "# Title\ncode here\nbold *and* italic"
    markup = [{"type": "heading", "from": 0, "length": 7},
              {"type": "code_block", "from": 8, "length": 9},
              {"type": "strong", "from": 18, "length": 17},
              {"type": "emphasized", "from": 23, "length": 5},
              {"type": "link", "from": 23, "length": 5, "url": "http://a.org"},
              {"type": "user_mention", "from": 29, "length": 6, "user_id": 7}]
    assert check_markup(text, markup) == markup
    with pytest.raises(InvalidMarkup, match="covers whole lines"):
        check_markup(text, [{"type": "code_block", "from": 8, "length": 4}])


def test_markup_round_trips_over_the_socket(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    a = Socket(server.ws_url, alice.token or "", cursor=alice.sync()["cursor"])
    b = Socket(server.ws_url, bob.token or "", cursor=bob.sync()["cursor"])
    a.ready()
    b.ready()
    a.send_json({"type": "send", "id": 1, "chat_id": chat["id"], "client_id": new_client_id(),
                 "text": TEXT, "markup": [BOLD, ARABIC]})
    assert a.recv_until(lambda f: f["type"] == "ack")["message"]["markup"] == [ARABIC, BOLD]
    event = b.recv_until(lambda f: f["type"] == "message.new")
    assert event["message"]["markup"] == [ARABIC, BOLD]
    a.send_json({"type": "send", "id": 2, "chat_id": chat["id"], "client_id": new_client_id(),
                 "text": TEXT, "markup": [{"type": "strong", "from": 1, "length": 1}]})
    error = a.recv_until(lambda f: f["type"] == "error")
    assert (error["id"], error["error"]["code"]) == (2, "invalid_markup")
    a.close()
    b.close()


def test_a_user_mention_range_notifies_the_member_it_names(alice: Api, bob: Api,
                                                           carol: Api) -> None:
    group = alice.group("G", [bob])
    bob_cursor, carol_cursor = bob.sync()["cursor"], carol.sync()["cursor"]
    sent = send(alice, group["id"], "hi Bob, Carol and me", [
        {"type": "user_mention", "from": 3, "length": 3, "user_id": bob.id},
        {"type": "user_mention", "from": 8, "length": 5, "user_id": carol.id},
        {"type": "user_mention", "from": 18, "length": 2, "user_id": alice.id}])
    events, _ = bob.sync_all(bob_cursor)
    (mention,) = [e for e in events if e["type"] == "mention"]
    assert (mention["message_id"], mention["by"]) == (sent["id"], alice.id)
    assert carol.sync_all(carol_cursor)[0] == []  # not a member: not told
