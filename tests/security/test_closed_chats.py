"""A chat closed by moderation stays closed to the public: no page, no preview, no search
hit, no joining, and its invite links are dead (a review found all of these open)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.helpers import Api
from tests.safety_helpers import staff


def _close(server: LiveServer, owner: Api, chat: dict[str, Any]) -> None:
    moderator = staff(server, "Mona Moderator")
    owner.send(int(chat["id"]), "hello")
    reporter = server.sign_up("Rita Reporter")
    reporter.ok("POST", f"/chats/{chat['id']}/join")
    report = reporter.ok("POST", "/reports", json={"target_type": "chat",
                                                     "target_id": chat["id"],
                                                     "reason": "terrorism"})
    item = next(i for i in moderator.ok("GET", "/moderation/queue")["items"]
                if i["target_type"] == "chat" and i["target_id"] == chat["id"])
    assert report["target_id"] == chat["id"]
    moderator.ok("POST", f"/moderation/items/{item['id']}/decision",
                 json={"action": "close_chat", "ground": "illegal", "reason": "terrorism"})


def test_a_closed_chat_has_no_public_face(server: LiveServer, alice: Api, bob: Api) -> None:
    channel = alice.ok("POST", "/chats", json={"kind": "channel", "title": "Closed Times"})
    alice.ok("PATCH", f"/chats/{channel['id']}", json={"handle": "closedtimes"})
    invite = alice.ok("POST", f"/chats/{channel['id']}/invites", json={})
    # Open before the decision: the page, the preview, search and the invite all work.
    assert httpx.get(f"{server.url}/c/closedtimes").status_code == 200
    assert bob.call("GET", "/public/chats/closedtimes").status_code == 200
    assert bob.ok("GET", "/public/search", params={"q": "closed"})["chats"]
    assert bob.call("GET", f"/invites/{invite['token']}").status_code == 200

    _close(server, alice, channel)

    assert httpx.get(f"{server.url}/c/closedtimes").status_code == 404
    assert bob.call("GET", "/public/chats/closedtimes").status_code == 404
    assert bob.ok("GET", "/public/search", params={"q": "closed"})["chats"] == []
    assert bob.call("GET", f"/invites/{invite['token']}").status_code == 404
    assert bob.call("POST", f"/invites/{invite['token']}/join").status_code == 404
    assert bob.call("POST", f"/chats/{channel['id']}/join").status_code == 404
    # Its members still see it, closed.
    assert alice.ok("GET", f"/chats/{channel['id']}")["closed"] is True
