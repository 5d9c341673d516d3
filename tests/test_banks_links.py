"""URL banks: links in a message's text, caption and bot buttons checked at send time, in
their normal form, with the bank's action — refused, or held until a moderator decides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from darbuka.cli import app as cli
from darbuka.safety.links import normalise_domain, normalise_url
from darbuka.services.links import links_in, links_of
from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.media_helpers import jpeg, upload_ready
from tests.safety_helpers import staff

LISTED = "https://Propaganda.example/News/Item/?id=7&utm_source=feed"
VARIANTS = [
    "HTTPS://PROPAGANDA.EXAMPLE/News/Item?id=7",
    "https://propaganda.example:443/News/Item/?id=7#comments",
    "http://propaganda.example:80/News/Item//?utm_medium=x&id=7&fbclid=abc",
    "https://user@propaganda.example/News/Item?id=7&gclid=1",
    "http://propaganda.example/News/Item?id=7",
]
UNLISTED = [
    "https://propaganda.example/news/item?id=7",  # paths are case-sensitive
    "https://propaganda.example/News/Item?id=8",
    "https://propaganda.example:8443/News/Item?id=7",
    "https://propaganda.example.org/News/Item?id=7",
]


def test_normal_forms() -> None:
    assert {normalise_url(v) for v in [LISTED, *VARIANTS]} == {
        "https://propaganda.example/News/Item?id=7"}
    assert not {normalise_url(u) for u in UNLISTED} & {normalise_url(LISTED)}
    assert normalise_url("https://BÜCHER.example/%7ea") == "https://xn--bcher-kva.example/%7Ea"
    assert normalise_domain("WWW.Terror.Example.") == "www.terror.example"
    for bad in ("ftp://x.example/", "https://", "not a url", "https://exa mple.com/"):
        with pytest.raises(ValueError, match="not"):
            normalise_url(bad)


def test_links_are_found_as_the_web_client_links_them() -> None:
    text = "see (https://a.example/x), http://b.example/y. and www.c.example or <https://d.example>"
    assert links_in(text) == ["https://a.example/x", "http://b.example/y",
                              "https://d.example"]
    keyboard = '[[{"type": "link", "text": "go", "url": "https://e.example/"}]]'
    assert links_of("", keyboard) == ["https://e.example/"]


def bank(operator: Api, name: str, rows: str, **rules: Any) -> dict[str, Any]:
    operator.ok("POST", "/safety/banks", json={"name": name, **rules})
    return dict(operator.ok("POST", f"/safety/banks/{name}/import?format=csv",
                            content=f"signal_type,hash\n{rows}".encode()))


def send(api: Api, chat_id: int, text: str, **extra: Any) -> Any:
    return api.call("POST", f"/chats/{chat_id}/messages",
                    json={"client_id": new_client_id(), "text": text, **extra})


def code_of(response: Any) -> tuple[int, str | None]:
    body = response.json()
    return response.status_code, body.get("error", {}).get("code")


def test_a_refusing_url_bank_catches_every_variant_and_nothing_else(
        server: LiveServer, alice: Api, bob: Api) -> None:
    operator = staff(server, "Op", role="operator")
    report = bank(operator, "bad-links", f'url,"{LISTED}"\ndomain,Terror.Example\n',
                  action="refuse")
    assert report["added"] == 2
    assert operator.ok("GET", "/safety/banks/bad-links")["hashes"]["url"] == 1
    bank(operator, "known-good", "url,https://terror.example/about\n", negative=True)
    chat = alice.group("g", [bob])

    for variant in VARIANTS:
        refused = send(alice, chat["id"], f"read this: {variant} !")
        assert code_of(refused) == (422, "link_refused"), variant
        assert "propaganda.example" in refused.json()["error"]["message"]
        assert "bad-links" not in refused.text
    for link in ["https://www.terror.example/join", "http://TERROR.example"]:
        assert code_of(send(alice, chat["id"], link)) == (422, "link_refused"), link
    for link in [*UNLISTED, "https://terror.example.org/", "https://notterror.example/",
                 "https://terror.example/about/"]:  # the negative bank lets this one pass
        assert send(alice, chat["id"], f"ok {link}").status_code == 201, link
    # Written without a scheme it is not a link, here as in the web client.
    assert send(alice, chat["id"], "propaganda.example/News/Item?id=7").status_code == 201

    photo = upload_ready(alice, jpeg(), kind="photo", filename="p.jpg")["id"]
    assert code_of(send(alice, chat["id"], VARIANTS[0], media_id=photo)) == (
        422, "link_refused")
    mine = alice.send(chat["id"], "a harmless text")
    edited = alice.call("PATCH", f"/chats/{chat['id']}/messages/{mine['id']}",
                        json={"text": f"now {VARIANTS[1]}"})
    assert code_of(edited) == (422, "link_refused")
    texts = [m["text"] for m in bob.history(chat["id"])]
    assert not [t for t in texts if "read this" in t or "now " in t]
    assert "a harmless text" in texts

    # A bot's link button counts like a link in the text.
    bot = make_bot(server)
    direct = alice.ok("POST", "/chats", json={"kind": "direct", "user_id": bot.id})
    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [[
        {"type": "link", "text": "Join", "url": "https://terror.example/join"}]]}}
    bot.call("POST", "/messages", params={"chat_id": direct["id"]},
             json={"text": "Pick", "attachments": [keyboard]}, expect=422)
    outcomes = {m["query_hash"] for m in operator.ok("GET", "/safety/matches")["matches"]}
    assert "https://propaganda.example/News/Item?id=7" in outcomes


def test_a_review_url_bank_holds_the_message_until_a_moderator_decides(
        server: LiveServer, alice: Api, bob: Api) -> None:
    operator = staff(server, "Op", role="operator")
    bank(operator, "check-links", "domain,news.example\n", action="review")
    chat = alice.group("g", [bob])
    client_id = new_client_id()
    body = {"client_id": client_id, "text": "look https://news.example/story"}
    held = bob.call("POST", f"/chats/{chat['id']}/messages", json=body)
    assert code_of(held) == (409, "message_held")
    again = bob.call("POST", f"/chats/{chat['id']}/messages", json=body)
    assert code_of(again) == (409, "message_held")
    assert not [m for m in alice.history(chat["id"]) if "news.example" in m["text"]]
    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]  # one, however often it is sent
    assert (item["source"], item["target_type"], item["chat_id"]) == (
        "hash_match", "send", chat["id"])
    assert item["context"]["send"]["text"] == body["text"]
    assert item["context"]["sender"]["id"] == bob.id
    assert alice.call("POST", f"/moderation/items/{item['id']}/decision",
                      json={"action": "dismiss"}).status_code == 404
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "dismiss"})
    (delivered,) = [m for m in alice.history(chat["id"]) if "news.example" in m["text"]]
    assert delivered["sender_id"] == bob.id
    # Sent once: a late repeat of the same send answers the delivered message.
    repeat = bob.call("POST", f"/chats/{chat['id']}/messages", json=body)
    assert (repeat.status_code, repeat.json()["id"]) == (200, delivered["id"])
    assert len([m for m in alice.history(chat["id"]) if "news.example" in m["text"]]) == 1

    second = send(bob, chat["id"], "and https://news.example/other")
    assert code_of(second) == (409, "message_held")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision",
           json={"action": "remove_message", "reason": "terrorism"})
    assert not [m for m in alice.history(chat["id"]) if "news.example/other" in m["text"]]
    (statement,) = bob.ok("GET", "/statements")["statements"]
    assert statement["decision"] == "remove_message"
    # An edit has no held state: it is refused.
    mine = bob.send(chat["id"], "plain")
    edited = bob.call("PATCH", f"/chats/{chat['id']}/messages/{mine['id']}",
                      json={"text": "https://news.example/x"})
    assert code_of(edited) == (422, "link_refused")


def test_url_lists_import_and_export_in_normal_form(server: LiveServer, tmp_path: Path) -> None:
    operator = staff(server, "Op", role="operator")
    operator.ok("POST", "/safety/banks", json={"name": "links"})
    doc = {"hashes": [{"signal_type": "url", "hash": LISTED, "labels": {"case": "1"}},
                      {"signal_type": "domain", "hash": "Terror.Example"}]}
    assert operator.ok("POST", "/safety/banks/links/import?format=json", json=doc)[
        "added"] == 2
    bad = operator.call("POST", "/safety/banks/links/import?format=csv",
                        content=b"signal_type,hash\nurl,ftp://x.example/\ndomain,a b\n")
    assert code_of(bad) == (422, "invalid_hash_list")
    assert [p["where"] for p in bad.json()["error"]["problems"]] == ["line 2", "line 3"]
    exported = operator.call("GET", "/safety/banks/links/export", expect=200).text
    assert exported.splitlines() == ["signal_type,hash,case",
                                     "url,https://propaganda.example/News/Item?id=7,1",
                                     "domain,terror.example,"]

    # The admin CLI imports the same file shapes into a data directory.
    data = tmp_path / "cli"
    listed = tmp_path / "links.csv"
    listed.write_text(f'signal_type,hash\nurl,"{LISTED}"\nuri,{VARIANTS[0]}\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["admin", "safety", "import-bank", str(listed), "--bank",
                                 "links", "--create", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "1 added, 0 already present, 2 rows read" in result.stdout
