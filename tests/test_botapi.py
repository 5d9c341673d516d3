"""The Bot API: tokens, chats, messages, keyboards and callbacks, long polling, webhooks."""

from __future__ import annotations

import time

from tests.botapi_helpers import BotApi, Receiver, make_bot
from tests.conftest import LiveServer
from tests.helpers import Api, wait_until


def test_tokens_stay_on_their_side(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    me = bot.call("GET", "/me")
    assert me["user_id"] == bot.id
    assert me["is_bot"] is True
    assert me["name"] == "Echo"
    header = bot.http.get("/me", params={"access_token": ""},
                          headers={"authorization": bot.token})
    assert header.json()["user_id"] == bot.id
    # A bot's token is no user's; a user's token is no bot's.
    assert Api(server.url, bot.token).call("GET", "/me").status_code == 401
    as_user = BotApi(server.url, alice.token or "", {"id": alice.id})
    error = as_user.call("GET", "/me", expect=401)
    assert error == {"code": "verify.token", "message": error["message"]}
    assert bot.call("GET", "/chats", params={"access_token": "dk_nope"},
                    expect=401)["code"] == "verify.token"


def test_bot_sees_only_its_chats(server: LiveServer, alice: Api, bob: Api) -> None:
    bot = make_bot(server)
    with_bot = alice.group("with bot", [bob])
    alice.ok("POST", f"/chats/{with_bot['id']}/members", json={"user_ids": [bot.id]})
    without = alice.group("private", [bob])
    chats = bot.call("GET", "/chats")["chats"]
    assert [c["chat_id"] for c in chats] == [with_bot["id"]]
    assert chats[0]["type"] == "chat"
    bot.call("GET", f"/chats/{without['id']}", expect=404)
    bot.call("POST", "/messages", params={"chat_id": without["id"]}, json={"text": "hi"},
             expect=404)
    members = bot.call("GET", f"/chats/{with_bot['id']}/members")["members"]
    assert {m["user_id"] for m in members} == {alice.id, bob.id, bot.id}
    admins = bot.call("GET", f"/chats/{with_bot['id']}/members/admins")["members"]
    assert [(m["user_id"], m["is_owner"]) for m in admins] == [(alice.id, True)]


def test_long_polling_keyboard_and_callback(server: LiveServer, alice: Api) -> None:
    bot = make_bot(server)
    chat = alice.ok("POST", "/chats", json={"kind": "direct", "user_id": bot.id})
    first = bot.updates(timeout=5)
    assert [u["update_type"] for u in first["updates"]] == ["bot_started"]
    alice.send(chat["id"], "hello bot")
    got = bot.updates(first["marker"])
    (update,) = got["updates"]
    assert update["update_type"] == "message_created"
    assert update["message"]["body"]["text"] == "hello bot"
    assert update["message"]["sender"]["user_id"] == alice.id
    # Optional fields without a value are left out, as the real servers do.
    assert update["message"]["recipient"] == {"chat_id": chat["id"], "chat_type": "dialog"}
    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [[
        {"type": "callback", "text": "Press me", "payload": "b1"}]]}}
    sent = bot.call("POST", "/messages", params={"chat_id": chat["id"]},
                    json={"text": "Pick", "attachments": [keyboard]})["message"]
    message = alice.history(chat["id"])[-1]
    assert message["keyboard"] == [[{"type": "callback", "text": "Press me", "payload": "b1"}]]
    alice.call("POST", f"/chats/{chat['id']}/messages/{message['id']}/callback",
               json={"payload": "nope"}, expect=404)
    cursor = alice.sync()["cursor"]
    pressed = alice.ok("POST", f"/chats/{chat['id']}/messages/{message['id']}/callback",
                       json={"payload": "b1"})
    # The marker commits: what came before it does not come again.
    (callback,) = bot.updates(got["marker"])["updates"]
    assert callback["update_type"] == "message_callback"
    assert callback["callback"]["callback_id"] == pressed["callback_id"]
    assert callback["callback"]["user"]["user_id"] == alice.id
    assert callback["message"]["body"]["mid"] == sent["body"]["mid"]
    bot.call("POST", "/answers", params={"callback_id": pressed["callback_id"]},
             json={"notification": "done", "message": {"text": "Picked"}})
    events = alice.sync_all(cursor)[0]
    answers = [e for e in events if e["type"] == "bot.answer"]
    assert [(a["callback_id"], a["notification"]) for a in answers] == [
        (pressed["callback_id"], "done")]
    assert alice.history(chat["id"])[-1]["text"] == "Picked"
    bot.call("POST", "/answers", params={"callback_id": "forged"}, json={}, expect=404)


