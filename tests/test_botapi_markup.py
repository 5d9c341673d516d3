"""The Bot API's `format` (markdown, html) parsed into markup, markup in every message it
returns, and objects serialised as the real servers do: no `null` for what has no value."""

from __future__ import annotations

from typing import Any

import pytest

from darbuka.botapi.formats import parse_formatted
from tests.botapi_helpers import BotApi, make_bot
from tests.conftest import LiveServer
from tests.helpers import Api


def nulls(value: Any, path: str = "") -> list[str]:
    """Where `value` holds a null, by path."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls(v, f"{path}[{i}]")]
    return []


@pytest.mark.parametrize(("fmt", "source", "text", "markup"), [
    ("markdown", "**bold** and _it_ and *it2*", "bold and it and it2",
     [{"type": "strong", "from": 0, "length": 4}, {"type": "emphasized", "from": 9, "length": 2},
      {"type": "emphasized", "from": 16, "length": 3}]),
    ("markdown", "😀 __مرحبا__ ~~x~~ ++u++ `a*b*c`", "😀 مرحبا x u a*b*c",
     [{"type": "strong", "from": 3, "length": 5},
      {"type": "strikethrough", "from": 9, "length": 1},
      {"type": "underline", "from": 11, "length": 1},
      {"type": "monospaced", "from": 13, "length": 5}]),
    ("markdown", "[site](https://a.org/x_y) [Ann](max://user/42) snake_case 2 * 3 * 4 \\*no\\*",
     "site Ann snake_case 2 * 3 * 4 *no*",
     [{"type": "link", "from": 0, "length": 4, "url": "https://a.org/x_y"},
      {"type": "user_mention", "from": 5, "length": 3, "user_id": 42}]),
    ("markdown", "**unclosed and `code\nline`", "**unclosed and code line",
     [{"type": "monospaced", "from": 15, "length": 9}]),
    ("markdown", "**see `x`**", "see x",
     [{"type": "strong", "from": 0, "length": 5}, {"type": "monospaced", "from": 4, "length": 1}]),
    ("html", "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <code>&lt;img&gt;</code>",
     "bold it u s <img>",
     [{"type": "strong", "from": 0, "length": 4}, {"type": "emphasized", "from": 5, "length": 2},
      {"type": "underline", "from": 8, "length": 1},
      {"type": "strikethrough", "from": 10, "length": 1},
      {"type": "monospaced", "from": 12, "length": 5}]),
    ("html", '😀<a href="https://a.org">link</a><br><a href="max://user/7">Bo</a> a &amp; b',
     "😀link\nBo a & b",
     [{"type": "link", "from": 2, "length": 4, "url": "https://a.org"},
      {"type": "user_mention", "from": 7, "length": 2, "user_id": 7}]),
    ("html", "<b><strong>x</strong></b>", "x", [{"type": "strong", "from": 0, "length": 1}]),
    ("markdown", "**** ~~~~ __", "**** ~~~~ __", []),
    ("markdown", "[](https://a.org) [a [b\\]](https://b.org)", "[](https://a.org) [a b]",
     [{"type": "link", "from": 21, "length": 2, "url": "https://b.org"}]),
    ("html", "<b></b>a", "a", []),
])
def test_formats_parse_as_the_servers_document(fmt: str, source: str, text: str,
                                               markup: list[dict[str, Any]]) -> None:
    assert parse_formatted(source, fmt) == (text, markup)


@pytest.mark.parametrize(("fmt", "source", "says"), [
    ("html", '<img src=x onerror="alert(1)">', "<img> is not supported"),
    ("html", "<b><i>x</b></i>", "tags must nest"),
    ("html", "<b>x", "never closed"),
    ("html", '<a href="javascript:alert(1)">x</a>', "http:// or https://"),
    ("markdown", "[x](javascript:alert%281%29)", "http:// or https://"),
    ("rtf", "x", "markdown or html"),
])
def test_bad_formatted_text_is_refused(fmt: str, source: str, says: str) -> None:
    with pytest.raises(Exception, match=says) as caught:
        parse_formatted(source, fmt)
    assert getattr(caught.value, "code", None) == "proto.payload"


def test_markup_through_the_bot_api(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    chat = alice.group("G", [])
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    sent = bot.call("POST", "/messages", params={"chat_id": chat["id"],
                                                 "disable_link_preview": "true"},
                    json={"text": "**hi** <b>", "format": "markdown", "notify": False})
    message = sent["message"]
    assert message["body"]["text"] == "hi <b>"
    assert message["body"]["markup"] == [{"type": "strong", "from": 0, "length": 2}]
    assert nulls(message) == []
    assert "stat" not in message  # a library's message.get("stat", {}) gets its default
    stored = alice.history(chat["id"])[-1]
    assert stored["markup"] == [{"type": "strong", "from": 0, "length": 2}]
    mid = message["body"]["mid"]
    # An edit with text replaces the markup; one without text keeps both.
    bot.call("PUT", "/messages", params={"message_id": mid},
             json={"text": "<i>now</i>", "format": "html"})
    assert alice.history(chat["id"])[-1]["markup"] == [
        {"type": "emphasized", "from": 0, "length": 3}]
    bot.call("PUT", "/messages", params={"message_id": mid}, json={"attachments": []})
    got = bot.call("GET", f"/messages/{mid}")
    assert (got["body"]["text"], got["body"]["markup"]) == (
        "now", [{"type": "emphasized", "from": 0, "length": 3}])
    refused = bot.call("POST", "/messages", params={"chat_id": chat["id"]}, expect=400,
                       json={"text": "<img src=x onerror=alert(1)>", "format": "html"})
    assert refused["code"] == "proto.payload"
    assert bot.call("POST", "/messages", params={"chat_id": chat["id"]}, expect=400,
                    json={"text": "x", "notify": "no"})["code"] == "proto.payload"


def test_users_markup_reaches_the_bot(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    chat = alice.ok("POST", "/chats", json={"kind": "direct", "user_id": bot.id})
    first = bot.updates(timeout=5)
    alice.ok("POST", f"/chats/{chat['id']}/messages", json={
        "client_id": "c1", "text": "code\nplain",
        "markup": [{"type": "code_block", "from": 0, "length": 4}]})
    (update,) = bot.updates(first["marker"])["updates"]
    assert update["message"]["body"]["markup"] == [{"type": "monospaced", "from": 0,
                                                    "length": 4}]
    assert nulls(update) == []


def test_objects_leave_out_what_has_no_value(server: LiveServer, alice: Api,
                                             bob: Api) -> None:
    bot: BotApi = make_bot(server)
    chat = alice.group("G", [bob])
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bot.id]})
    alice.send(chat["id"], "hello")
    reply_to = alice.history(chat["id"])[-1]["id"]
    bot.call("POST", "/messages", params={"chat_id": chat["id"]},
             json={"text": "re", "link": {"type": "reply", "mid": str(reply_to)}})
    answers = [bot.call("GET", "/me"), bot.call("GET", "/chats")["chats"],
               bot.call("GET", f"/chats/{chat['id']}"),
               bot.call("GET", f"/chats/{chat['id']}/members")["members"],
               bot.call("GET", f"/chats/{chat['id']}/members/me"),
               bot.call("GET", "/messages", params={"chat_id": chat["id"]})["messages"]]
    assert [nulls(a) for a in answers] == [[]] * len(answers)
    (mine, _) = answers[-1]
    assert isinstance(mine["body"]["mid"], str)
    assert isinstance(mine["timestamp"], int)
    assert mine["link"]["message"]["mid"] == str(reply_to)


def test_a_public_chat_by_its_link(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    chat = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News"})
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": "darbuka_news"})
    for link in ("@darbuka_news", "darbuka_news"):
        found = bot.call("GET", f"/chats/{link}")
        assert (found["chat_id"], found["type"], found["link"]) == (
            chat["id"], "channel", "@darbuka_news")
        assert nulls(found) == []
    assert bot.call("GET", "/chats/@nobody_here", expect=404)["code"] == "not.found"
