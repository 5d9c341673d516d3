"""The web client's reactions, @mentions and channel view counters in a real browser, live
between two people, and as pictures (light, dark, Arabic) in test-artifacts/web/."""

from __future__ import annotations

import json
from typing import Any

from tests.browser import ARTIFACTS, LOOKS, STORED, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

THUMBS = "👍"


def _named(server: LiveServer, name: str, username: str) -> Api:
    api = server.sign_up(name)
    api.user = api.ok("PATCH", "/me", json={"username": username})
    return api


def _open(page: Any, title: str) -> None:
    page.get_by_test_id("chat-list").get_by_text(title, exact=True).click()


def _chip(page: Any, text: str, emoji: str) -> dict[str, Any] | None:
    """The reaction chip of `emoji` under the message `text`: its count and pressed state."""
    found: dict[str, Any] | None = page.evaluate(
        """([text, emoji]) => {
            const row = [...document.querySelectorAll("[data-testid=message]")]
                .find(m => m.querySelector(".text")?.textContent === text);
            const chip = row?.querySelector(`[data-emoji="${emoji}"]`);
            if (!chip) return null;
            return {count: +chip.querySelector(".n").textContent,
                    pressed: chip.getAttribute("aria-pressed") === "true",
                    mine: chip.classList.contains("mine")};
        }""", [text, emoji])
    return found


def _has_chip(page: Any, text: str, emoji: str, count: int, mine: bool) -> bool:
    return _chip(page, text, emoji) == {"count": count, "pressed": mine, "mine": mine}


def test_reactions_live_toggle_and_after_a_reload(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    group = alice.group("Band", [bob])
    text = "Gig tonight?"
    message = bob.send(group["id"], text)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        _open(a, "Band")
        _open(b, "Band")
        a.get_by_test_id("messages").get_by_text(text).wait_for()
        b.get_by_test_id("messages").get_by_text(text).wait_for()

        # A reacts by keyboard: the message's React action opens the quick picker with the
        # first emoji focused; the arrows walk it and Enter picks.
        a.get_by_test_id("messages").get_by_text(text).hover()
        a.get_by_role("button", name="React", exact=True).click()
        picker = a.get_by_role("toolbar", name="React with")
        assert picker.get_by_role("button").count() == 6
        a.keyboard.press("ArrowRight")
        a.keyboard.press("ArrowLeft")
        assert a.evaluate("document.activeElement.getAttribute('aria-label')") == \
            f"React with {THUMBS}"
        a.keyboard.press("Enter")
        assert picker.count() == 0, "the picker closes once used"
        wait_until(lambda: _has_chip(b, text, THUMBS, 1, mine=False), timeout=10,
                   message="B sees A's reaction live")

        # B adds the same: two, highlighted for B (and for A, whose reaction it also is).
        b.locator(f"[data-emoji='{THUMBS}']").click()
        wait_until(lambda: _has_chip(b, text, THUMBS, 2, mine=True), message="B's is counted")
        wait_until(lambda: _has_chip(a, text, THUMBS, 2, mine=True), timeout=10,
                   message="A sees B's reaction live")

        # A takes hers back.
        a.locator(f"[data-emoji='{THUMBS}']").click()
        wait_until(lambda: _has_chip(a, text, THUMBS, 1, mine=False), message="A's is gone")
        wait_until(lambda: _has_chip(b, text, THUMBS, 1, mine=True), timeout=10,
                   message="B sees A's removal live")

        b.reload()
        _open(b, "Band")
        wait_until(lambda: _has_chip(b, text, THUMBS, 1, mine=True), timeout=10,
                   message="B's reaction is still shown after a reload")
        summary = alice.ok("GET", f"/chats/{group['id']}/reactions",
                           params={"ids": str(message["id"])})["messages"][0]["reactions"]
        assert summary == [{"emoji": THUMBS, "count": 1, "mine": False}]

        # A message that arrives live has no reactions to fetch: they come as events.
        asked: list[str] = []
        b.on("request", lambda r: asked.extend(r.url.split("ids=")[1].split(","))
             if "/reactions?ids=" in r.url else None)
        late = alice.send(group["id"], "One more")
        b.get_by_test_id("messages").get_by_text("One more").wait_for()
        alice.ok("PUT", f"/chats/{group['id']}/messages/{late['id']}/reactions",
                 json={"emoji": "🎉"})
        wait_until(lambda: _has_chip(b, "One more", "🎉", 1, mine=False), timeout=10,
                   message="B sees the reaction to a message that came live")
        assert str(late["id"]) not in asked
    finally:
        a_ctx.close()
        b_ctx.close()


def test_channel_reactions_reach_a_subscriber_as_counts(browser: Any,
                                                        web_server: LiveServer) -> None:
    alice, bob, carol = (web_server.sign_up(n) for n in ("Alice", "Bob", "Carol"))
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Daily",
                                               "member_ids": [bob.id, carol.id]})
    text = "Morning post"
    post = alice.send(channel["id"], text)
    reactions = f"/chats/{channel['id']}/messages/{post['id']}/reactions"
    ctx = browser.new_context()
    try:
        b = open_signed_in(ctx, web_server, bob)
        _open(b, "Daily")
        b.get_by_test_id("messages").get_by_text(text).wait_for()
        # Bob hears only counts (`reaction.counts`), never who: they are set as they come.
        carol.ok("PUT", reactions, json={"emoji": THUMBS})
        wait_until(lambda: _has_chip(b, text, THUMBS, 1, mine=False), timeout=10,
                   message="Bob sees Carol's reaction as a count")
        b.locator(f"[data-emoji='{THUMBS}']").click()
        wait_until(lambda: _has_chip(b, text, THUMBS, 2, mine=True), message="Bob's counts")
        carol.ok("DELETE", reactions, params={"emoji": THUMBS})
        wait_until(lambda: _has_chip(b, text, THUMBS, 1, mine=True), timeout=10,
                   message="the counts keep which one is Bob's")
        # A post that came live has nothing fetched: its counts come as events too.
        late = alice.send(channel["id"], "Evening post")
        b.get_by_test_id("messages").get_by_text("Evening post").wait_for()
        carol.ok("PUT", f"/chats/{channel['id']}/messages/{late['id']}/reactions",
                 json={"emoji": "🎉"})
        wait_until(lambda: _has_chip(b, "Evening post", "🎉", 1, mine=False), timeout=10,
                   message="Bob sees the counts of a post that came live")
    finally:
        ctx.close()


