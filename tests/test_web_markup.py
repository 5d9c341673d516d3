"""Markup in the web client: ranges styled as spans, never HTML — hostile text inside
ranges stays text; right-to-left text keeps its direction inside a range; shortcuts and
Ctrl+B typed in the composer reach the server as markup, and an edit gives them back."""

from __future__ import annotations

from typing import Any

from tests.browser import open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id, wait_until

IMG = '<img src=x onerror="window.__pwned = 1">'
SCRIPT = "<script>window.__pwned = 1</script>"
HOSTILE_LINK = 'https://example.com/"><img/src=x/onerror=window.__pwned=1>'


def _send(api: Api, chat_id: int, text: str, markup: list[dict[str, Any]]) -> None:
    api.ok("POST", f"/chats/{chat_id}/messages",
           json={"client_id": new_client_id(), "text": text, "markup": markup})


def _open(page: Any) -> None:
    page.get_by_test_id("chat-list").get_by_role("button").first.click()


def test_hostile_markup_and_text_never_become_html(browser: Any,
                                                   web_server: LiveServer) -> None:
    alice, mallory = web_server.sign_up("Alice"), web_server.sign_up("Mallory")
    chat = mallory.direct(alice)
    text = f"{IMG} {SCRIPT} go"
    _send(mallory, chat["id"], text, [
        {"type": "strong", "from": 0, "length": len(IMG)},
        {"type": "monospaced", "from": len(IMG) + 1, "length": len(SCRIPT)},
        {"type": "link", "from": len(text) - 2, "length": 2, "url": HOSTILE_LINK}])
    heading = f"{SCRIPT}\nbody"
    _send(mallory, chat["id"], heading, [
        {"type": "heading", "from": 0, "length": len(SCRIPT)},
        {"type": "highlighted", "from": len(SCRIPT) + 1, "length": 4}])
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        _open(page)
        # Both messages drawn (history may arrive in more than one step).
        page.locator("[data-testid=message] .m-heading").wait_for()
        page.locator("[data-testid=message] .m-strong").wait_for()
        found = page.evaluate("""() => {
            const box = document.querySelector("[data-testid=messages]");
            const texts = [...box.querySelectorAll("[data-testid=message] .text")];
            const style = (sel) => getComputedStyle(box.querySelector(sel));
            return {
                pwned: window.__pwned ?? null,
                elements: [...box.querySelectorAll(".text *")].map(e => e.tagName),
                texts: texts.map(e => e.textContent),
                links: [...box.querySelectorAll(".text a")].map(a => a.href),
                bold: style(".m-strong").fontWeight,
                mono: style(".m-monospaced").fontFamily,
                heading: style(".m-heading").display,
            };
        }""")
        assert found["pwned"] is None
        assert set(found["elements"]) == {"SPAN", "A"}, "ranges are spans, a link an <a>"
        # The heading's newline is the block's own edge: the text reads as sent.
        assert found["texts"] == [text, f"{SCRIPT}body"]
        # The link's URL is an attribute set as a value, quotes and brackets escaped in it.
        (link,) = found["links"]
        assert link.startswith("https://example.com/")
        assert not set(link) & set('"<> ')
        assert found["bold"] == "700"
        assert "monospace" in found["mono"]
        assert found["heading"] == "block"
    finally:
        ctx.close()


def test_right_to_left_text_keeps_its_direction_in_a_range(browser: Any,
                                                           web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = bob.direct(alice)
    # "Hello world" in Arabic, its first word bold: in a right-to-left line it is on the right.
    _send(bob, chat["id"], "مرحبا بالعالم", [{"type": "strong", "from": 0, "length": 5}])
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        _open(page)
        page.locator("[data-testid=message] .m-strong").wait_for()
        where = page.evaluate("""() => {
            const bold = document.querySelector("[data-testid=message] .m-strong");
            const rest = document.createRange();
            rest.selectNodeContents(bold.parentElement);
            rest.setStartAfter(bold);
            return {dir: getComputedStyle(bold).direction,
                    bold: bold.getBoundingClientRect().left,
                    rest: rest.getBoundingClientRect().left};
        }""")
        assert where["dir"] == "rtl"
        assert where["bold"] > where["rest"], "the first word reads first: on the right"
    finally:
        ctx.close()


def test_shortcuts_in_the_composer_send_markup(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, alice)
        _open(page)
        box = page.get_by_label("Message")
        typed = "**bold** and _it_ `a*b` ~~gone~~ 2 * 3 snake_case"
        box.fill(typed)
        page.keyboard.press("Enter")
        wait_until(lambda: len(alice.history(chat["id"])) == 1, message="the send is stored")
        (sent,) = alice.history(chat["id"])
        assert sent["text"] == "bold and it a*b gone 2 * 3 snake_case"
        assert sent["markup"] == [{"type": "strong", "from": 0, "length": 4},
                                  {"type": "emphasized", "from": 9, "length": 2},
                                  {"type": "monospaced", "from": 12, "length": 3},
                                  {"type": "strikethrough", "from": 16, "length": 4}]
        page.locator("[data-testid=message] .m-strikethrough").wait_for()

        # Ctrl+B and Ctrl+E wrap the selection; the markers never reach the text.
        box.fill("loud")
        box.select_text()
        page.keyboard.press("Control+b")
        assert box.input_value() == "**loud**"
        page.keyboard.press("End")
        box.press_sequentially(" x")
        page.keyboard.press("Shift+ArrowLeft")
        page.keyboard.press("Control+e")
        assert box.input_value() == "**loud** `x`"
        page.keyboard.press("Enter")
        wait_until(lambda: len(alice.history(chat["id"])) == 2, message="the second send")
        second = alice.history(chat["id"])[-1]
        assert (second["text"], second["markup"]) == ("loud x", [
            {"type": "strong", "from": 0, "length": 4},
            {"type": "monospaced", "from": 5, "length": 1}])

        # Editing gives the shortcuts back, and the edit's markup replaces the old.
        row = page.get_by_test_id("message").filter(has_text="loud")
        row.hover()
        row.get_by_role("button", name="Edit").click()
        assert box.input_value() == "**loud** `x`"
        box.fill("now _quiet_")
        page.keyboard.press("Enter")
        wait_until(lambda: alice.history(chat["id"])[-1]["text"] == "now quiet",
                   message="the edit is stored")
        assert alice.history(chat["id"])[-1]["markup"] == [
            {"type": "emphasized", "from": 4, "length": 5}]
    finally:
        ctx.close()
