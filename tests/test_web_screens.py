"""The web client's main screens as pictures (light, dark, Arabic, a narrow phone), written
to test-artifacts/web/ for people to look at, and a 10,000-message history that keeps only
what is on screen in the page."""

from __future__ import annotations

from typing import Any

from tests.browser import ARTIFACTS, LOOKS, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until

PHONE = {"viewport": {"width": 390, "height": 780}, "device_scale_factor": 1}


def _a_busy_group(server: LiveServer) -> Api:
    alice, bob, carol = (server.sign_up(n) for n in ("Alice", "Bob Marley", "Carol"))
    chat = alice.group("Darbuka band", [bob, carol], description="Rehearsals and gigs")
    first = bob.send(chat["id"], "Rehearsal on Friday at 19:00? Map: https://example.com/map")
    alice.send(chat["id"], "Works for me!", reply_to=first["id"])
    carol.send(chat["id"], "مرحبا! سأحضر الطبلة")
    bob.send(chat["id"], "A longer message to see how text wraps inside a bubble on a narrow "
                         "phone screen, with <b>tags</b> that stay text.")
    alice.direct(carol)
    carol.send(alice.direct(carol)["id"], "See you there")
    alice.ok("POST", "/chats", json={"kind": "channel", "title": "Band news"})
    return alice


def _named_messages(page: Any) -> int:
    if "…" in page.get_by_test_id("messages").inner_text():
        return 0  # a name still on its way
    count: int = page.locator("[data-testid=message]").count()
    return count


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_screenshots_of_the_main_screens(browser: Any, web_server: LiveServer) -> None:
    alice = _a_busy_group(web_server)
    for look, options in LOOKS.items():
        ctx = browser.new_context(**options)
        try:
            page = open_signed_in(ctx, web_server, alice)
            page.get_by_text("Darbuka band").wait_for()
            page.get_by_text("Darbuka band").click()
            wait_until(lambda p=page: _named_messages(p) >= 4,
                       message="the group's messages, with their senders' names")
            if look == "arabic":
                assert page.evaluate("document.documentElement.dir") == "rtl"
            _shoot(page, f"chat-{look}")
            page.locator("button[aria-current=true]").focus()  # keyboard focus shows
            page.locator(".conversation .bar button.icon").last.click()
            page.locator(".members li").nth(2).wait_for()
            _shoot(page, f"info-{look}")
        finally:
            ctx.close()

    ctx = browser.new_context(**PHONE)
    try:
        page = ctx.new_page()
        page.goto(web_server.url)
        page.get_by_label("Phone number").wait_for()
        _shoot(page, "sign-in-phone")
        page.close()
        page = open_signed_in(ctx, web_server, alice)
        page.get_by_text("Darbuka band").wait_for()
        _shoot(page, "chats-phone")
        # Nothing sticks out sideways on a narrow screen (long previews once did).
        assert page.evaluate("""() => [...document.querySelectorAll(".list, .list button")]
            .every(e => e.getBoundingClientRect().right <= innerWidth)""")
        page.get_by_label("Search chats").fill("BAND")
        wait_until(lambda: page.get_by_test_id("chat-list").get_by_role("button").count() == 2,
                   message="the search keeps the two chats named 'band'")
        page.get_by_text("Darbuka band").click()
        page.get_by_label("Message").fill("Typed on a phone")
        _shoot(page, "chat-phone")
    finally:
        ctx.close()
    assert {p.name for p in ARTIFACTS.glob("*.png")} >= {
        "chat-light.png", "chat-dark.png", "chat-arabic.png", "chats-phone.png"}


FAKE_CHAT = 9_000_000
HISTORY = 10_000


def test_ten_thousand_messages_keep_the_page_small(browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        # A long history put straight into the client's store, as years of sync would.
        page.evaluate("""async ([chatId, n, me]) => {
            const req = indexedDB.open("darbuka", 1);
            await new Promise(ok => req.onsuccess = ok);
            const db = req.result;
            const tx = db.transaction(["chats", "messages"], "readwrite");
            const last = {id: chatId * 100 + n, chat_id: chatId, seq: n, sender_id: me,
                          text: "message " + n, created_at: Date.now()};
            tx.objectStore("chats").put({id: chatId, kind: "group", title: "Ten thousand",
                description: "", owner_id: me, public: false, member_count: 1, last_seq: n,
                created_at: 0, role: "owner", last_read_seq: n, unread_count: 0,
                last_message: last});
            for (let seq = 1; seq <= n; seq++) {
                const long = seq % 7 ? "" : " — a longer line that wraps onto more rows ".repeat(4);
                tx.objectStore("messages").put({id: chatId * 100 + seq, chat_id: chatId, seq,
                    sender_id: seq % 3 ? me : 1, text: "message " + seq + long,
                    created_at: Date.now() - (n - seq) * 60000});
            }
            await new Promise(ok => tx.oncomplete = ok);
            db.close();
        }""", [FAKE_CHAT, HISTORY, alice.id])
        page.reload()
        page.get_by_text("Ten thousand").click()
        page.locator(f"[data-seq='{HISTORY}']").wait_for()
        result = page.evaluate("""async () => {
            const box = document.querySelector("[data-testid=messages]");
            const frame = () => new Promise(ok => requestAnimationFrame(() => ok()));
            const deadline = performance.now() + 60000;
            // Scroll up until the first message is on screen: history loads page by page.
            const loading = performance.now();
            while (!box.querySelector("[data-seq='1']") && performance.now() < deadline) {
                box.scrollTop = 0;
                await frame();
            }
            const top = !!box.querySelector("[data-seq='1']");
            const loaded = performance.now() - loading;
            const frames = [];
            let most = 0;
            const height = box.scrollHeight;
            for (let y = 0; y < height; y += height / 50) {  // 50 jumps through the history
                const start = performance.now();
                box.scrollTop = y;
                await frame();
                await frame();
                frames.push(performance.now() - start);
                most = Math.max(most, box.querySelectorAll("[data-testid=message]").length);
            }
            frames.sort((a, b) => a - b);
            return {top, loaded, most, height, steps: frames.length,
                    median: frames[frames.length >> 1], worst: frames[frames.length - 1]};
        }""")
        print(f"\n10,000 messages: loaded by scrolling up in {result['loaded']:.0f} ms; "
              f"{result['steps']} jumps through it, at most {result['most']} messages in the "
              f"page; median {result['median']:.0f} ms, worst {result['worst']:.0f} ms per jump "
              f"(two frames)")
        assert result["top"], "scrolled up to the first of 10,000 messages"
        assert result["height"] > HISTORY * 40, "the whole history has its height"
        assert result["most"] <= 80, "only what is on screen (and a margin) is in the page"
    finally:
        ctx.close()