def _mention_spans(page: Any) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = page.eval_on_selector_all(
        "[data-testid=messages] .text .mention",
        "els => els.map(e => ({text: e.textContent, me: e.classList.contains('me')}))")
    return spans


def test_mention_picked_by_keyboard_badges_and_highlights(browser: Any,
                                                          web_server: LiveServer) -> None:
    alice = _named(web_server, "Alice", "alice_a")
    bob = _named(web_server, "Bea Marley", "bea_m")
    mara = _named(web_server, "Mara", "mara_x")
    carol = _named(web_server, "Carol", "carol_c")
    alice.group("Band", [bob, mara, carol])
    alice.group("Other", [bob])  # B has this one open while A mentions B in "Band"
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        _open(b, "Other")
        _open(a, "Band")
        composer = a.get_by_label("Message")
        composer.press_sequentially("see you @mar")
        options = a.get_by_role("listbox", name="People to mention").get_by_role("option")
        wait_until(lambda: options.count() == 2, message="two members match 'mar'")
        # @username prefix first, then names containing it; Carol does not match.
        assert options.all_inner_texts() == ["Mara\n@mara_x", "Bea Marley\n@bea_m"]
        assert composer.get_attribute("role") == "combobox"
        assert composer.get_attribute("aria-expanded") == "true"
        a.keyboard.press("ArrowDown")
        assert options.nth(1).get_attribute("aria-selected") == "true"
        assert composer.get_attribute("aria-activedescendant") == options.nth(1).get_attribute(
            "id")
        a.keyboard.press("Enter")  # picks; does not send
        assert composer.input_value() == "see you @bea_m "
        assert composer.get_attribute("aria-expanded") == "false"
        composer.press_sequentially("at 8")
        a.keyboard.press("Enter")
        a.wait_for_selector(STORED)

        # B is elsewhere: an @ badge in the list and a toast; opening the chat reads it.
        row = b.get_by_test_id("chat-list").get_by_role("listitem").filter(has_text="Band")
        row.get_by_test_id("mention-badge").wait_for(timeout=10_000)
        assert b.get_by_test_id("chat-list").get_by_test_id("mention-badge").count() == 1
        b.get_by_role("status").filter(has_text="You were mentioned in Band").wait_for()
        _open(b, "Band")
        wait_until(lambda: _mention_spans(b) == [{"text": "@bea_m", "me": True}],
                   message="B's mention stands out")
        wait_until(lambda: row.get_by_test_id("mention-badge").count() == 0,
                   message="the badge goes once the chat is read")
        wait_until(lambda: _mention_spans(a) == [{"text": "@bea_m", "me": False}],
                   message="A sees the mention highlighted, not as her own")
    finally:
        a_ctx.close()
        b_ctx.close()


