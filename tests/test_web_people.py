"""The web client's people screens in a real browser: finding contacts by number (typed or
from a .vcf file), privacy settings, blocking, "X joined Darbuka", a person's profile with
their presence as their privacy allows; and pictures of those screens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from darbuka.safety.accounts import AccountChange
from tests.browser import ARTIFACTS, LOOKS, STORED, WEB_DIST, open_signed_in
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, wait_until

FIND = re.compile(r"^Find \(\d+\)$")


def _verify(server: LiveServer, api: Api, kind: str) -> None:
    """What an operator does with `darbuka admin verify --phone … --kind …`."""
    accounts = server.app.state.services.accounts
    server.run_async(accounts.do_change(AccountChange(kind=kind, verified=True),
                                        phone=api.user["phone"]))


def _bob(server: LiveServer, phone: str) -> Api:
    bob = server.sign_up("Bob", phone=phone)
    bob.ok("PATCH", "/me", json={"username": "bob_beats", "about": "Drums on Fridays"})
    _verify(server, bob, "blogger")
    return bob


def _open_contacts(page: Any) -> None:
    page.get_by_role("button", name="Profile", exact=True).click()
    page.get_by_role("button", name="Find contacts").click()
    page.get_by_label("Phone numbers").wait_for()


def _find(page: Any, numbers: str) -> None:
    page.get_by_label("Phone numbers").fill(numbers)
    page.get_by_role("button", name=FIND).click()


def _counts(page: Any) -> str:
    text: str = page.get_by_test_id("import-counts").inner_text()
    return " ".join(text.split())


def _bubbles(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "[data-testid=messages] [data-testid=message] .text", "els => els.map(e => e.textContent)")
    return texts


def test_find_contacts_privacy_and_who_joined(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900301")
    bob = _bob(web_server, "+447700900302")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)

        # B's number in national form, something that is no number, and B's number again.
        _open_contacts(a)
        _find(a, "07700 900302\nnot a number, +44 7700 900302")
        found = a.get_by_test_id("found")
        found.get_by_text("Bob", exact=True).wait_for()
        assert "@bob_beats" in found.inner_text()
        assert found.get_by_test_id("verified").count() == 1
        counts = _counts(a)
        assert "Found: 1" in counts
        assert "Not phone numbers: 1" in counts
        assert "Repeated: 1" in counts

        # Start a chat with B from the result: the conversation opens, named and verified.
        found.get_by_role("button", name="Message Bob").click()
        header = a.locator(".conversation .bar h2")
        header.get_by_text("Bob").wait_for()
        assert header.get_by_test_id("verified").is_visible()
        a.get_by_label("Message").fill("found you")
        a.keyboard.press("Enter")
        a.wait_for_selector(STORED)
        direct = [c for c in alice.ok("GET", "/chats")["chats"] if c["kind"] == "direct"]
        assert [m["text"] for m in alice.history(direct[0]["id"])] == ["found you"]
        assert a.get_by_test_id("chat-list").get_by_test_id("verified").count() == 1

        # B no longer lets anyone find them by number, in the privacy screen.
        b.get_by_role("button", name="Profile", exact=True).click()
        b.get_by_role("button", name="Privacy and blocked users").click()
        b.get_by_label("Who can find me by my number").select_option("nobody")
        b.get_by_role("status").filter(has_text="Saved").wait_for()
        assert bob.ok("GET", "/me/privacy")["find_by_phone"] == "nobody"

        _open_contacts(a)
        _find(a, "+447700900302")
        a.get_by_text("None of these numbers is on Darbuka yet").wait_for()
        assert "Found: 0" in _counts(a)

        # C is not on Darbuka yet; when C signs up, A hears it at once.
        _find(a, "+44 7700 900303, nope")
        wait_until(lambda: "Not phone numbers: 1" in _counts(a), message="the third answer")
        auth = web_server.app.state.services.auth
        web_server.run_async(auth.do_issue_token("+447700900303", name="Carol"))
        a.get_by_role("status").filter(has_text="Carol joined Darbuka").wait_for()
        joined = a.get_by_test_id("joined")
        joined.get_by_text("Carol", exact=True).wait_for()
        assert "+447700900303" in joined.inner_text()
    finally:
        a_ctx.close()
        b_ctx.close()


def test_block_from_chat_info_and_unblock(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900311")
    bob = _bob(web_server, "+447700900312")
    chat = alice.direct(bob)
    bob.send(chat["id"], "hi Alice")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        for page in (a, b):
            page.get_by_test_id("chat-list").get_by_role("button").first.click()
            wait_until(lambda p=page: _bubbles(p) == ["hi Alice"], message="the chat is open")

        a.get_by_role("button", name="Chat info").click()
        a.get_by_role("button", name="Block", exact=True).click()
        a.get_by_role("status").filter(has_text="Bob: blocked").wait_for()
        assert [u["user"]["id"] for u in alice.ok("GET", "/me/blocked")["blocked"]] == [bob.id]
        a.get_by_role("button", name="Back").click()
        bar = a.get_by_test_id("blocked-bar")
        bar.wait_for()
        assert "You blocked this person" in bar.inner_text()
        assert a.get_by_label("Message").count() == 0, "no composer in a blocked chat"

        # B is not told, but B's message does not go: B sees the server's answer.
        b.get_by_label("Message").fill("are you there?")
        b.keyboard.press("Enter")
        b.get_by_role("alert").filter(has_text="this user does not take messages from you") \
            .wait_for()
        assert [m["text"] for m in alice.history(chat["id"])] == ["hi Alice"]
        assert _bubbles(a) == ["hi Alice"]

        # Unblocked from the conversation itself: B's retry goes through.
        bar.get_by_role("button", name="Unblock").click()
        a.get_by_label("Message").wait_for()
        assert alice.ok("GET", "/me/blocked")["blocked"] == []
        b.get_by_role("button", name="Retry").click()
        wait_until(lambda: _bubbles(a) == ["hi Alice", "are you there?"], timeout=10,
                   message="A gets B's message after the unblock")
    finally:
        a_ctx.close()
        b_ctx.close()


_NOBODY = "Nobody has the username"


def test_new_chat_and_add_member_by_username(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900321")
    bob = web_server.sign_up("Bob", phone="+447700900322")
    bob.ok("PATCH", "/me", json={"username": "bob_name"})
    group = alice.group("Band", [])
    ctx = browser.new_context()
    try:
        a = open_signed_in(ctx, web_server, alice)
        a.get_by_role("button", name="New chat").click()
        field = a.get_by_label("@username or user id of the person")
        field.fill("@nobody_here")
        a.get_by_role("button", name="Create", exact=True).click()
        a.get_by_role("alert").filter(has_text=_NOBODY).filter(has_text="@nobody_here").wait_for()
        assert field.get_attribute("aria-invalid") == "true"
        assert [c["kind"] for c in alice.ok("GET", "/chats")["chats"]] == ["group"]

        field.fill("@Bob_Name")
        a.get_by_role("button", name="Create", exact=True).click()
        a.locator(".conversation .bar h2").get_by_text("Bob").wait_for()
        direct = [c for c in alice.ok("GET", "/chats")["chats"] if c["kind"] == "direct"]
        assert len(direct) == 1
        members = alice.ok("GET", f"/chats/{direct[0]['id']}/members")["members"]
        assert sorted(m["user_id"] for m in members) == sorted([alice.id, bob.id])

        # The group's add-member field takes a @username too.
        a.get_by_test_id("chat-list").get_by_text("Band", exact=True).click()
        a.get_by_role("button", name="Chat info").click()
        add = a.get_by_label("Add member by @username or user id")
        add.fill("@no_such_name")
        a.get_by_role("button", name="Add", exact=True).click()
        a.get_by_role("alert").filter(has_text=_NOBODY).filter(has_text="@no_such_name").wait_for()
        add.fill("bob_name")
        a.get_by_role("button", name="Add", exact=True).click()
        wait_until(lambda: len(alice.ok("GET", f"/chats/{group['id']}/members")["members"]) == 2,
                   message="Bob is added")

        # So does the members field of a new group: an unknown name stops the creation.
        a.get_by_role("button", name="New chat").click()
        a.get_by_label("Group", exact=True).check()
        a.get_by_label("Title").fill("Rehearsals")
        members_field = a.get_by_label("Members: @usernames or user ids (comma-separated)")
        members_field.fill("@bob_name, @no_such_name")
        a.get_by_role("button", name="Create", exact=True).click()
        a.get_by_role("alert").filter(has_text="@no_such_name").wait_for()
        assert "Rehearsals" not in [c.get("title") for c in alice.ok("GET", "/chats")["chats"]]
        members_field.fill("@bob_name")
        a.get_by_role("button", name="Create", exact=True).click()
        a.locator(".conversation .bar h2").get_by_text("Rehearsals").wait_for()
        made = [c for c in alice.ok("GET", "/chats")["chats"] if c.get("title") == "Rehearsals"]
        assert len(made) == 1
        people = alice.ok("GET", f"/chats/{made[0]['id']}/members")["members"]
        assert sorted(m["user_id"] for m in people) == sorted([alice.id, bob.id])
    finally:
        ctx.close()


def test_profile_shows_presence_as_their_privacy_allows(browser: Any,
                                                        web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900321")
    bob = _bob(web_server, "+447700900322")
    alice.direct(bob)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)  # B is online
        a.get_by_test_id("chat-list").get_by_role("button").first.click()
        a.locator(".conversation .bar h2").get_by_role("button").click()  # tap the name
        profile = a.get_by_test_id("user-profile")
        a.locator("[data-testid=presence][data-status=online]").wait_for()
        assert profile.get_by_test_id("presence").inner_text() == "online"
        text = profile.inner_text()
        for part in ("Bob", "@bob_beats", "Drums on Fridays", "Blogger", "Verified"):
            assert part in text, part

        b.get_by_role("button", name="Profile", exact=True).click()
        b.get_by_role("button", name="Privacy and blocked users").click()
        b.get_by_label("Who can see my last seen and online").select_option("nobody")
        b.get_by_role("status").filter(has_text="Saved").wait_for()

        a.get_by_role("button", name="Back").click()
        a.locator(".conversation .bar h2").get_by_role("button").click()
        a.locator("[data-testid=presence][data-status=hidden]").wait_for()
        assert profile.get_by_test_id("presence").inner_text() == "last seen hidden"

        # Block from the profile; the privacy screen lists B and unblocks.
        profile.get_by_role("button", name="Block", exact=True).click()
        profile.get_by_role("button", name="Unblock").wait_for()
        a.get_by_role("button", name="Back").click()
        a.get_by_test_id("blocked-bar").wait_for()
        a.get_by_role("button", name="Profile", exact=True).click()
        a.get_by_role("button", name="Privacy and blocked users").click()
        blocked = a.get_by_test_id("blocked")
        blocked.get_by_text("Bob", exact=True).wait_for()
        blocked.get_by_role("button", name="Unblock Bob").click()
        a.get_by_text("You have not blocked anyone.").wait_for()
        assert alice.ok("GET", "/me/blocked")["blocked"] == []
    finally:
        a_ctx.close()
        b_ctx.close()


@pytest.fixture
def quota_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Three new numbers a day: the quota against enumeration, small enough to reach."""
    srv = make_server(f"sqlite:///{tmp_path}/darbuka.db", tmp_path, web_dir=WEB_DIST,
                      contacts_new_per_day=3, contacts_max_total=100)
    yield srv
    srv.thread.stop()


