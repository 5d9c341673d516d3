"""The web client in a real browser: live chat between two people, offline sending, and
text that tries to be HTML. (Slow networks: test_web_slow.py; screens: test_web_screens.py.)"""

from __future__ import annotations

from typing import Any

from tests.browser import STORED, open_signed_in, sign_in_ui
from tests.conftest import LiveServer
from tests.helpers import wait_until


def _bubbles(page: Any) -> list[str]:
    texts: list[str] = page.eval_on_selector_all(
        "[data-testid=messages] [data-testid=message] .text", "els => els.map(e => e.textContent)")
    return texts


def test_two_people_chat_in_real_time(browser: Any, web_server_each_db: LiveServer) -> None:
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a, b = a_ctx.new_page(), b_ctx.new_page()
        sign_in_ui(a, web_server_each_db, "+447700900201")
        b.goto(web_server_each_db.url)
        # The test server's code sender is the console one: the screen says where codes go.
        b.get_by_text("the code is written to the server's log").wait_for()
        sign_in_ui(b, web_server_each_db, "+447700900202")
        b_id = b.evaluate("""async () => {
            const req = indexedDB.open("darbuka", 1);
            await new Promise(ok => req.onsuccess = ok);
            const tx = req.result.transaction("kv");
            const get = tx.objectStore("kv").get("session");
            await new Promise(ok => get.onsuccess = ok);
            return get.result.user.id;
        }""")

        # Profile: a name everyone sees.
        b.get_by_role("button", name="Profile").click()
        b.get_by_label("Name", exact=True).fill("Bea")
        b.get_by_role("button", name="Save").click()
        b.get_by_role("status").filter(has_text="Saved").wait_for()
        b.get_by_role("button", name="Back").first.click()

        a.get_by_role("button", name="New chat").click()
        a.get_by_label("@username or user id of the person").fill(str(b_id))
        a.get_by_role("button", name="Create").click()
        a.get_by_label("Message").fill("hello Bea")
        a.keyboard.press("Enter")
        # Stored (✓); B's open app may already have said delivered (✓✓) by the time we look.
        a.wait_for_selector(STORED)
        b.get_by_test_id("chat-list").get_by_text("hello Bea").wait_for()
        b.get_by_test_id("chat-list").get_by_role("button").first.click()
        wait_until(lambda: _bubbles(b) == ["hello Bea"], message="B sees A's message")
        # B opened the chat at the bottom: A's mark turns to "read".
        a.wait_for_selector("[data-status=read]")
        assert a.get_by_role("heading", name="Bea").is_visible()

        b.get_by_label("Message").press_sequentially("hi")
        a.get_by_text("typing…").wait_for()
        b.get_by_test_id("messages").get_by_text("hello Bea", exact=True).hover()
        b.get_by_role("button", name="Reply").click()
        b.get_by_label("Message").fill(" there")
        b.keyboard.press("Enter")
        wait_until(lambda: _bubbles(a) == ["hello Bea", "there"], message="A sees the reply")
        assert a.locator("[data-testid=message] .quote").inner_text().endswith("hello Bea")

        # Edit and delete reach the other side live.
        a.get_by_test_id("messages").get_by_text("hello Bea", exact=True).hover()
        a.get_by_role("button", name="Edit").click()
        a.get_by_label("Message").fill("hello, Bea")
        a.keyboard.press("Enter")
        wait_until(lambda: "hello, Bea" in _bubbles(b), message="B sees the edit")
        b.get_by_text("edited").wait_for()
        a.get_by_test_id("messages").get_by_text("hello, Bea", exact=True).hover()
        a.get_by_role("button", name="Delete").click()
        b.get_by_test_id("messages").get_by_text("Message deleted", exact=True).wait_for()
    finally:
        a_ctx.close()
        b_ctx.close()


