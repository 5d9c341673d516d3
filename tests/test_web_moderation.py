"""The safety screens in the browser: a report made in the UI reaches a moderator's queue, the
removal shows to the author with a statement and an Appeal button, a second moderator
reverses and the message comes back; ordinary users never fetch the moderator chunk; an
authority's order shows with its live clock. Pictures of the moderator screens (light,
Arabic) go to test-artifacts/web/."""

from __future__ import annotations

from typing import Any

from tests.browser import ARTIFACTS, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until
from tests.safety_helpers import make_authority, order_for, staff

SPAM = "Cheap pills, click now"


def _watch(context: Any) -> list[str]:
    """Every URL the context fetches (pages and service worker alike)."""
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    return urls


def _moderation_chunks(urls: list[str]) -> list[str]:
    return [u for u in urls if "/assets/Moderation" in u]


def _open_chat(page: Any) -> None:
    page.get_by_test_id("chat-list").get_by_role("button").first.click()


def _open_moderation(page: Any) -> None:
    page.get_by_test_id("chat-list").wait_for()
    page.get_by_role("button", name="Moderation").click()
    page.get_by_test_id("mod-queue").wait_for(state="attached")


def test_report_remove_appeal_reverse(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    first_mod, second_mod = staff(web_server, "Mod One"), staff(web_server, "Mod Two")
    chat = alice.direct(bob)
    alice.send(chat["id"], SPAM)
    contexts = [browser.new_context() for _ in range(4)]
    a_ctx, b_ctx, m1_ctx, m2_ctx = contexts
    a_urls, b_urls, m1_urls = _watch(a_ctx), _watch(b_ctx), _watch(m1_ctx)
    try:
        a = open_signed_in(a_ctx, web_server, alice)
        b = open_signed_in(b_ctx, web_server, bob)
        _open_chat(a)
        _open_chat(b)
        # Bob reports the message from its menu.
        b.get_by_test_id("messages").get_by_text(SPAM, exact=True).hover()
        b.get_by_test_id("message").get_by_role("button", name="Report").click()
        dialog = b.get_by_role("dialog")
        dialog.get_by_label("Reason").select_option("spam")
        dialog.get_by_label("Note (optional)").fill("unsolicited advertising")
        dialog.get_by_role("button", name="Report").click()
        b.get_by_text("Report sent. Thank you.").wait_for()
        assert bob.ok("GET", "/reports")["reports"][0]["reason"] == "spam"

        # The first moderator finds it in the queue, with its context, and removes it.
        m1 = open_signed_in(m1_ctx, web_server, first_mod)
        _open_moderation(m1)
        card = m1.get_by_test_id("queue-item").filter(has_text=SPAM)
        card.wait_for()
        assert "Alice" in card.inner_text()
        assert "1 reports" in card.inner_text()
        card.get_by_role("button", name="Open").click()
        item = m1.get_by_test_id("mod-item")
        item.get_by_text("unsolicited advertising").wait_for()
        item.get_by_label("Clause of the terms").fill("4.2 No spam")
        item.get_by_label("Facts and circumstances").fill("Mass unsolicited advertising.")
        item.get_by_role("button", name="Decide").click()
        m1.get_by_test_id("mod-queue").wait_for(state="attached")

        # Alice sees the removal, then the statement with its Appeal button, and appeals.
        a.get_by_test_id("messages").get_by_text("Removed by moderators").wait_for()
        assert SPAM not in a.get_by_test_id("messages").inner_text()
        a.get_by_role("button", name="Reports and decisions").click()
        statement = a.get_by_test_id("statement").first
        statement.get_by_text("Mass unsolicited advertising.").wait_for()
        statement.get_by_role("button", name="Appeal").click()
        statement.get_by_label("Why the decision is wrong").fill("It was a joke between friends")
        statement.get_by_role("button", name="Appeal").click()
        a.get_by_text("Appeal sent").wait_for()
        _shoot(a, "statements-light")

        # The moderator who decided may not decide the appeal: the server's reason shows.
        m1.get_by_role("tab", name="Appeals").click()
        m1.get_by_test_id("open-appeal").get_by_role("button", name="Reverse").click()
        m1.get_by_test_id("open-appeal").get_by_role("alert").get_by_text(
            "another moderator must review your own decision").wait_for()

        # A second moderator reverses: the message is back on Alice's screen.
        m2 = open_signed_in(m2_ctx, web_server, second_mod)
        _open_moderation(m2)
        m2.get_by_role("tab", name="Appeals").click()
        m2.get_by_test_id("open-appeal").get_by_text("It was a joke between friends").wait_for()
        m2.get_by_test_id("open-appeal").get_by_role("button", name="Reverse").click()
        m2.get_by_text("No open appeals.").wait_for()
        a.get_by_role("button", name="Back").click()
        a.get_by_test_id("messages").get_by_text(SPAM, exact=True).wait_for()
        assert "Removed by moderators" not in a.get_by_test_id("messages").inner_text()

        # Only staff fetched the moderator chunk.
        assert _moderation_chunks(m1_urls)
        assert not _moderation_chunks(a_urls)
        assert not _moderation_chunks(b_urls)
        assert not a.get_by_role("button", name="Moderation").count()
    finally:
        for ctx in contexts:
            ctx.close()


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _clock_text(page: Any) -> str:
    text: str = page.get_by_test_id("clock").first.inner_text()
    return text


def test_an_order_shows_with_its_live_clock(browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    ordered = alice.send(chat["id"], "Join the attack on Friday")
    reported = alice.send(chat["id"], "مرحبا، هذا إعلان مزعج")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": reported["id"],
                                     "reason": "spam", "note": "<b>not bold</b>"})
    authority: Api = make_authority(web_server, web_server.sign_up("Authority"))
    authority.ok("POST", "/orders", json=order_for(ordered))
    mod = staff(web_server, "Mod")
    ctx = browser.new_context(color_scheme="light", locale="ar-EG")
    try:
        page = open_signed_in(ctx, web_server, mod)
        page.get_by_test_id("chat-list").wait_for()
        page.get_by_role("button", name="الإشراف").click()
        queue = page.get_by_test_id("mod-queue")
        queue.get_by_test_id("clock").wait_for()
        # The order comes first (its priority), with a running one-hour clock.
        first = queue.get_by_test_id("queue-item").first
        assert "Join the attack on Friday" in first.inner_text()
        assert first.get_by_test_id("clock").get_attribute("data-state") == "running"
        before = _clock_text(page)
        wait_until(lambda: _clock_text(page) != before, timeout=3, message="the clock ticks")
        assert queue.get_by_test_id("queue-item").count() == 2
        _shoot(page, "moderation-queue-arabic")

        # The report's item: its note stays text, and the decision form is there.
        queue.get_by_test_id("queue-item").nth(1).get_by_role("button").first.click()
        item = page.get_by_test_id("mod-item")
        item.get_by_text("<b>not bold</b>").wait_for()
        assert not item.locator("b", has_text="not bold").count()
        _shoot(page, "moderation-item-arabic")

        # The order's item offers confirm / refuse; confirming closes it.
        item.get_by_role("button").first.click()  # back
        queue.get_by_test_id("queue-item").first.get_by_role("button").first.click()
        item.get_by_role("button", name="تأكيد الإزالة").click()
        wait_until(lambda: queue.get_by_test_id("queue-item").count() == 1,
                   message="the confirmed order leaves the queue")
        orders = authority.ok("GET", "/orders")["orders"]
        assert orders[0]["state"] != "received"
    finally:
        ctx.close()


