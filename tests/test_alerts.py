"""Alerts that reach a person: an order's arrival reaches the moderators' chat, a paging
webhook and a real SMTP server on loopback; an undecided order escalates to operators and
then to everyone on the list; every alert and acknowledgement is in the audit chain; the
transparency report gains time to action."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from darbuka.safety.audit import verify_chain
from darbuka.testing import free_port
from tests.botapi_helpers import Receiver
from tests.conftest import LiveServer, make_server
from tests.helpers import Api, wait_until
from tests.safety_helpers import make_authority, order_for, staff


class Mailbox:
    """An SMTP server on loopback that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos),
                                  message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        with self._lock:
            return [m for rcpts, m in self.messages if address in rcpts]


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def paged(database_url: str, tmp_path: Path,
          mailbox: tuple[Mailbox, int]) -> Iterator[LiveServer]:
    srv = make_server(database_url, tmp_path, smtp_host="127.0.0.1", smtp_port=mailbox[1],
                      smtp_starttls=False, smtp_from="alerts@darbuka.test",
                      alert_webhook_allow_private=True)
    yield srv
    srv.thread.stop()


def _add(operator: Api, name: str, channel: str, target: Any, tier: int) -> dict[str, Any]:
    added: dict[str, Any] = operator.ok("POST", "/moderation/alert-recipients", json={
        "name": name, "channel": channel, "target": str(target), "tier": tier})
    return added


def _alert_lines(api: Api, chat_id: int) -> list[str]:
    return [m["system"]["text"] for m in api.history(chat_id)
            if (m.get("system") or {}).get("action") == "safety.alert"]


def test_an_order_alerts_every_channel_and_escalates_until_decided(
        paged: LiveServer, mailbox: tuple[Mailbox, int]) -> None:
    server, (box, _port) = paged, mailbox
    alice, bob = server.sign_up("Alice"), server.sign_up("Bob")
    mod, operator = staff(server, "Mod"), staff(server, "Op", "operator")
    moderators = mod.group("Moderators on call", [operator])
    pager = Receiver()
    try:
        _add(operator, "Moderators' chat", "chat", moderators["id"], 1)
        _add(operator, "Pager", "webhook", pager.url, 1)
        _add(operator, "On call", "email", "oncall@darbuka.test", 1)
        _add(operator, "Operators", "email", "operators@darbuka.test", 2)
        _add(operator, "Everyone", "email", "everyone@darbuka.test", 3)

        post = alice.send(alice.direct(bob)["id"], "an incitement to violence")
        authority = make_authority(server, server.sign_up("Authority"))
        order = authority.ok("POST", "/orders", json=order_for(post, "TCO-77"))

        # Tier 1 hears of it at once, on each channel it chose.
        wait_until(lambda: len(box.to("oncall@darbuka.test")) == 1, timeout=10,
                   message="the e-mail alert")
        mail = box.to("oncall@darbuka.test")[0]
        assert "TCO-77" in mail["Subject"]
        assert mail["From"] == "alerts@darbuka.test"
        assert "TCO-77" in mail.get_payload()
        wait_until(lambda: len(pager.received) == 1, timeout=10, message="the webhook alert")
        hooked = pager.received[0]
        assert hooked["type"] == "darbuka.alert"
        assert hooked["alert"]["subject"] == f"order:{order['id']}"
        assert hooked["alert"]["level"] == 1
        wait_until(lambda: _alert_lines(mod, moderators["id"]), timeout=10,
                   message="the chat alert")
        assert "TCO-77" in _alert_lines(operator, moderators["id"])[0]
        assert box.to("operators@darbuka.test") == []

        # Nobody decides: 15 minutes on, the operators are told; at 45, everyone.
        clocks = server.app.state.services.orders
        server.clock.advance(14 * 60)
        server.run_async(clocks.do_check_clocks())
        server.clock.advance(2 * 60)
        server.run_async(clocks.do_check_clocks())
        server.run_async(clocks.do_check_clocks())  # once per level, however often checked
        wait_until(lambda: len(box.to("operators@darbuka.test")) == 1, timeout=10,
                   message="the first escalation")
        assert "escalated to operators" in box.to("operators@darbuka.test")[0]["Subject"]
        assert box.to("everyone@darbuka.test") == []
        server.clock.advance(30 * 60)
        server.run_async(clocks.do_check_clocks())
        wait_until(lambda: len(box.to("everyone@darbuka.test")) == 1, timeout=10,
                   message="the second escalation")
        # Escalations reach only their own tier; tier 1 heard once.
        assert len(box.to("oncall@darbuka.test")) == 1
        assert len(pager.received) == 1

        # Acknowledged, then decided: no more escalation.
        alerts = mod.ok("GET", "/moderation/alerts")["alerts"]
        assert [a["level"] for a in alerts] == [3, 2, 1]
        acked = mod.ok("POST", f"/moderation/alerts/{alerts[-1]['id']}/ack")
        assert acked["acknowledged_by"] == mod.id
        mod.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    finally:
        pager.close()

    async def audit() -> list[str]:
        runtime = server.app.state.runtime
        async with runtime.db.read() as conn:
            assert (await verify_chain(conn, runtime.stores)).ok
            records = await runtime.stores.safety.audit_records(conn, after=0)
        return [r["action"] for r in records]

    actions = server.run_async(audit())
    assert actions.count("alert.raised") == 3
    assert actions.count("alert.acknowledged") == 1
    assert actions.count("alerts.recipient_added") == 5