def test_offline_messages_go_once_in_order_after_a_reload(browser: Any,
                                                            web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_test_id("chat-list").get_by_role("button").first.click()
        a.get_by_test_id("chat-list").get_by_role("button").first.click()

        a_ctx.set_offline(True)
        a.wait_for_selector("[data-testid=conn][data-state=offline]")
        texts = [f"offline {i}" for i in range(1, 6)]
        for text in texts:
            a.get_by_label("Message").fill(text)
            a.keyboard.press("Enter")
        # Shown at once, as waiting to be sent.
        wait_until(lambda: a.locator("[data-status=pending]").count() == 5,
                   message="five pending messages")
        a.reload()  # offline: the service worker serves the app, IndexedDB the outbox
        a.get_by_test_id("chat-list").get_by_role("button").first.click()
        wait_until(lambda: _bubbles(a) == texts, message="the outbox survives a reload")
        assert a.locator("[data-status=pending]").count() == 5
        assert alice.history(chat["id"]) == []

        a_ctx.set_offline(False)
        done = STORED
        wait_until(lambda: a.locator(done).count() == 5, timeout=20, message="all five sent")
        wait_until(lambda: _bubbles(b) == texts, timeout=10, message="B gets all five in order")
        stored = [m["text"] for m in bob.history(chat["id"])]
        assert stored == texts, "the server stored each message once, in order"
        assert a.locator("[data-status=pending]").count() == 0
    finally:
        a_ctx.close()
        b_ctx.close()


HOSTILE = [
    '<img src=x onerror="window.__pwned = 1">',
    "<script>window.__pwned = 1</script>",
    "javascript:window.__pwned=1",
    "[click](javascript:window.__pwned=1) data:text/html,<b>x</b>",
    'see https://example.com/a"onmouseover="window.__pwned=1 ok',
    "https://example.com/<svg/onload=window.__pwned=1>",
    "مرحبا بالعالم https://example.org/ar",
    "&lt;b&gt;entities stay text&lt;/b&gt; {@html x} {{x}}",
]


def test_hostile_messages_render_as_plain_text(browser: Any, web_server: LiveServer) -> None:
    alice, mallory = web_server.sign_up("Alice"), web_server.sign_up("Mallory")
    chat = mallory.direct(alice)
    for text in HOSTILE:
        mallory.send(chat["id"], text)
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        wait_until(lambda: _bubbles(page) == HOSTILE, message="every message, as typed")
        found = page.evaluate("""() => {
            const box = document.querySelector("[data-testid=messages]");
            return {
                pwned: window.__pwned ?? null,
                elements: [...box.querySelectorAll(".text *")].map(e => e.tagName),
                links: [...box.querySelectorAll(".text a")]
                    .map(a => [a.getAttribute("href"), a.rel]),
                dirs: [...box.querySelectorAll(".text")].map(e => e.getAttribute("dir")),
            };
        }""")
        assert found["pwned"] is None
        assert set(found["elements"]) == {"A", "SPAN"}, "only links and @mentions do"
        assert page.locator("[data-testid=messages] .text span").all_inner_texts() == ["@html"]
        assert found["links"] == [
            ["https://example.com/a", "noopener noreferrer"],  # a quote ends a link
            ["https://example.com/", "noopener noreferrer"],  # so does "<"
            ["https://example.org/ar", "noopener noreferrer"],
        ]
        assert set(found["dirs"]) == {"auto"}
    finally:
        ctx.close()


def test_a_send_that_fails_for_good_says_why_and_offers_retry(browser: Any,
                                                              web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    original = bob.send(chat["id"], "forward me")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        page.get_by_test_id("messages").get_by_text("forward me").hover()
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=conn][data-state=offline]")
        page.get_by_test_id("message").get_by_role("button", name="Forward").click()
        page.get_by_role("dialog").get_by_role("button").first.click()
        page.wait_for_selector("[data-status=pending]")
        # While Alice is away, the message she forwards is deleted.
        bob.ok("DELETE", f"/chats/{chat['id']}/messages/{original['id']}")
        ctx.set_offline(False)
        why = page.get_by_role("alert")
        why.wait_for(timeout=15_000)
        assert "not a message you can see" in why.inner_text()
        assert page.locator("[data-status=failed]").count() == 1
        page.get_by_role("button", name="Retry").click()  # fails again, for the same reason
        page.get_by_role("alert").wait_for()
        page.get_by_role("button", name="Discard").click()
        wait_until(lambda: page.locator("[data-status=failed]").count() == 0,
                   message="the failed message is gone")
        assert [m.get("forward_of") for m in alice.history(chat["id"])] == [None]
    finally:
        ctx.close()


def test_channels_admins_post_subscribers_read(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Band news",
                                               "public": True})
    a_ctx, b_ctx = browser.new_context(), browser.new_context()
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_role("button", name="New chat").click()
        b.get_by_role("radio", name="Join").check()
        # A public chat without a @name is joined by its id, as its info panel shows it.
        b.get_by_label("Link or @name of the group or channel").fill(str(channel["id"]))
        b.get_by_role("button", name="Join", exact=True).click()
        b.get_by_text("Only admins post in this channel.").wait_for()

        a.get_by_test_id("chat-list").get_by_text("Band news", exact=True).click()
        a.get_by_label("Message").fill("Gig on Saturday")
        a.get_by_role("button", name="Post").click()
        b.get_by_test_id("messages").get_by_text("Gig on Saturday").wait_for()

        # Made an admin, Bob may post too.
        a.get_by_role("button", name="Chat info").click()
        a.get_by_label("Role").select_option("admin")
        a.get_by_label("Title").fill("Band news 2026")
        a.get_by_role("button", name="Save").click()
        b.get_by_role("heading", name="Band news 2026").wait_for()  # live, as chat.updated
        b.get_by_role("button", name="Post").wait_for()
        b.get_by_label("Message").fill("Thanks!")
        b.keyboard.press("Enter")
        wait_until(lambda: [m["text"] for m in alice.history(channel["id"]) if "system" not in m]
                   == ["Gig on Saturday", "Thanks!"], message="both posts stored")
    finally:
        a_ctx.close()
        b_ctx.close()