VCARD = """BEGIN:VCARD\r
VERSION:3.0\r
FN:Bob\r
item1.TEL;TYPE=CELL:+44 7700\r
  900332\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Dina\r
TEL;VALUE=uri;TYPE="voice,home":tel:+44-7700-900333;ext=12\r
TEL:+447700900334\r
TEL;CELL:+447700900335\r
TEL:+447700900336\r
NOTE:TEL:+447700900399 is not a TEL line\r
END:VCARD\r
"""


def test_vcf_import_and_the_quota(browser: Any, quota_server: LiveServer) -> None:
    server = quota_server
    alice = server.sign_up("Alice", phone="+447700900331")
    bob = _bob(server, "+447700900332")
    ctx = browser.new_context()
    try:
        a = open_signed_in(ctx, server, alice)
        _open_contacts(a)
        a.get_by_label("Import a .vcf file").set_input_files(
            files=[{"name": "friends.vcf", "mimeType": "text/vcard", "buffer": VCARD.encode()}])
        a.get_by_text("5 numbers added from friends.vcf.").wait_for()
        assert a.get_by_label("Phone numbers").input_value().split("\n") == [
            "+44 7700 900332", "+44-7700-900333", "+447700900334", "+447700900335",
            "+447700900336"]
        a.get_by_role("button", name="Find (5)").click()
        a.get_by_test_id("found").get_by_text("Bob", exact=True).wait_for()
        assert "Not checked (limit): 2" in _counts(a)
        a.get_by_text("each account may check a limited number of new numbers").wait_for()

        # The quota is spent: a new number gets the 429, told plainly; known ones still work.
        _find(a, "+447700900337")
        alert = a.get_by_role("alert").filter(has_text="Try again in about 60 minutes")
        alert.wait_for()
        _find(a, "+447700900332")
        a.get_by_test_id("found").get_by_text("Bob", exact=True).wait_for()
        assert alert.count() == 0
        assert bob.id in [u["user"]["id"] for u in alice.ok(
            "POST", "/contacts/import", json={"phones": ["+447700900332"]})["users"]]
    finally:
        ctx.close()




