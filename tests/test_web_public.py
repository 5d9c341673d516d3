"""Public channels and groups in the web client: @handles set in chat info, search and
preview without joining, the /c/ page's link into the app, invite links, admin rights and
pins, signed posts — and pictures of these screens (light, dark, Arabic)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from typer.testing import CliRunner

from darbuka.cli import app as cli
from tests.browser import ARTIFACTS, LOOKS, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until


def _bubbles(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "[data-testid=messages] [data-testid=message] .text", "els => els.map(e => e.textContent)")
    return texts


def _open_chat(page: Any, title: str) -> None:
    page.get_by_test_id("chat-list").get_by_text(title, exact=True).click()
    page.locator(".conversation h2").filter(has_text=title).wait_for()


def _open_info(page: Any, title: str) -> None:
    _open_chat(page, title)
    page.get_by_role("button", name="Chat info").click()
    page.locator("#info-h").filter(has_text=title).wait_for()


def _set_handle(page: Any, handle: str) -> None:
    page.get_by_label("Public name (@handle)").fill(handle)
    page.get_by_role("button", name="Make public").click()


def _channel(owner: Api, title: str, **extra: Any) -> dict[str, Any]:
    chat: dict[str, Any] = owner.ok("POST", "/chats", json={"kind": "channel", "title": title,
                                                            **extra})
    return chat


def test_a_channel_made_public_is_found_previewed_and_followed(browser: Any,
                                                               web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = _channel(alice, "Cooking news", description="Recipes every day")
    alice.send(chat["id"], "Soup on Monday")
    alice.send(chat["id"], "Bread on Tuesday")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open_info(a, "Cooking news")
        _set_handle(a, "Cooking_News")
        link = a.get_by_test_id("publicLink")
        link.wait_for()
        assert link.input_value() == f"{web_server.url}/c/Cooking_News"
        assert a.get_by_test_id("appLink").input_value() == f"{web_server.url}/#/c/Cooking_News"
        assert alice.ok("GET", f"/chats/{chat['id']}")["handle"] == "Cooking_News"

        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_label("Search chats").fill("cooking")
        found = b.get_by_test_id("public-results")
        found.get_by_text("Cooking news").click()
        preview = b.get_by_test_id("public-preview")
        preview.get_by_text("Recipes every day").wait_for()
        assert preview.get_by_test_id("member-count").inner_text() == "1"
        assert "@Cooking_News" in preview.get_by_test_id("public-card").inner_text()
        wait_until(lambda: preview.get_by_test_id("public-post").count() == 2,
                   message="the channel's posts, seen from outside")
        assert "Bread on Tuesday" in preview.get_by_test_id("public-post").first.inner_text()
        # Previewing is not joining.
        assert bob.ok("GET", "/chats")["chats"] == []
        assert b.get_by_test_id("chat-list").get_by_role("button").count() == 0

        preview.get_by_role("button", name="Subscribe").click()
        b.locator(".conversation h2").filter(has_text="Cooking news").wait_for()
        wait_until(lambda: _bubbles(b) == ["Soup on Monday", "Bread on Tuesday"],
                   message="the history after subscribing")
        assert "2 subscribers" in b.locator(".conversation .bar small").inner_text()
        # The next post arrives live.
        a.get_by_role("button", name="Back").first.click()
        a.get_by_label("Message").fill("Cake on Wednesday")
        a.keyboard.press("Enter")
        wait_until(lambda: _bubbles(b)[-1:] == ["Cake on Wednesday"], timeout=10,
                   message="the subscriber gets the new post live")
    finally:
        a_ctx.close()
        b_ctx.close()


def test_the_public_pages_link_opens_the_chat_in_the_app(browser: Any,
                                                         web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = _channel(alice, "Garden tips")
    alice.ok("PATCH", f"/chats/{chat['id']}", json={"handle": "garden_tips"})
    alice.send(chat["id"], "Water in the morning")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, bob)
        page.goto(f"{web_server.url}/c/garden_tips")
        page.get_by_role("link", name="Open in Darbuka").click()
        preview = page.get_by_test_id("public-preview")
        preview.get_by_test_id("public-post").filter(has_text="Water in the morning").wait_for()
        assert page.evaluate("location.hash") == ""  # the link did its work
        preview.get_by_role("button", name="Subscribe").click()
        wait_until(lambda: _bubbles(page) == ["Water in the morning"],
                   message="the chat opened from the public page")
        assert [c["id"] for c in bob.ok("GET", "/chats")["chats"]] == [chat["id"]]
    finally:
        ctx.close()


def test_taken_reserved_and_malformed_handles_show_the_servers_error(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    bob.ok("PATCH", "/me", json={"username": "taken_name"})
    brand = web_server.sign_up("Acme")
    brand.ok("PATCH", "/me", json={"username": "acme_shop"})
    settings = web_server.settings
    args = ["admin", "verify", "--username", "acme_shop", "--kind", "brand", "--data-dir",
            str(settings.data_dir)]
    # In a thread of its own: the browser's driver holds this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        verified = pool.submit(CliRunner().invoke, cli, args,
                               env={"DARBUKA_DATABASE_URL": settings.database_url}).result()
    assert verified.exit_code == 0, verified.output
    _channel(alice, "Deals")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        _open_info(page, "Deals")
        error = page.get_by_test_id("handle-error")
        for handle, says in (("TAKEN_NAME", "That name is taken."),
                             ("acmesh0p", "only a verified account may take it"),
                             ("d\u0430als", "letters of other scripts are refused")):
            _set_handle(page, handle)
            wait_until(lambda s=says: error.count() and s in error.inner_text(),
                       message=f"the error for {handle!r}")
        assert page.get_by_label("Public name (@handle)").get_attribute("aria-invalid") == "true"
        assert page.get_by_test_id("publicLink").count() == 0
        _set_handle(page, "alices_deals")
        page.get_by_test_id("publicLink").wait_for()
        assert error.count() == 0
    finally:
        ctx.close()


def test_invite_links_join_once_and_stop_when_revoked(browser: Any,
                                                      web_server: LiveServer) -> None:
    alice, bob, carol = (web_server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    group = alice.group("Private club", [])
    contexts = [browser.new_context() for _ in range(3)]
    try:
        a, b, c = (open_signed_in(ctx, web_server, api)
                   for ctx, api in zip(contexts, (alice, bob, carol), strict=True))
        _open_info(a, "Private club")
        a.get_by_label("Number of uses (empty: no limit)").fill("1")
        a.get_by_role("button", name="Create link").click()
        link = a.get_by_test_id("new-invite").input_value()
        assert link.startswith(f"{web_server.url}/#/join/inv_")
        a.get_by_test_id("invites").get_by_text("0/1 uses").wait_for()

        b.goto(link)
        invite = b.get_by_test_id("invite")
        invite.get_by_text("Private club").wait_for()
        invite.get_by_role("button", name="Join").click()
        b.locator(".conversation h2").filter(has_text="Private club").wait_for()
        assert bob.ok("GET", f"/chats/{group['id']}")["role"] == "member"

        c.goto(link)  # used up
        c.get_by_test_id("invite").get_by_role("alert").filter(
            has_text="This link is no longer valid").wait_for()
        assert carol.ok("GET", "/chats")["chats"] == []

        # A link without a limit, revoked: refused too.
        a.get_by_role("button", name="Create link").click()
        wait_until(lambda: a.get_by_test_id("new-invite").input_value() != link,
                   message="a second link")
        second = a.get_by_test_id("new-invite").input_value()
        newest = alice.ok("GET", f"/chats/{group['id']}/invites")["invites"]
        revoke = max(i["id"] for i in newest)
        a.get_by_role("button", name=f"Revoke #{revoke}").click()
        a.get_by_test_id("invites").get_by_text("revoked").wait_for()
        c.goto(second)
        c.get_by_test_id("invite").get_by_role("alert").filter(
            has_text="This link is no longer valid").wait_for()
        assert carol.ok("GET", "/chats")["chats"] == []
    finally:
        for ctx in contexts:
            ctx.close()


def test_pinning_follows_the_admins_rights(browser: Any, web_server: LiveServer) -> None:
    alice, bob, carol = (web_server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    chat = _channel(alice, "Town news")
    cid = chat["id"]
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [bob.id, carol.id]})
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    post = alice.send(cid, "Road closed on Sunday")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open_info(a, "Town news")
        rights = a.get_by_test_id(f"rights-{bob.id}")
        pin_box = rights.get_by_label("Pin messages")
        assert pin_box.is_checked()  # an admin without a rights row holds all but add_admins
        assert not rights.get_by_label("Add admins").is_checked()
        pin_box.uncheck()
        rights.get_by_role("button", name="Apply rights").click()
        wait_until(lambda: "pin" not in _rights_of(alice, cid, bob.id),
                   message="the rights saved")

        b = open_signed_in(b_ctx, web_server, bob)
        _open_chat(b, "Town news")
        message = b.get_by_test_id("message").filter(has_text="Road closed on Sunday")
        message.hover()
        message.get_by_role("button", name="Forward").wait_for()
        assert message.get_by_role("button", name="Pin").count() == 0
        refused = bob.call("PUT", f"/chats/{cid}/pin", json={"message_id": post["id"]},
                           expect=403)
        assert refused.json()["error"]["code"] == "missing_right"

        # Granted while Bob looks: the button comes with the live event.
        pin_box.check()
        rights.get_by_role("button", name="Apply rights").click()
        message.hover()
        message.get_by_role("button", name="Pin").click()
        banner = b.get_by_test_id("pinned")
        banner.filter(has_text="Road closed on Sunday").wait_for()
        assert carol.ok("GET", f"/chats/{cid}")["pinned_message_id"] == post["id"]
        banner.get_by_role("button", name="Unpin").click()
        banner.wait_for(state="detached")
        assert "pinned_message_id" not in carol.ok("GET", f"/chats/{cid}")
    finally:
        a_ctx.close()
        b_ctx.close()


def _rights_of(owner: Api, chat_id: int, user_id: int) -> list[str]:
    members = owner.ok("GET", f"/chats/{chat_id}/members")["members"]
    rights: list[str] = next(m["rights"] for m in members if m["user_id"] == user_id)
    return rights


def test_signed_posts_show_the_admins_name(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = _channel(alice, "Daily notes")
    alice.ok("POST", f"/chats/{chat['id']}/members", json={"user_ids": [bob.id]})
    alice.send(chat["id"], "unsigned note")
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open_info(a, "Daily notes")
        a.get_by_label("Sign posts (show the admin's name)").check()
        wait_until(lambda: alice.ok("GET", f"/chats/{chat['id']}").get("sign_posts"),
                   message="the setting saved")
        alice.send(chat["id"], "signed note")
        b = open_signed_in(b_ctx, web_server, bob)
        _open_chat(b, "Daily notes")
        wait_until(lambda: _bubbles(b) == ["unsigned note", "signed note"], message="both posts")
        signed = b.get_by_test_id("message").filter(has_text="signed note").last
        wait_until(lambda: signed.locator(".sender").inner_text() == "Alice",
                   message="the author's name on a signed post")
        # Turned off: the channel speaks as itself again.
        a.get_by_label("Sign posts (show the admin's name)").uncheck()
        b.locator("[data-testid=message] .sender").first.wait_for(state="detached")
    finally:
        a_ctx.close()
        b_ctx.close()


TALL = {"viewport": {"width": 1000, "height": 1000}, "device_scale_factor": 1}


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _public_world(server: LiveServer) -> tuple[Api, Api, str, str]:
    """A public channel with an admin, a pinned signed post and an invite link to a group."""
    alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob Marley", "Carol"))
    chat = _channel(alice, "Darbuka weekly", description="Rhythms, gigs and news. مرحبا!")
    cid = chat["id"]
    alice.ok("PATCH", f"/chats/{cid}", json={"handle": "darbuka_weekly", "sign_posts": True})
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [bob.id, carol.id]})
    alice.call("PATCH", f"/chats/{cid}/members/{bob.id}", json={"role": "admin"}, expect=204)
    alice.ok("PUT", f"/chats/{cid}/members/{bob.id}/rights", json={"rights": ["write", "pin"]})
    first = alice.send(cid, "Gig on Friday at 20:00, doors at 19:30")
    bob.send(cid, "New rhythm lesson: the maqsum, step by step")
    alice.send(cid, "سنعزف يوم الجمعة")
    alice.ok("PUT", f"/chats/{cid}/pin", json={"message_id": first["id"]})
    alice.ok("POST", f"/chats/{cid}/invites", json={"max_uses": 5, "expires_in_s": 86400})
    old = alice.ok("POST", f"/chats/{cid}/invites", json={})
    alice.call("DELETE", f"/chats/{cid}/invites/{old['id']}", expect=204)
    group = alice.group("Band room", [bob])
    token = alice.ok("POST", f"/chats/{group['id']}/invites", json={})["token"]
    revoked = alice.ok("POST", f"/chats/{group['id']}/invites", json={})
    alice.call("DELETE", f"/chats/{group['id']}/invites/{revoked['id']}", expect=204)
    return alice, server.sign_up("Dave"), token, revoked["token"]


def test_screenshots_of_the_public_screens(browser: Any, web_server: LiveServer) -> None:
    alice, dave, token, revoked = _public_world(web_server)
    for look, options in LOOKS.items():
        ctx = browser.new_context(**options, **TALL)
        try:
            page = open_signed_in(ctx, web_server, alice)
            page.get_by_test_id("chat-list").get_by_text("Darbuka weekly").click()
            page.get_by_test_id("pinned").filter(has_text="Gig on Friday").wait_for()
            wait_until(lambda p=page: p.locator(".msg .sender").count() == 3
                       and "…" not in p.get_by_test_id("messages").inner_text(),
                       message="signed posts with their authors' names")
            _shoot(page, f"public-channel-{look}")
            page.locator(".conversation .bar button.icon").last.click()
            page.get_by_test_id("publicLink").wait_for()
            page.locator("fieldset.rights legend").filter(has_text="Bob Marley").wait_for()
            page.locator("fieldset.rights").scroll_into_view_if_needed()
            _shoot(page, f"public-info-{look}")
        finally:
            ctx.close()
        ctx = browser.new_context(**options, **TALL)  # Dave's own browser
        try:
            page = open_signed_in(ctx, web_server, dave)
            page.locator(".list .search").fill("darbuka")
            page.get_by_test_id("public-results").get_by_text("Darbuka weekly").wait_for()
            _shoot(page, f"public-search-{look}")
            page.get_by_test_id("public-results").get_by_text("Darbuka weekly").click()
            wait_until(lambda p=page: p.get_by_test_id("public-post").count() == 3
                       and "…" not in p.get_by_test_id("public-preview").inner_text(),
                       message="the preview's posts")
            _shoot(page, f"public-preview-{look}")
            page.goto(f"{web_server.url}/#/join/{token}")
            page.get_by_test_id("invite").get_by_text("Band room").wait_for()
            _shoot(page, f"public-invite-{look}")
            page.goto(f"{web_server.url}/#/join/{revoked}")
            page.get_by_test_id("invite").get_by_role("alert").wait_for()
            _shoot(page, f"public-invite-invalid-{look}")
        finally:
            ctx.close()
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=1)
    try:
        page = open_signed_in(ctx, web_server, dave)
        page.goto(f"{web_server.url}/#/c/darbuka_weekly")
        wait_until(lambda: page.get_by_test_id("public-post").count() == 3
                   and "…" not in page.get_by_test_id("public-preview").inner_text(),
                   message="the preview on a phone")
        _shoot(page, "public-preview-phone")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    finally:
        ctx.close()