def test_webhook_target_is_checked(server: LiveServer) -> None:
    bot = make_bot(server)
    for url in ("http://127.0.0.1:9/hook", "http://10.0.0.1/x", "ftp://example.org/",
                "http://[::1]/x"):
        error = bot.call("POST", "/subscriptions", json={"url": url}, expect=400)
        assert error["code"] == "invalid.url"


def test_webhooks_retry_and_never_block_each_other(hook_server: LiveServer) -> None:
    server = hook_server
    alice = server.sign_up("Alice")
    failing, healthy = make_bot(server, "Failing"), make_bot(server, "Healthy")
    broken, working = Receiver(status=500), Receiver()
    try:
        failing.call("POST", "/subscriptions", json={"url": broken.url})
        healthy.call("POST", "/subscriptions", json={"url": working.url,
                                                      "update_types": ["message_created"]})
        subs = healthy.call("GET", "/subscriptions")["subscriptions"]
        assert [s["url"] for s in subs] == [working.url]
        assert healthy.call("GET", "/updates", expect=409)["code"] == "webhook.subscribed"
        chat = alice.group("hooks", [])
        alice.ok("POST", f"/chats/{chat['id']}/members",
                 json={"user_ids": [failing.id, healthy.id]})
        for text in ("one", "two", "three"):
            alice.send(chat["id"], text)
        wait_until(lambda: working.texts() == ["one", "two", "three"], timeout=10,
                   message="the healthy bot's webhook")
        assert broken.received == []
        broken.status = 200  # the failing bot's server comes back: retries deliver all
        wait_until(lambda: broken.texts() == ["one", "two", "three"], timeout=10,
                   message="the retried webhook")
        failing.call("DELETE", "/subscriptions", params={"url": broken.url})
        assert failing.call("GET", "/subscriptions")["subscriptions"] == []
    finally:
        broken.close()
        working.close()


def test_pinning(server: LiveServer, alice: Api, bob: Api) -> None:
    bot = make_bot(server)
    chat = alice.group("pins", [bob])
    cid = chat["id"]
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [bot.id]})
    message = alice.send(cid, "read the rules")
    # Only admins pin in a group: bob and the bot are plain members.
    bob.call("PUT", f"/chats/{cid}/pin", json={"message_id": message["id"]}, expect=403)
    bot.call("PUT", f"/chats/{cid}/pin", json={"message_id": message["id"]}, expect=403)
    alice.ok("PATCH", f"/chats/{cid}/members/{bot.id}", json={"role": "admin"})
    bot.call("PUT", f"/chats/{cid}/pin", json={"message_id": str(message["id"])})
    pinned = bot.call("GET", f"/chats/{cid}/pin")["message"]
    assert pinned["body"]["text"] == "read the rules"
    assert bob.ok("GET", f"/chats/{cid}")["pinned_message_id"] == message["id"]
    cursor = bob.sync()["cursor"]
    alice.ok("DELETE", f"/chats/{cid}/pin")
    assert bot.call("GET", f"/chats/{cid}/pin") == {"message": None}
    (event,) = bob.sync_all(cursor)[0]
    assert event["type"] == "chat.updated"
    assert "pinned_message_id" not in event["chat"]
    other = alice.group("other", [])
    foreign = alice.send(other["id"], "elsewhere")
    alice.call("PUT", f"/chats/{cid}/pin", json={"message_id": foreign["id"]}, expect=404)


def test_webhook_gives_up_on_an_update_after_max_age(hook_server: LiveServer) -> None:
    sender = hook_server.app.state.webhooks
    broken = Receiver(status=500)
    try:
        bot = make_bot(hook_server)  # delivery goes on only while the bot is subscribed
        bot.call("POST", "/subscriptions", json={"url": broken.url})
        stale = {"update_type": "message_created", "message": {},
                 "timestamp": int((time.time() - 9 * 3600) * 1000)}
        hook_server.run_async(sender._deliver(bot.id, broken.url, stale))
        assert sender.delivered == 0
        broken.status = 200
        fresh = {**stale, "timestamp": int(time.time() * 1000)}
        hook_server.run_async(sender._deliver(bot.id, broken.url, fresh))
        assert sender.delivered == 1
        assert len(broken.received) == 1
    finally:
        broken.close()
