"""Handles, the public page, search, invite links, and verified brands' look-alikes."""

from __future__ import annotations

import re

import httpx
from typer.testing import CliRunner

from darbuka.cli import app as cli
from tests.conftest import LiveServer
from tests.helpers import Api

# "Darbuka" in full-width letters, then "News".
FULL_WIDTH = "\uff24\uff41\uff52\uff42\uff55\uff4b\uff41News"


def _channel(owner: Api, title: str = "News", **extra: object) -> dict[str, object]:
    chat: dict[str, object] = owner.ok("POST", "/chats", json={"kind": "channel",
                                                               "title": title, **extra})
    return chat


def test_handles_are_normalised_and_lookalikes_refused(alice: Api, bob: Api) -> None:
    chat = _channel(alice)
    # Full-width letters are folded to ASCII by NFKC; the key is case-insensitive.
    named = alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": FULL_WIDTH})
    assert named["handle"] == "DarbukaNews"  # the display form keeps its capitals
    assert named["public"] is True
    # Cyrillic a (U+0430) looks like Latin a: refused, not guessed.
    refused = alice.call("PATCH", f"/chats/{chat['id']}", json={"handle": "d\u0430rbuka"},
                         expect=400)
    assert refused.json()["error"]["code"] == "invalid_handle"
    for bad in ("abc", "_news", "a" * 33, "news feed", "news!", "ne\u200bws"):
        alice.call("PATCH", f"/chats/{chat['id']}", json={"handle": bad}, expect=400)
    # One namespace with usernames, either way round, whatever the case.
    taken = bob.call("PATCH", "/me", json={"username": "DarbukaNews"}, expect=409)
    assert taken.json()["error"]["code"] == "handle_taken"
    bob.ok("PATCH", "/me", json={"username": "bob_the_user"})
    other = _channel(bob, "Bob's")
    bob.call("PATCH", f"/chats/{other['id']}", json={"handle": "BOB_THE_USER"}, expect=409)
    # Dropping the handle makes the chat private and frees the name.
    assert alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": None})["public"] is False
    bob.ok("PATCH", f"/chats/{other['id']}", json={"handle": "darbukanews"})


def test_handles_like_a_verified_brands_need_verification(server: LiveServer) -> None:
    brand = server.sign_up("Acme")
    squatter = server.sign_up("Squatter")
    brand.ok("PATCH", "/me", json={"username": "acme_shop"})
    squatter.ok("PATCH", "/me", json={"username": "acmesh0p"})  # not verified yet: fine
    squatter.ok("PATCH", "/me", json={"username": "squatter"})
    env = {"DARBUKA_DATABASE_URL": server.settings.database_url}
    result = CliRunner().invoke(cli, ["admin", "verify", "--username", "@Acme_Shop", "--kind",
                                      "brand", "--data-dir", str(server.settings.data_dir)],
                                env=env)
    assert result.exit_code == 0, result.output
    assert "verified=true" in result.output
    profile = squatter.ok("GET", f"/users/{brand.id}")
    assert (profile["kind"], profile["verified"]) == ("brand", True)
    for lookalike in ("acmesh0p", "acme_sh0p", "acmeshop", "ACME__SHOP"):
        refused = squatter.call("PATCH", "/me", json={"username": lookalike}, expect=409)
        assert refused.json()["error"]["code"] == "handle_reserved", lookalike
    channel = _channel(squatter)
    squatter.call("PATCH", f"/chats/{channel['id']}", json={"handle": "acme_sh0p"},
                  expect=409)
    # The brand itself may name its channel alike.
    own = _channel(brand, "Acme deals")
    brand.ok("PATCH", f"/chats/{own['id']}", json={"handle": "acmeshop"})
    missing = CliRunner().invoke(cli, ["admin", "verify", "--phone", "+15555550100",
                                       "--data-dir", str(server.settings.data_dir)], env=env)
    assert missing.exit_code == 2


def test_the_public_page_is_small_escaped_and_cacheable(server: LiveServer,
                                                        alice: Api) -> None:
    chat = _channel(alice, "<b>Shop</b> & co", description='"quotes" <script>x</script>')
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": "shop_window"})
    for n in range(60):
        alice.send(chat["id"], f"post {n} <img src=x onerror=alert(1)> " + "word " * 40)
    # No account: the page is for anyone.
    page = httpx.get(f"{server.url}/c/Shop_Window")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    body = page.text
    assert len(page.content) <= 30_000
    assert "<script>" not in body
    assert "<img" not in body
    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; co" in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "post 59" in body  # the newest first
    assert "post 9 " not in body  # only the last 50
    assert '<a href="/#/c/shop_window">Open in Darbuka</a>' in body  # to the app
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in page.headers["cache-control"]
    again = httpx.get(f"{server.url}/c/shop_window",
                      headers={"if-none-match": page.headers["etag"]})
    assert again.status_code == 304
    assert httpx.get(f"{server.url}/c/nobody_here").status_code == 404
    # The JSON form for clients, also without sign-in; posts are the channel's, not the admin's.
    data = httpx.get(f"{server.url}/api/v1/public/chats/shop_window").json()
    assert data["chat"]["handle"] == "shop_window"
    assert len(data["posts"]) == 50
    assert {p["sender_id"] for p in data["posts"]} == {None}
    # A private group with a handle removed is gone from the page.
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": None})
    assert httpx.get(f"{server.url}/c/shop_window").status_code == 404


