"""A caption on media that a bank's new hash holds for review is found by nobody from the
holding transaction on, and is found again when a moderator lets the media go."""

from __future__ import annotations

from tests.conftest import LiveServer
from tests.helpers import Api, new_client_id
from tests.safety_helpers import staff
from tests.test_banks_retro import import_list, pdq_csv, scans_done
from tests.test_mediasafety import encoded, photo, settled
from tests.test_search import found, indexed


def test_a_held_medias_caption_leaves_the_index_until_released(
        server: LiveServer, alice: Api, bob: Api) -> None:
    group = alice.group("friends", [bob])
    media = settled(alice, encoded(photo("chelsea")))
    posted = alice.ok("POST", f"/chats/{group['id']}/messages", json={
        "client_id": new_client_id(), "media_id": media["id"], "text": "sunset harbour"})
    assert found(bob, "harbour") == [posted["id"]]
    operator = staff(server, "Op", role="operator")
    operator.ok("POST", "/safety/banks", json={"name": "to-check", "action": "review"})
    import_list(operator, "to-check", pdq_csv("chelsea"))
    assert scans_done(operator, "to-check")[0]["matched"] == 1
    assert found(bob, "harbour") == [] == indexed(server, bob, "harbour")
    assert indexed(server, alice, "sunset") == []

    mod = staff(server, "Mod")
    (item,) = mod.ok("GET", "/moderation/queue")["items"]
    mod.ok("POST", f"/moderation/items/{item['id']}/decision", json={"action": "dismiss"})
    assert found(bob, "harbour") == [posted["id"]] == indexed(server, bob, "harbour")
