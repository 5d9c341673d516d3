"""A bot is an outsider to every chat it was not added to, and to other bots' callbacks."""

from __future__ import annotations

from tests.botapi_helpers import make_bot
from tests.conftest import LiveServer
from tests.helpers import Api


def test_bot_cannot_reach_foreign_chats_or_messages(server: LiveServer, alice: Api,
                                                    bob: Api) -> None:
    nosy, helper = make_bot(server, "Nosy"), make_bot(server, "Helper")
    chat = alice.group("private", [bob])
    message = alice.send(chat["id"], "secret")
    cid, mid = chat["id"], str(message["id"])
    for method, path, kwargs in [
        ("GET", f"/chats/{cid}", {}),
        ("PATCH", f"/chats/{cid}", {"json": {"title": "mine"}}),
        ("POST", f"/chats/{cid}/actions", {"json": {"action": "typing_on"}}),
        ("GET", f"/chats/{cid}/pin", {}),
        ("GET", f"/chats/{cid}/members", {}),
        ("GET", f"/chats/{cid}/members/me", {}),
        ("DELETE", f"/chats/{cid}/members/me", {}),
        ("GET", f"/chats/{cid}/members/admins", {}),
        ("POST", f"/chats/{cid}/members", {"json": {"user_ids": [nosy.id]}}),
        ("DELETE", f"/chats/{cid}/members", {"params": {"user_id": bob.id}}),
        ("POST", "/messages", {"params": {"chat_id": cid}, "json": {"text": "hi"}}),
        ("PUT", "/messages", {"params": {"message_id": mid}, "json": {"text": "x"}}),
        ("DELETE", "/messages", {"params": {"message_id": mid}}),
        ("GET", "/messages", {"params": {"chat_id": cid}}),
        ("GET", "/messages", {"params": {"message_ids": mid}}),
        ("GET", f"/messages/{mid}", {}),
    ]:
        error = nosy.call(method, path, expect=404, **kwargs)
        assert set(error) == {"code", "message"}, (method, path, error)
    assert nosy.updates(timeout=0)["updates"] == []
    # In a shared chat, a bot still cannot edit a person's message or answer another
    # bot's button presses.
    alice.ok("POST", f"/chats/{cid}/members", json={"user_ids": [nosy.id, helper.id]})
    nosy.call("PUT", "/messages", params={"message_id": mid}, json={"text": "x"}, expect=403)
    keyboard = {"type": "inline_keyboard", "payload": {"buttons": [[
        {"type": "callback", "text": "Go", "payload": "go"}]]}}
    sent = helper.call("POST", "/messages", params={"chat_id": cid},
                       json={"text": "press", "attachments": [keyboard]})["message"]
    pressed = bob.ok("POST", f"/chats/{cid}/messages/{sent['body']['mid']}/callback",
                     json={"payload": "go"})
    nosy.call("POST", "/answers", params={"callback_id": pressed["callback_id"]},
              json={"notification": "mine now"}, expect=404)
    assert [u["update_type"] for u in nosy.updates(timeout=0)["updates"]].count(
        "message_callback") == 0


def test_bad_input_is_a_clean_error(server: LiveServer) -> None:
    bot = make_bot(server)
    for method, path, kwargs in [
        ("POST", "/messages", {"params": {"chat_id": 1}, "content": b"{not json"}),
        ("POST", "/messages", {"params": {"chat_id": 1}, "json": [1, 2]}),
        ("POST", "/messages", {"json": {"text": "no chat"}}),
        ("POST", "/messages", {"params": {"chat_id": "x"}, "json": {"text": "hi"}}),
        ("POST", "/messages", {"params": {"chat_id": 1},
                               "json": {"attachments": [{"type": "image"}]}}),
        ("GET", "/messages/mid.abc", {}),
        ("GET", "/updates", {"params": {"limit": 0}}),
        ("GET", "/updates", {"params": {"marker": -1}}),
        ("PATCH", "/me", {"json": {"name": ""}}),
        ("POST", "/subscriptions", {"json": {"url": 5}}),
    ]:
        response = bot.http.request(method, path, **kwargs)
        assert response.status_code in (400, 404), (method, path, response.text)
        assert set(response.json()) == {"code", "message"}
