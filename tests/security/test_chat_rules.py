"""Chat rules and moderation staff: who may change whom, who learns who else is in a
channel, what a removal takes down and what undoing it brings back (a review found each of
these open)."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer
from tests.helpers import Api


def _forbidden(api: Api, method: str, path: str, code: str, **kwargs: Any) -> None:
    answer = api.call(method, path, expect=403, **kwargs)
    assert answer.json()["error"]["code"] == code, answer.text


def test_admins_give_only_the_rights_they_hold_and_change_only_their_own_admins(
        server: LiveServer, alice: Api, bob: Api, carol: Api) -> None:
    dave, erin = server.sign_up("Dave"), server.sign_up("Erin")
    group = alice.group("Rules", [bob, carol, dave, erin])
    gid = group["id"]
    members = f"/chats/{gid}/members"
    for admin in (bob, dave):
        alice.call("PATCH", f"{members}/{admin.id}", json={"role": "admin"}, expect=204)
    alice.ok("PUT", f"{members}/{bob.id}/rights",
             json={"rights": ["add_admins", "remove_members", "write"]})

    # Nobody edits their own rights.
    _forbidden(bob, "PUT", f"{members}/{bob.id}/rights", "cannot_change_self",
               json={"rights": ["add_admins", "remove_members", "write", "pin"]})
    # A promotion by an admin gives at most the promoter's own rights.
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "admin"}, expect=204)
    rights = {m["user_id"]: m.get("rights") for m in alice.ok("GET", members)["members"]}
    assert rights[carol.id] == ["remove_members", "write"]
    assert "pin" not in carol.ok("GET", f"/chats/{gid}")["rights"]
    # Nobody grants a right they lack; taking one away is fine.
    _forbidden(bob, "PUT", f"{members}/{carol.id}/rights", "missing_right",
               json={"rights": ["write", "pin"]})
    assert bob.ok("PUT", f"{members}/{carol.id}/rights",
                  json={"rights": ["write"]})["rights"] == ["write"]
    # Only the owner changes, demotes or removes an admin the owner appointed.
    _forbidden(bob, "PUT", f"{members}/{dave.id}/rights", "not_your_admin",
               json={"rights": []})
    _forbidden(bob, "PATCH", f"{members}/{dave.id}", "not_your_admin",
               json={"role": "member"})
    _forbidden(bob, "DELETE", f"{members}/{dave.id}", "not_your_admin")
    assert dave.ok("GET", f"/chats/{gid}")["role"] == "admin"
    # The admin who appointed one demotes and removes them; the owner changes anyone.
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "member"}, expect=204)
    bob.call("PATCH", f"{members}/{carol.id}", json={"role": "admin"}, expect=204)
    bob.call("DELETE", f"{members}/{carol.id}", expect=204)
    alice.ok("PUT", f"{members}/{bob.id}/rights", json={"rights": ["write"]})
    alice.call("PATCH", f"{members}/{dave.id}", json={"role": "member"}, expect=204)
    # Nobody acts on the owner.
    bob.call("PATCH", f"{members}/{erin.id}", json={"role": "admin"}, expect=403)
    _forbidden(dave, "DELETE", f"{members}/{alice.id}", "not_admin")
