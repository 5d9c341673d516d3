"""A normal user, a moderator and an authority each try every trust-and-safety route outside
their role, read off the OpenAPI schema: every one is refused and changes nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer
from tests.helpers import Api
from tests.safety_helpers import make_authority, order_for, staff

ORDER = order_for({"chat_id": 1, "id": 1})
# (method, path) -> (who may call it, a body). Everyone may use the "safety" routes.
ROUTES: dict[tuple[str, str], tuple[set[str], Any]] = {
    ("GET", "/api/v1/moderation/queue"): ({"moderator", "operator"}, None),
    ("GET", "/api/v1/moderation/items/{item_id}"): ({"moderator", "operator"}, None),
    ("POST", "/api/v1/moderation/items/{item_id}/decision"): (
        {"moderator", "operator"}, {"action": "dismiss"}),
    ("POST", "/api/v1/moderation/items/{item_id}/claim"): ({"moderator", "operator"}, None),
    ("DELETE", "/api/v1/moderation/items/{item_id}/claim"): ({"moderator", "operator"}, None),
    ("GET", "/api/v1/moderation/items/{item_id}/media/{variant}"): (
        {"moderator", "operator"}, None),
    ("GET", "/api/v1/moderation/settings"): ({"moderator", "operator"}, None),
    ("PUT", "/api/v1/moderation/settings"): ({"moderator", "operator"}, {"blur": False}),
    ("GET", "/api/v1/moderation/preserved-copies"): ({"operator"}, None),
    ("GET", "/api/v1/moderation/appeals"): ({"moderator", "operator"}, None),
    ("POST", "/api/v1/moderation/appeals/{appeal_id}/decision"): (
        {"moderator", "operator"}, {"outcome": "reversed"}),
    ("POST", "/api/v1/moderation/orders/{order_id}/confirm"): ({"moderator", "operator"}, {}),
    ("POST", "/api/v1/moderation/orders/{order_id}/refuse"): (
        {"moderator", "operator"}, {"reason": "manifest_error"}),
    ("POST", "/api/v1/moderation/orders/by-mail"): ({"operator"}, ORDER),
    ("GET", "/api/v1/moderation/preserved"): ({"operator"}, None),
    ("GET", "/api/v1/moderation/preserved/{copy_id}"): ({"operator"}, None),
    ("POST", "/api/v1/moderation/preserved/{copy_id}/extend"): ({"operator"}, {"days": 9}),
    ("GET", "/api/v1/moderation/alert-recipients"): ({"operator"}, None),
    ("POST", "/api/v1/moderation/alert-recipients"): (
        {"operator"}, {"name": "x", "channel": "email", "target": "a@b.test"}),
    ("DELETE", "/api/v1/moderation/alert-recipients/{recipient_id}"): ({"operator"}, None),
    ("GET", "/api/v1/moderation/alerts"): ({"moderator", "operator"}, None),
    ("POST", "/api/v1/moderation/alerts/{alert_id}/ack"): ({"moderator", "operator"}, None),
    ("POST", "/api/v1/orders"): ({"authority", "operator"}, ORDER),
    ("GET", "/api/v1/orders"): ({"authority", "moderator", "operator"}, None),
    # The authority calling below did not send this order: it is not theirs to see.
    ("GET", "/api/v1/orders/{order_id}"): ({"moderator", "operator"}, None),
    ("POST", "/api/v1/orders/{order_id}/withdraw"): ({"operator"}, None),
}


def guarded_routes(server: LiveServer) -> set[tuple[str, str]]:
    schema = server.app.openapi()
    return {(method.upper(), path) for path, ops in schema["paths"].items()
            for method, op in ops.items() if op.get("tags", [""])[0] in ("moderation", "orders")}


def test_every_guarded_route_is_in_the_table(server: LiveServer) -> None:
    assert guarded_routes(server) == set(ROUTES), "add the new safety route to ROUTES"


def _state(operator: Api) -> Any:
    """Queue, orders, appeals and alerts, without the clocks (they tick while the test runs)."""
    rows = (operator.ok("GET", "/moderation/queue")["items"]
            + operator.ok("GET", "/orders")["orders"]
            + operator.ok("GET", "/moderation/appeals")["appeals"]
            + operator.ok("GET", "/moderation/alert-recipients")["recipients"]
            + operator.ok("GET", "/moderation/alerts")["alerts"])
    return [{k: v for k, v in row.items() if k != "clock"} for row in rows]


def test_each_role_is_refused_outside_it(server: LiveServer, alice: Api, bob: Api) -> None:
    chat = alice.direct(bob)
    message = alice.send(chat["id"], "ordered")
    authority = make_authority(server, server.sign_up("Authority"))
    other_authority = make_authority(server, server.sign_up("Other authority"))
    order = other_authority.ok("POST", "/orders", json=order_for(message))
    mod, operator = staff(server, "Mod"), staff(server, "Op", "operator")
    reported = alice.send(chat["id"], "reported")
    bob.ok("POST", "/reports", json={"target_type": "message", "target_id": reported["id"],
                                     "reason": "spam"})
    report_item = next(i for i in operator.ok("GET", "/moderation/queue")["items"]
                       if i["source"] == "report")
    decision = mod.ok("POST", f"/moderation/items/{report_item['id']}/decision",
                      json={"action": "remove_message"})
    appeal = alice.ok("POST", "/appeals", json={"statement_id": decision["statement_id"],
                                                "text": "no"})
    copy = operator.ok("GET", "/moderation/preserved",
                       params={"target_type": "message", "target_id": message["id"]})
    recipient = operator.ok("POST", "/moderation/alert-recipients", json={
        "name": "On call", "channel": "email", "target": "oncall@darbuka.test"})
    (alert,) = operator.ok("GET", "/moderation/alerts")["alerts"]  # the order's
    ids = {"item_id": report_item["id"], "order_id": order["id"], "appeal_id": appeal["id"],
           "copy_id": copy["id"], "recipient_id": recipient["id"], "alert_id": alert["id"],
           "variant": "thumb"}
    before = _state(operator)
    callers = {"user": bob, "moderator": mod, "authority": authority}
    for (method, template), (allowed, body) in ROUTES.items():
        path = template.removeprefix("/api/v1").format(**ids)
        params = ({"target_type": "message", "target_id": message["id"]}
                  if path == "/moderation/preserved" else None)
        for role, api in callers.items():
            if role in allowed:
                continue
            response = api.call(method, path, json=body, params=params)
            assert response.status_code in (403, 404), (role, method, path, response.text)
            assert set(response.json()["error"]) == {"code", "message"}
    assert _state(operator) == before


def test_own_profile_shows_the_role_and_public_views_do_not(server: LiveServer, alice: Api,
                                                           bob: Api) -> None:
    assert alice.ok("GET", "/me")["role"] == "user"
    mod = staff(server, "Mod")
    assert mod.ok("GET", "/me")["role"] == "moderator"
    # Nobody else learns who the moderators are.
    seen = alice.ok("GET", f"/users/{mod.ok('GET', '/me')['id']}")
    assert "role" not in seen
    assert "phone" not in seen