CSV = ("signal_type,hash,category\n"
       "md5,d41d8cd98f00b204e9800998ecf8427e,terrorism\n"
       "sha256,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,\n")


def test_operators_manage_banks_and_moderators_only_read(browser: Any,
                                                         web_server: LiveServer) -> None:
    operator = staff(web_server, "Op", "operator")
    mod = staff(web_server, "Mod")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, operator)
        _open_moderation(page)
        page.get_by_role("tab", name="Banks").click()
        page.get_by_label("Name").fill("local-removals")
        page.get_by_label("Category").fill("terrorism")
        page.get_by_role("button", name="Create bank").click()
        banks = page.get_by_test_id("mod-banks")
        banks.get_by_text("local-removals").wait_for()
        page.get_by_label("Banks", exact=True).select_option("local-removals")
        page.get_by_label("CSV file").set_input_files(
            files=[{"name": "hashes.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
        page.get_by_role("button", name="Import a CSV file").click()
        banks.get_by_text("md5 1 · sha256 1 · pdq 0").wait_for()
        assert operator.ok("GET", "/safety/banks/local-removals")["hashes"]["md5"] == 1
    finally:
        ctx.close()
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, mod)
        _open_moderation(page)
        page.get_by_role("tab", name="Banks").click()
        page.get_by_test_id("mod-banks").get_by_text("local-removals").wait_for()
        page.get_by_text("Read-only: only operators change banks.").wait_for()
        assert not page.get_by_role("button", name="Create bank").count()
    finally:
        ctx.close()