def test_the_on_call_list_is_operators_only_and_targets_are_checked(
        server: LiveServer, alice: Api) -> None:
    mod, operator = staff(server, "Mod"), staff(server, "Op", "operator")
    body = {"name": "x", "channel": "email", "target": "a@b.test", "tier": 1}
    assert alice.call("POST", "/moderation/alert-recipients", json=body).status_code == 404
    assert mod.call("POST", "/moderation/alert-recipients", json=body).status_code == 403
    bad = {"email": "not an address", "webhook": "http://127.0.0.1:9/hook",
           "chat": "general"}
    for channel, target in bad.items():
        refused = operator.call("POST", "/moderation/alert-recipients",
                                json={**body, "channel": channel, "target": target})
        assert refused.status_code == 400, (channel, refused.text)
        assert refused.json()["error"]["code"] == "invalid_target"
    assert operator.call("POST", "/moderation/alert-recipients",
                         json={**body, "channel": "chat", "target": "999999"}
                         ).status_code == 404
    assert operator.call("POST", "/moderation/alert-recipients",
                         json={**body, "tier": 4}).status_code == 422
    added = _add(operator, "x", "email", "a@b.test", 1)
    assert [r["id"] for r in operator.ok("GET", "/moderation/alert-recipients")
            ["recipients"]] == [added["id"]]
    operator.call("DELETE", f"/moderation/alert-recipients/{added['id']}", expect=204)
    assert operator.call("DELETE", f"/moderation/alert-recipients/{added['id']}"
                         ).status_code == 404
    assert mod.call("POST", "/moderation/alerts/12345/ack").status_code == 404


def test_the_transparency_report_shows_time_from_receipt_to_action(
        server: LiveServer, alice: Api, bob: Api) -> None:
    mod = staff(server, "Mod")
    authority = make_authority(server, server.sign_up("Authority"))
    post = alice.send(alice.direct(bob)["id"], "an incitement to violence")
    order = authority.ok("POST", "/orders", json=order_for(post, "TCO-78"))
    server.clock.advance(600)
    mod.ok("POST", f"/moderation/orders/{order['id']}/confirm", json={})
    day = asyncio.run(_today(server))
    report = mod.ok("GET", "/transparency", params={"from": day, "to": day})
    took = report["time_to_action_s"]["order"]
    assert took["count"] == 1
    assert 599 <= took["p50"] == took["p90"] == took["max"] <= 660


async def _today(server: LiveServer) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(server.clock.now_ms() / 1000, UTC).date().isoformat()


def test_a_trusted_flaggers_report_pages_the_on_call_list_once(
        paged: LiveServer, mailbox: tuple[Mailbox, int]) -> None:
    """High-priority items page people too: a trusted flagger's report (a referral) does,
    once per item; an ordinary person's report waits in the queue."""
    server, (box, _port) = paged, mailbox
    alice, bob, carol = (server.sign_up(name) for name in ("Alice", "Bob", "Carol"))
    operator = staff(server, "Op", "operator")
    _add(operator, "On call", "email", "oncall@darbuka.test", 1)
    chat = alice.group("Open", [bob, carol])
    post = alice.send(chat["id"], "a call to violence")
    carol.ok("POST", "/reports", json={"target_type": "message", "target_id": post["id"],
                                       "reason": "terrorism"})
    assert operator.ok("GET", "/moderation/alerts")["alerts"] == []  # it pages nobody
    flagger = make_authority(server, bob, trusted=True)
    flagger.ok("POST", "/reports", json={"target_type": "message", "target_id": post["id"],
                                         "reason": "terrorism"})
    wait_until(lambda: len(box.to("oncall@darbuka.test")) == 1, timeout=10,
               message="the referral's alert")
    assert "trusted flagger" in box.to("oncall@darbuka.test")[0]["Subject"]
    flagger.ok("POST", "/reports", json={"target_type": "message", "target_id": post["id"],
                                         "reason": "violence"})
    alerts = operator.ok("GET", "/moderation/alerts")["alerts"]
    assert [a["subject"].split(":")[0] for a in alerts] == ["item"]
