"""The moderator console in Chromium: a hash-matched picture shows blurred and in greyscale
until the moderator reveals it, removing the file takes it out of the queue and away from
everyone; claims show to the other moderators; the keyboard shortcuts work, and never while
one types in a field. Fresh profiles, no reloads."""

from __future__ import annotations

from typing import Any

from tests.browser import ARTIFACTS, open_signed_in
from tests.conftest import LiveServer
from tests.helpers import wait_until
from tests.media_helpers import make_video, make_wav, upload_ready
from tests.safety_helpers import staff
from tests.test_banks_retro import import_list, pdq_csv, scans_done
from tests.test_mediasafety import encoded, photo, send_media, settled
from tests.test_web_moderation import _open_moderation


def _filter(page: Any) -> str:
    value: str = page.get_by_test_id("mod-preview").evaluate("e => getComputedStyle(e).filter")
    return value


def test_a_moderator_reveals_a_matched_picture_and_removes_it_for_everyone(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    group = alice.group("Riverside", [bob])
    media = settled(alice, encoded(photo("chelsea")))
    posted = send_media(alice, group["id"], media["id"]).json()
    contexts = [browser.new_context() for _ in range(2)]
    b_ctx, m_ctx = contexts
    try:
        b = open_signed_in(b_ctx, web_server, bob)
        b.get_by_test_id("chat-list").get_by_role("button").first.click()
        b.get_by_test_id("messages").locator("img").first.wait_for()

        # The picture's hash reaches a review bank: the stored copy is held for a moderator.
        operator = staff(web_server, "Op", "operator")
        operator.ok("POST", "/safety/banks", json={"name": "to-check", "action": "review",
                                                     "category": "terrorism"})
        import_list(operator, "to-check", pdq_csv("chelsea"))
        scans_done(operator, "to-check")
        mod = staff(web_server, "Mod")

        page = open_signed_in(m_ctx, web_server, mod)
        _open_moderation(page)
        card = page.get_by_test_id("queue-item").filter(has_text="Hash match")
        card.get_by_role("button", name="Open").click()
        item = page.get_by_test_id("mod-item")
        item.get_by_test_id("mod-matches").get_by_text("to-check").wait_for()
        assert "Riverside" in item.get_by_test_id("mod-appearances").inner_text()
        preview = item.get_by_test_id("mod-preview")
        preview.wait_for()
        wait_until(lambda: preview.evaluate("e => e.complete && e.naturalWidth > 0"),
                   message="the preview loaded")
        veil = _filter(page)
        _shoot(page, "moderation-console-veiled")
        assert "blur" in veil, veil
        assert "grayscale" in veil, veil
        assert preview.get_attribute("data-veiled") == "true"

        item.get_by_role("button", name="Reveal", exact=True).click()
        wait_until(lambda: _filter(page) == "none", message="the picture is revealed")
        assert item.get_by_label("Action").input_value() == "remove_media"
        item.get_by_label("Clause of the terms").fill("4.2 No terrorist content")
        item.get_by_role("button", name="Decide").click()
        page.get_by_text("The queue is empty.").wait_for()
        assert page.get_by_test_id("queue-item").count() == 0

        # Gone for everyone: the member's screen, the file's address, the history.
        b.get_by_test_id("messages").get_by_text("Removed by moderators").wait_for()
        assert bob.call("GET", f"/media/{media['id']}/screen").status_code in (404, 410)
        (shown,) = [m for m in bob.history(group["id"]) if m["id"] == posted["id"]]
        assert shown["removed"]
        assert "media" not in shown
        assert mod.ok("GET", "/moderation/queue")["items"] == []
    finally:
        for ctx in contexts:
            ctx.close()


def test_shortcuts_move_claim_and_decide_but_not_while_typing(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    for text in ("first pills", "second pills"):
        sent = alice.send(chat["id"], text)
        bob.ok("POST", "/reports", json={"target_type": "message", "target_id": sent["id"],
                                         "reason": "spam"})
    mod, other = staff(web_server, "Mod"), staff(web_server, "Other Mod")
    first, second = mod.ok("GET", "/moderation/queue")["items"]
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, mod)
        _open_moderation(page)
        cards = page.get_by_test_id("queue-item")
        cards.nth(1).wait_for()
        selected = page.locator("[data-testid=queue-item][data-selected=true]")
        assert "first pills" in selected.inner_text()

        page.keyboard.press("?")
        page.get_by_test_id("mod-help").get_by_text("c — claim or release").wait_for()
        page.keyboard.press("j")
        wait_until(lambda: "second pills" in selected.inner_text(), message="j moves down")
        page.keyboard.press("c")
        cards.nth(1).get_by_text("Claimed by you").wait_for()
        assert mod.ok("GET", "/moderation/queue")["items"][1]["claimed_by"] == mod.id
        # The other moderator may not take it; what they claim shows here by name.
        assert other.call("POST", f"/moderation/items/{second['id']}/claim").status_code == 409
        other.ok("POST", f"/moderation/items/{first['id']}/claim")
        page.get_by_role("button", name="Refresh").click()
        cards.nth(0).get_by_text("Claimed by Other Mod").wait_for()

        page.keyboard.press("k")
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        item = page.get_by_test_id("mod-item")
        item.get_by_test_id("mod-text").get_by_text("second pills").wait_for()
        # Typed into a field, the letters are text, not shortcuts.
        clause = item.get_by_label("Clause of the terms")
        clause.click()
        page.keyboard.type("rdc?")
        assert clause.input_value() == "rdc?"
        assert item.get_by_label("Action").input_value() == "remove_message"
        assert item.get_by_test_id("mod-claim").get_by_text("Claimed by you").count() == 1
        assert page.get_by_test_id("mod-help").count() == 1  # "?" typed did not toggle it

        item.locator("#item-h").click()  # out of the field
        page.keyboard.press("d")
        assert item.get_by_label("Action").input_value() == "dismiss"
        wait_until(lambda: page.evaluate("document.activeElement.textContent") == "Decide",
                   message="d puts the focus on Decide")
        page.keyboard.press("Enter")
        wait_until(lambda: cards.count() == 1, message="the dismissed item leaves the queue")
        assert "first pills" in cards.first.inner_text()
        (left,) = mod.ok("GET", "/moderation/queue")["items"]
        assert left["id"] == first["id"]
        dismissed = mod.ok("GET", "/moderation/queue?status=dismissed")["items"]
        assert [i["id"] for i in dismissed] == [second["id"]]

        # The filters: the one item left is a report, claimed by the other moderator.
        filters = page.get_by_test_id("mod-filters")
        filters.get_by_label("Kind").select_option("hash_match")
        page.get_by_text("The queue is empty.").wait_for()
        filters.get_by_label("Kind").select_option("report")
        filters.get_by_label("Reason").select_option("spam")
        cards.first.wait_for()
        filters.get_by_label("Assignee").select_option("unclaimed")
        page.get_by_text("The queue is empty.").wait_for()
        filters.get_by_label("Assignee").select_option("")
        cards.first.get_by_text("Claimed by Other Mod").wait_for()
    finally:
        ctx.close()


def _audited(server: LiveServer, action: str) -> int:
    async def read() -> int:
        runtime = server.app.state.runtime
        async with runtime.db.read() as conn:
            records = await runtime.stores.safety.audit_records(conn, after=0)
        return sum(1 for r in records if r["action"] == action)

    return int(server.run_async(read()))


def test_an_operator_enters_an_order_by_hand_answers_it_and_reads_the_copy(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    ordered = alice.send(chat["id"], "<b>Join the attack</b> on Friday")
    operator = staff(web_server, "Op", "operator")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, operator)
        _open_moderation(page)
        page.get_by_role("tab", name="Orders").click()
        page.get_by_text("No orders.").wait_for()
        form = page.get_by_test_id("order-by-mail")
        form.get_by_label("Authority").fill("Bundeskriminalamt (test)")
        form.get_by_label("Issuing state (two letters)").fill("de")
        form.get_by_label("Reference").fill("TCO-MAIL-7")
        form.get_by_label("Issued on").fill("2026-11-30")
        form.get_by_label("Location of the content (link)").fill(
            f"https://chat.example.org/chats/{chat['id']}/messages/{ordered['id']}")
        form.get_by_label("Reason").fill("Glorification of an attack (Art. 2(7)(a)).")
        form.get_by_role("button", name="Enter the order").click()
        order = page.get_by_test_id("order").filter(has_text="TCO-MAIL-7")
        assert order.get_by_test_id("clock").get_attribute("data-state") == "running"
        assert "mail" in order.inner_text()
        (entered,) = operator.ok("GET", "/orders")["orders"]
        assert (entered["channel"], entered["issuing_state"]) == ("mail", "DE")

        order.get_by_role("button", name="Confirm removal").click()
        response = order.get_by_test_id("order-response")
        response.get_by_text("Annex II: carried out").wait_for()
        assert "within_one_hour" in response.inner_text()
        assert operator.ok("GET", "/orders")["orders"][0]["state"] == "executed"

        # The copy the removal kept: listed with its purge date, read (audited), extended.
        page.get_by_role("tab", name="Preserved copies").click()
        copy = page.get_by_test_id("preserved-copy").first
        copy.wait_for()
        purge = copy.get_by_test_id("purge-date").inner_text()
        assert _audited(web_server, "preserved.read") == 0
        copy.get_by_role("button", name="Read").click()
        content = copy.get_by_test_id("preserved-content")
        content.get_by_text("<b>Join the attack</b>", exact=False).wait_for()
        assert not copy.locator("b", has_text="Join the attack").count()  # text, not HTML
        assert _audited(web_server, "preserved.read") == 1
        copy.get_by_label("Days").fill("400")
        copy.get_by_role("button", name="Extend").click()
        wait_until(lambda: copy.get_by_test_id("purge-date").inner_text() != purge,
                   message="the purge date moves")
        (listed,) = operator.ok("GET", "/moderation/preserved-copies")["copies"]
        assert listed["keep_until"] >= listed["preserved_at"] + 399 * 24 * 3600 * 1000
    finally:
        ctx.close()


def test_a_moderators_settings_follow_them_and_change_the_veil(
        browser: Any, web_server: LiveServer) -> None:
    alice = web_server.sign_up("Alice")
    operator = staff(web_server, "Op", "operator")
    operator.ok("POST", "/safety/banks", json={"name": "to-check", "action": "review"})
    import_list(operator, "to-check", pdq_csv("chelsea"))
    assert settled(alice, encoded(photo("chelsea")))["state"] == "held"
    mod = staff(web_server, "Mod")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, mod)
        _open_moderation(page)
        page.get_by_role("tab", name="Settings").click()
        page.get_by_label("Blur pictures and video").uncheck()
        page.get_by_text("Saved").wait_for()
        assert mod.ok("GET", "/moderation/settings")["blur"] is False
    finally:
        ctx.close()
    # Another browser, the same moderator: greyscale only, no blur.
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, mod)
        _open_moderation(page)
        page.get_by_test_id("queue-item").get_by_role("button", name="Open").click()
        preview = page.get_by_test_id("mod-preview")
        preview.wait_for()
        wait_until(lambda: _filter(page) == "grayscale(1)", message="greyscale, not blurred")
        page.get_by_role("button", name="Reveal", exact=True).click()
        wait_until(lambda: _filter(page) == "none", message="revealed")
    finally:
        ctx.close()