EVIL_NAME = '<img src=x onerror="window.__pwned=1">'
EVIL_TEXT = '@evil_one <b>bold</b> <img src=x onerror="window.__pwned=1"> @alice_a'


def test_hostile_names_and_mention_text_stay_text(browser: Any, web_server: LiveServer) -> None:
    alice = _named(web_server, "Alice", "alice_a")
    mallory = _named(web_server, EVIL_NAME, "evil_one")
    group = mallory.group("Trap", [alice])
    mallory.send(group["id"], EVIL_TEXT)
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        _open(page, "Trap")
        wait_until(lambda: len(_mention_spans(page)) == 2, message="both mentions drawn")
        page.get_by_label("Message").press_sequentially("@evi")
        option = page.get_by_role("option")
        option.wait_for()
        assert option.inner_text() == f"{EVIL_NAME}\n@evil_one"
        found = page.evaluate("""() => ({
            pwned: window.__pwned ?? null,
            text: document.querySelector("[data-testid=messages] .text").textContent,
            tags: [...document.querySelectorAll(
                "[data-testid=messages] .text *, [role=listbox] *")].map(e => e.tagName),
        })""")
        assert found["pwned"] is None
        assert found["text"] == EVIL_TEXT
        assert set(found["tags"]) <= {"SPAN", "LI", "BDI"}, found["tags"]
        assert _mention_spans(page) == [{"text": "@evil_one", "me": False},
                                        {"text": "@alice_a", "me": True}]
    finally:
        ctx.close()


def _views_shown(page: Any, text: str) -> int | None:
    shown: int | None = page.evaluate(
        """text => {
            const row = [...document.querySelectorAll("[data-testid=message]")]
                .find(m => m.querySelector(".text")?.textContent === text);
            const views = row?.querySelector("[data-testid=views]");
            return views ? +views.textContent.replace(/\\D/g, "") : null;
        }""", text)
    return shown


def _server_views(admin: Api, chat_id: int, ids: list[int]) -> list[int]:
    found = admin.ok("GET", f"/chats/{chat_id}/reactions",
                     params={"ids": ",".join(map(str, ids))})["messages"]
    return [m["views"] for m in found]


def _scroll_to_top(page: Any) -> None:
    page.evaluate("""async () => {
        const box = document.querySelector("[data-testid=messages]");
        const deadline = performance.now() + 10000;
        while (!box.querySelector("[data-seq='2']") && performance.now() < deadline) {
            box.scrollTop = 0;
            await new Promise(ok => requestAnimationFrame(() => ok()));
        }
        box.scrollTop = 0;
    }""")