def test_search_finds_public_chats_by_name_and_handle(alice: Api, bob: Api) -> None:
    cooking = _channel(alice, "Cooking with Alice")
    alice.ok("PATCH", f"/chats/{cooking['id']}", json={"handle": "chef_alice"})
    group = alice.group("Cooks' corner", [], public=True)
    alice.group("Secret cooks", [])  # private: never found
    by_name = bob.ok("GET", "/public/search", params={"q": "cook"})["chats"]
    assert {c["id"] for c in by_name} == {cooking["id"], group["id"]}
    assert "owner_id" not in by_name[0]
    by_handle = bob.ok("GET", "/public/search", params={"q": "@Chef_"})["chats"]
    assert [c["id"] for c in by_handle] == [cooking["id"]]
    assert bob.ok("GET", "/public/search", params={"q": "100%_"})["chats"] == []
    bob.call("GET", "/public/search", params={"q": ""}, expect=422)


def test_invite_links(server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    group = alice.group("Private", [])
    link = alice.ok("POST", f"/chats/{group['id']}/invites", json={"max_uses": 1,
                                                                   "expires_in_s": 3600})
    token = link["token"]
    assert re.fullmatch(r"inv_[A-Za-z0-9_-]{22}", token)
    assert bob.ok("GET", f"/invites/{token}")["chat"]["title"] == "Private"
    joined = bob.ok("POST", f"/invites/{token}/join")
    assert (joined["id"], joined["role"]) == (group["id"], "member")
    # Used up; and a fresh link expires; and a revoked one stops.
    carol.call("POST", f"/invites/{token}/join", expect=404)
    timed = alice.ok("POST", f"/chats/{group['id']}/invites", json={"expires_in_s": 60})
    server.clock.advance(61)
    carol.call("GET", f"/invites/{timed['token']}", expect=404)
    open_link = alice.ok("POST", f"/chats/{group['id']}/invites", json={})
    alice.call("DELETE", f"/chats/{group['id']}/invites/{open_link['id']}", expect=204)
    carol.call("POST", f"/invites/{open_link['token']}/join", expect=404)
    listed = alice.ok("GET", f"/chats/{group['id']}/invites")["invites"]
    assert [(i["uses"], i["revoked"]) for i in listed] == [(1, False), (0, False), (0, True)]
    assert all("token" not in i for i in listed)
    # Members who are not admins cannot make or see links.
    bob.call("POST", f"/chats/{group['id']}/invites", json={}, expect=403)
    bob.call("GET", f"/chats/{group['id']}/invites", expect=403)


def test_probing_invite_links_tells_nothing(server: LiveServer, alice: Api,
                                            carol: Api) -> None:
    group = alice.group("Private", [])
    revoked = alice.ok("POST", f"/chats/{group['id']}/invites", json={})
    alice.ok("DELETE", f"/chats/{group['id']}/invites/{revoked['id']}")
    answers = set()
    # (A NUL in any address is refused at the door for every route alike: see
    # tests/security/test_inputs.py.)
    for token in (revoked["token"], "inv_" + "A" * 22, "inv_x", "nothing", "%ff", "x" * 64):
        for method, path in (("GET", f"/invites/{token}"), ("POST", f"/invites/{token}/join")):
            response = carol.call(method, path)
            answers.add((response.status_code, response.text))
    assert answers == {(404, '{"error":{"code":"invite_not_found",'
                             '"message":"no such invite link"}}')}
    # Guessing at scale runs into the rate limit (60 an hour by default).
    statuses = {carol.call("GET", f"/invites/inv_{n:022d}").status_code for n in range(60)}
    assert statuses == {404, 429}
    carol.call("GET", f"/chats/{group['id']}", expect=404)


def test_a_handle_at_creation_makes_the_public_page_at_once(server: LiveServer, alice: Api,
                                                            bob: Api) -> None:
    chat = _channel(alice, "Tour", handle="@Tour_Dates")
    assert chat["handle"] == "Tour_Dates"
    assert chat["public"] is True
    assert httpx.get(f"{server.url}/c/tour_dates").status_code == 200
    found = bob.ok("GET", "/public/search", params={"q": "tour_dates"})
    assert [c["id"] for c in found["chats"]] == [chat["id"]]
    # A taken or malformed handle creates nothing.
    before = len(alice.ok("GET", "/chats")["chats"])
    taken = alice.call("POST", "/chats", json={"kind": "group", "title": "Copy",
                                               "handle": "tour_dates"}, expect=409)
    assert taken.json()["error"]["code"] == "handle_taken"
    alice.call("POST", "/chats", json={"kind": "group", "title": "Bad", "handle": "ab"},
               expect=400)
    assert len(alice.ok("GET", "/chats")["chats"]) == before
    # No handle: as before, private unless asked.
    assert "handle" not in _channel(alice, "Plain")


def test_links_on_the_public_page_are_links_and_nothing_else_is(server: LiveServer,
                                                                alice: Api) -> None:
    chat = _channel(alice, "Maps", handle="map_room")
    alice.send(chat["id"], "see https://example.org/map?a=1&b=2. and javascript:alert(1) "
                           'or https://x.test/"onmouseover=alert(1) <a href="https://evil">')
    body = httpx.get(f"{server.url}/c/map_room").text
    assert ('<a href="https://example.org/map?a=1&amp;b=2" rel="nofollow noopener ugc">'
            "https://example.org/map?a=1&amp;b=2</a>.") in body
    assert '<a href="https://x.test/" rel="nofollow noopener ugc">' in body
    assert "&quot;onmouseover=alert(1)" in body
    assert 'href="javascript' not in body
    assert "&lt;a href=&quot;" in body  # the markup someone typed is text
    # Three links in the post (https://evil too, as text that is a link), and the footer's.
    assert body.count("<a ") == 4
