"""Alerts that reach a person: when a removal order or an urgent report arrives, the on-call
list hears of it by e-mail, webhook or a message in a chat — not only whoever has the
moderation page open. A one-hour clock is worthless if nobody sees the order come in.

An alert is raised inside the transaction that receives the order (or makes the item), with
a delivery job per recipient queued in it too: a crash cannot lose one. Orders escalate: an
order still undecided `escalate_operators_ms` after receipt alerts tier 2 (operators), and
after `escalate_everyone_ms` tier 3 (everyone else on the list); the order clocks' periodic
job checks (`OrderService.do_check_clocks`). Raising, escalating and acknowledging are in
the audit chain; deliveries are retried with backoff by the job queue.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any, Literal

import aiosmtplib
import httpx
import orjson

from darbuka.errors import BadRequest, NotFound
from darbuka.kinds import OPERATORS
from darbuka.safety.audit import do_audit
from darbuka.safety.roles import check_staff
from darbuka.services.sending import post_system
from darbuka.services.targets import check_target
from darbuka.services.writer import Tx, Writer
from darbuka.settings import Settings
from darbuka.storage import Database, Stores
from darbuka.storage.rows import UserRow

__all__ = ["ALERT_JOB", "AlertService", "Channel"]

log = logging.getLogger(__name__)

ALERT_JOB = "alert.deliver"
Channel = Literal["email", "webhook", "chat"]
TIERS = (1, 2, 3)


class AlertService:
    def __init__(self, db: Database, stores: Stores, writer: Writer,
                 settings: Settings) -> None:
        self._db = db
        self._stores = stores
        self._writer = writer
        self._settings = settings
        self.escalate_operators_ms = int(settings.alert_escalate_operators_s * 1000)
        self.escalate_everyone_ms = int(settings.alert_escalate_everyone_s * 1000)
        self._http: httpx.AsyncClient | None = None
        # Deliveries made since start, by channel (tests and the metrics).
        self.delivered: dict[str, int] = {"email": 0, "webhook": 0, "chat": 0}

    # -- the on-call list (operators) ---------------------------------------------------

    async def recipients(self, staff: UserRow) -> list[dict[str, Any]]:
        check_staff(staff, OPERATORS)
        async with self._db.read() as conn:
            return [_recipient_view(r) for r in await self._stores.alerts.recipients(conn)]

    async def do_add_recipient(self, staff: UserRow, *, name: str, channel: Channel,
                               target: str, tier: int) -> dict[str, Any]:
        check_staff(staff, OPERATORS)
        target = await self._check(channel, target)

        async def add(tx: Tx) -> dict[str, Any]:
            recipient_id = await tx.stores.alerts.add_recipient(
                tx.conn, name=name, channel=channel, target=target, tier=tier,
                created_by=staff["id"], now=tx.now)
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                           action="alerts.recipient_added", target=f"recipient:{recipient_id}",
                           details={"channel": channel, "tier": tier})
            found = await tx.stores.alerts.recipient(tx.conn, recipient_id)
            assert found is not None  # noqa: S101 - added just above
            return _recipient_view(found)

        return await self._writer.run(add)

    async def do_remove_recipient(self, staff: UserRow, recipient_id: int) -> None:
        check_staff(staff, OPERATORS)

        async def remove(tx: Tx) -> None:
            if not await tx.stores.alerts.remove_recipient(tx.conn, recipient_id):
                raise NotFound("no such recipient", code="recipient_not_found")
            await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                           action="alerts.recipient_removed",
                           target=f"recipient:{recipient_id}")

        await self._writer.run(remove)

    async def _check(self, channel: Channel, target: str) -> str:
        target = target.strip()
        if channel == "email":
            if "@" not in target or any(c.isspace() for c in target) or "\n" in target:
                raise BadRequest("target must be an e-mail address", code="invalid_target")
            return target
        if channel == "webhook":
            await check_target(target, allow_private=self._settings.alert_webhook_allow_private,
                               code="invalid_target")
            return target
        if not (target.isascii() and target.isdigit()) or len(target) > 18:
            raise BadRequest("target must be a chat id", code="invalid_target")
        async with self._db.read() as conn:
            if await self._stores.chats.get(conn, int(target)) is None:
                raise NotFound("no such chat", code="chat_not_found")
        return target

    # -- raising, escalating, acknowledging ---------------------------------------------

    async def raise_alert(self, tx: Tx, subject: str, summary: str, *, level: int = 1) -> bool:
        """In the caller's transaction: the alert of `subject` at `level`, delivered to the
        tier of that level (and, at level 1, to nobody else). False if raised already."""
        alert_id = await tx.stores.alerts.add(tx.conn, subject=subject, level=level,
                                              summary=summary, now=tx.now)
        if alert_id is None:
            return False
        recipients = await tx.stores.alerts.recipients(tx.conn, tier=level)
        for recipient in recipients:
            await tx.queue_job(ALERT_JOB, f"alert:{alert_id}:{recipient['id']}",
                               {"alert_id": alert_id, "recipient_id": recipient["id"]})
        await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=None,
                       action="alert.raised", target=subject,
                       details={"alert": alert_id, "level": level,
                                "recipients": [r["id"] for r in recipients]})
        log.warning("alert %s (level %d) about %s to %d recipients: %s", alert_id, level,
                    subject, len(recipients), summary)
        return True

    def escalation_level(self, age_ms: int) -> int:
        """The level an undecided order of this age is due to have reached."""
        if age_ms >= self.escalate_everyone_ms:
            return 3
        if age_ms >= self.escalate_operators_ms:
            return 2
        return 1

    async def recent(self, staff: UserRow) -> list[dict[str, Any]]:
        check_staff(staff)
        async with self._db.read() as conn:
            return [_alert_view(a) for a in await self._stores.alerts.recent(conn)]

    async def do_acknowledge(self, staff: UserRow, alert_id: int) -> dict[str, Any]:
        """A person on call says they have it (recorded; decisions stop escalation)."""
        check_staff(staff)

        async def ack(tx: Tx) -> dict[str, Any]:
            if await tx.stores.alerts.get(tx.conn, alert_id) is None:
                raise NotFound("no such alert", code="alert_not_found")
            if await tx.stores.alerts.acknowledge(tx.conn, alert_id, by=staff["id"],
                                                  now=tx.now):
                await do_audit(tx.conn, tx.stores, now=tx.now, actor_id=staff["id"],
                               action="alert.acknowledged", target=f"alert:{alert_id}")
            found = await tx.stores.alerts.get(tx.conn, alert_id)
            assert found is not None  # noqa: S101 - read just above
            return _alert_view(found)

        return await self._writer.run(ack)

    # -- delivery (the `alert.deliver` job) ---------------------------------------------

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=10, follow_redirects=False)

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def deliver_job(self, payload: dict[str, Any]) -> None:
        async with self._db.read() as conn:
            alert = await self._stores.alerts.get(conn, int(payload["alert_id"]))
            recipient = await self._stores.alerts.recipient(conn, int(payload["recipient_id"]))
        if alert is None or recipient is None:
            return  # the recipient was taken off the list meanwhile
        text = f"Darbuka alert ({_LEVELS[alert['level']]}): {alert['summary']}"
        channel = recipient["channel"]
        if channel == "email":
            await self._email(recipient["target"], text, alert)
        elif channel == "webhook":
            await self._webhook(recipient["target"], alert)
        else:
            await self._writer.run(lambda tx: post_system(
                tx, int(recipient["target"]), {"action": "safety.alert", "text": text,
                                               "alert_id": alert["id"]}))
        self.delivered[channel] += 1

    async def _email(self, address: str, text: str, alert: dict[str, Any]) -> None:
        s = self._settings
        if not s.smtp_host:
            raise RuntimeError("DARBUKA_SMTP_HOST is not set: e-mail alerts cannot go out")
        message = EmailMessage()
        message["From"] = s.smtp_from
        message["To"] = address
        message["Subject"] = f"[Darbuka] {_LEVELS[alert['level']]}: {alert['summary'][:150]}"
        message.set_content(f"{text}\n\nAcknowledge it in the moderation console "
                            f"(alert {alert['id']}).\n")
        await aiosmtplib.send(message, hostname=s.smtp_host, port=s.smtp_port,
                              username=s.smtp_username or None,
                              password=s.smtp_password or None,
                              start_tls=s.smtp_starttls, timeout=20)

    async def _webhook(self, url: str, alert: dict[str, Any]) -> None:
        assert self._http is not None  # noqa: S101 - started with the job runner
        target = await check_target(url, allow_private=self._settings.alert_webhook_allow_private,
                                    code="invalid_target")
        body = orjson.dumps({"type": "darbuka.alert", "alert": _alert_view(alert)})
        # To the address that was checked; the answer's body is never read.
        async with self._http.stream("POST", target.connect_url, content=body,
                                     headers={**target.headers,
                                              "content-type": "application/json"},
                                     extensions=target.extensions) as answer:
            if not 200 <= answer.status_code < 300:
                raise RuntimeError(f"the alert webhook answered {answer.status_code}")


_LEVELS = {1: "new", 2: "escalated to operators", 3: "escalated to everyone on call"}


def _recipient_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "channel", "target", "tier", "created_at")}


def _alert_view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "subject", "level", "summary", "created_at",
                                "acknowledged_at", "acknowledged_by")}