def test_a_reported_video_shows_as_its_keyframe_strip_and_plays_muted_and_voice_too(
        browser: Any, web_server: LiveServer) -> None:
    alice, bob = web_server.sign_up("Alice"), web_server.sign_up("Bob")
    chat = alice.direct(bob)
    clip = upload_ready(alice, make_video(3), kind="video", filename="clip.mp4")
    voice = upload_ready(alice, make_wav(2.0), kind="voice", filename="v.wav")
    for media in (clip, voice):
        sent = send_media(alice, chat["id"], media["id"]).json()
        bob.ok("POST", "/reports", json={"target_type": "message", "target_id": sent["id"],
                                         "reason": "violence"})
    mod = staff(web_server, "Mod")
    ctx = browser.new_context()
    try:
        page = open_signed_in(ctx, web_server, mod)
        _open_moderation(page)
        page.get_by_test_id("queue-item").first.get_by_role("button", name="Open").click()
        item = page.get_by_test_id("mod-item")
        strip = item.get_by_test_id("mod-preview")
        wait_until(lambda: strip.evaluate("e => e.complete && e.naturalWidth > 0"),
                   message="the strip loaded")
        assert strip.evaluate("e => e.naturalHeight") == 90
        assert strip.evaluate("e => e.naturalWidth") >= 3 * 120  # one frame a second
        assert "blur" in _filter(page)
        assert not item.locator("video").count()  # nothing plays until asked
        item.get_by_role("button", name="Play the video (muted)").click()
        video = item.locator("video")
        video.wait_for()
        assert video.evaluate("e => e.muted") is True
        assert item.get_by_label("Action").input_value() == "remove_media"
        _shoot(page, "moderation-console-video")

        item.get_by_role("button", name="Back").click()
        page.get_by_test_id("queue-item").nth(1).get_by_role("button", name="Open").click()
        assert not item.locator("audio").count()
        item.get_by_role("button", name="Load the audio (muted)").click()
        audio = item.get_by_test_id("mod-audio")
        audio.wait_for()
        assert audio.evaluate("e => e.muted") is True
    finally:
        ctx.close()


def _shoot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