def test_channel_views_counted_once_per_subscriber(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "News"})
    cid = channel["id"]
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [bob.id]})
    posts = [alice.send(cid, f"post {n}")["id"] for n in range(1, 31)]
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    sent: list[list[int]] = []
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        _open(a, "News")
        # The admin's own screenful counts once for her; the first post is off screen.
        wait_until(lambda: _views_shown(a, "post 30") == 1, timeout=10,
                   message="the admin's own view of the last post")
        assert _server_views(alice, cid, posts[:1]) == [0]

        b = open_signed_in(b_ctx, web_server, bob)

        def is_views(r: Any) -> bool:
            return bool(r.method == "POST" and r.url.endswith(f"/chats/{cid}/views"))

        # Every batch B sends (requests are reported while the test talks to the browser).
        b.on("request", lambda r: sent.append(json.loads(r.post_data)["message_ids"])
             if is_views(r) else None)
        with b.expect_request(is_views) as first:
            _open(b, "News")
        batch = json.loads(first.value.post_data)["message_ids"]
        assert posts[-1] in batch, "what was on screen counts"
        assert posts[0] not in batch, "what was not, does not"
        wait_until(lambda: _views_shown(a, "post 30") == 2, timeout=30,
                   message="the admin sees the count rise without reloading")
        assert _views_shown(b, "post 30") == 2

        # Subscribers react to posts too; the admin sees it live.
        last = b.get_by_test_id("message").filter(has_text="post 30")
        last.hover()
        last.get_by_role("button", name="React", exact=True).click()
        b.get_by_role("toolbar", name="React with").get_by_role("button").nth(1).click()
        wait_until(lambda: _has_chip(a, "post 30", "❤️", 1, mine=False), timeout=10,
                   message="the admin sees the subscriber's reaction")

        _scroll_to_top(b)
        wait_until(lambda: _server_views(alice, cid, posts[:1]) == [1], timeout=10,
                   message="the first post counted once B scrolled to it")
        # After a reload B reports only what it never reported: the new post.
        b.reload()
        _open(b, "News")
        b.get_by_test_id("messages").get_by_text("post 30", exact=True).wait_for()
        before = len(sent)
        with b.expect_request(is_views) as again:
            new = alice.send(cid, "post 31")["id"]
        assert json.loads(again.value.post_data)["message_ids"] == [new]
        assert sent[before:] == [[new]], "nothing reported twice after the reload"
        wait_until(lambda: _server_views(alice, cid, [posts[0], posts[-1], new]) == [1, 2, 2],
                   timeout=10, message="one view per person: B everywhere, A at the bottom")
        a.reload()
        _open(a, "News")
        wait_until(lambda: _views_shown(a, "post 30") == 2, timeout=10,
                   message="the admin's count after a reload: one per person")
    finally:
        a_ctx.close()
        b_ctx.close()


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_screenshots_of_reactions_and_mentions(browser: Any, web_server: LiveServer) -> None:
    alice = _named(web_server, "Alice", "alice_a")
    bob = _named(web_server, "Bob Marley", "bob_marley")
    carol = _named(web_server, "Carol", "carol_c")
    group = alice.group("Darbuka band", [bob, carol])
    first = bob.send(group["id"], "Rehearsal on Friday at 19:00, @alice_a can you bring "
                                  "the darbuka?")
    second = carol.send(group["id"], "مرحبا @bob_marley! سأحضر الطبلة")
    alice.send(group["id"], "Sure! @carol_c brings the tea")
    for api, message, emoji in ((bob, first, "👍"), (carol, first, "👍"), (alice, first, "🙏"),
                                (bob, second, "❤️"), (alice, second, "❤️")):
        path = f"/chats/{group['id']}/messages/{message['id']}/reactions"
        api.ok("PUT", path, json={"emoji": emoji})
    for look, options in LOOKS.items():
        ctx = browser.new_context(**options)
        try:
            page = open_signed_in(ctx, web_server, alice)
            _open(page, "Darbuka band")
            wait_until(lambda p=page: p.locator("[data-emoji]").count() == 3
                       and "…" not in p.get_by_test_id("messages").inner_text(),
                       message="reactions and names drawn")
            query = "@b" if look != "arabic" else "@c"
            page.locator(".composer textarea").press_sequentially(query)
            page.get_by_role("option").first.wait_for()
            _shoot(page, f"reactions-{look}")
            page.keyboard.press("Escape")
            tea = page.get_by_test_id("message").filter(has_text="the tea")
            tea.hover()
            tea.get_by_role("button", name="React" if look != "arabic" else "تفاعل",
                            exact=True).click()
            page.get_by_role("toolbar").wait_for()
            _shoot(page, f"react-picker-{look}")
        finally:
            ctx.close()
    # On a 360 px phone: the @ badge of a chat where Alice was just mentioned.
    ctx = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = open_signed_in(ctx, web_server, alice)
        bob.send(bob.group("Gigs", [alice, carol])["id"], "@alice_a are you in on Saturday?")
        page.get_by_test_id("mention-badge").wait_for()
        _shoot(page, "mention-badge-phone")
        assert page.evaluate("""() => [...document.querySelectorAll(".list, .list button")]
            .every(e => e.getBoundingClientRect().right <= innerWidth)""")
    finally:
        ctx.close()
    assert {p.name for p in ARTIFACTS.glob("*.png")} >= {
        "reactions-light.png", "reactions-dark.png", "reactions-arabic.png",
        "mention-badge-phone.png"}