def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_screenshots_of_the_people_screens(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice", phone="+447700900341")
    bob = _bob(web_server, "+447700900342")
    carol = web_server.sign_up("Carol", phone="+447700900343")
    alice.direct(bob)
    carol.send(alice.direct(carol)["id"], "Hello?")
    alice.ok("PUT", f"/me/blocked/{carol.id}")
    auth = web_server.app.state.services.auth
    names: list[str] = []
    for look, options in LOOKS.items():
        ctx = browser.new_context(**options)
        try:
            page = open_signed_in(ctx, web_server, alice)
            page.get_by_test_id("chat-list").get_by_test_id("verified").wait_for()
            # Someone whose number Alice has joins while she looks: a toast and an entry.
            dina = f"+4477009003{50 + len(names)}"
            names.append(dina)
            alice.ok("POST", "/contacts/import", json={"phones": [dina]})
            web_server.run_async(auth.do_issue_token(dina, name="Dina"))
            page.locator(".toast").wait_for()
            page.locator("nav .bar button.icon").first.click()  # the profile, in any language
            page.locator(".panel .links button").first.wait_for()
            if look == "light":
                page.locator(".toast").wait_for(state="detached")
                _shoot(page, "people-entry-light")  # where the people screens start
            page.locator(".panel .links button").first.click()
            page.get_by_role("textbox").first.fill(
                "+447700900342\n+447700900343\n+447700900342\n12")
            page.locator("form button[type=submit]").click()
            page.get_by_test_id("found").locator("li").nth(1).wait_for()
            page.get_by_test_id("joined").wait_for()
            _shoot(page, f"people-contacts-{look}")

            page.locator(".toast").wait_for(state="detached")  # out of the next pictures
            page.get_by_test_id("found").locator("button.who").first.click()
            page.locator("[data-testid=presence][data-status]").wait_for()
            _shoot(page, f"people-profile-{look}")

            page.locator(".panel .bar .back").click()
            page.locator(".panel .bar .back").click()
            page.locator(".panel .links button").nth(1).click()
            page.get_by_test_id("blocked").locator("li").wait_for()
            _shoot(page, f"people-privacy-{look}")

            page.get_by_test_id("chat-list").get_by_text("Carol").click()
            page.get_by_test_id("blocked-bar").wait_for()
            _shoot(page, f"people-blocked-chat-{look}")
        finally:
            ctx.close()

    ctx = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_role("button", name="New chat").click()
        page.get_by_role("button", name="Find people by phone number").wait_for()
        _shoot(page, "people-new-chat-phone")
        page.get_by_role("button", name="Find people by phone number").click()
        _find(page, "+447700900342, +447700900343, not a number")
        page.get_by_test_id("found").locator("li").nth(1).wait_for()
        assert page.evaluate("""() => [...document.querySelectorAll(".panel, .panel button")]
            .every(e => e.getBoundingClientRect().right <= innerWidth)""")
        _shoot(page, "people-contacts-phone")
    finally:
        ctx.close()
    shots = {p.name for p in ARTIFACTS.glob("people-*.png")}
    assert {f"people-{s}-{look}.png" for s in ("contacts", "profile", "privacy", "blocked-chat")
            for look in LOOKS} <= shots