def test_history_pages_in_from_the_server_as_you_scroll_up(browser: Any,
                                                           web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = bob.direct(alice)
    for i in range(1, 231):
        bob.send(chat["id"], f"line {i}")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_test_id("chat-list").get_by_role("button").first.click()
        page.get_by_test_id("messages").get_by_text("line 230", exact=True).wait_for()
        seqs = page.evaluate("""async () => {
            const box = document.querySelector("[data-testid=messages]");
            const seen = new Set();
            const deadline = performance.now() + 20000;
            while (!box.querySelector("[data-seq='1']") && performance.now() < deadline) {
                box.scrollTop = 0;
                await new Promise(ok => setTimeout(ok, 50));
            }
            // Then down through all of it, noting every message drawn (and any drawn twice).
            let twice = 0;
            for (let y = 0; y <= box.scrollHeight; y += box.clientHeight / 2) {
                box.scrollTop = y;
                await new Promise(ok => requestAnimationFrame(() => ok()));
                const drawn = [...box.querySelectorAll("[data-seq]")].map(e => +e.dataset.seq);
                twice += drawn.length - new Set(drawn).size;
                drawn.forEach(n => seen.add(n));
            }
            return twice ? [] : [...seen].sort((a, b) => a - b);
        }""")
        assert seqs == list(range(1, 231)), "every message once, none missing"
    finally:
        ctx.close()


def test_a_dropped_socket_comes_back_by_itself(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = bob.direct(alice)
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        gateway = web_server.app.state.gateway

        async def cut() -> None:
            for conn in tuple(gateway.connections):
                conn.close_soon(1001)

        web_server.run_async(cut())
        page.wait_for_selector("[data-testid=conn][data-state=connecting]")
        page.wait_for_selector("[data-testid=conn][data-state=online]", timeout=10_000)
        bob.send(chat["id"], "still there?")
        page.get_by_test_id("chat-list").get_by_text("still there?").wait_for()
    finally:
        ctx.close()
