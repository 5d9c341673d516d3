"""Webhook delivery: a long-lived job per subscribed bot (`webhook.deliver`), so a bot
whose server fails or hangs never holds up another's, and each bot's updates go out from one
process at a time, whichever runs it (`services/jobs.py`: if that process dies, another takes
the job over when its lease runs out).

Updates go out in order. A failed POST (anything but 200, or no answer) is retried with
exponential backoff and full jitter until it succeeds or the update is older than
`bot_webhook_max_age_s` (8 hours by default, as TamTam does); then it is dropped and the
next one goes. The bot's marker moves only after delivery, so a job taken over re-sends the
updates of an unfinished batch (at least once, like TamTam). The job ends when the bot has
no subscription left; subscribing again queues it again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import orjson

from darbuka.adapters import Services
from darbuka.backoff import Backoff
from darbuka.botapi.updates import UpdateFeed
from darbuka.errors import ApiError

__all__ = ["WebhookSender"]

log = logging.getLogger("darbuka.botapi.webhooks")


class WebhookSender:
    def __init__(self, svc: Services) -> None:
        self._svc = svc
        self._settings = svc.settings
        self._http: httpx.AsyncClient | None = None
        self._running: set[int] = set()
        # Outcomes, for the metrics: updates taken, POSTs that failed (each retry counts),
        # and updates dropped as too old.
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    @property
    def running(self) -> set[int]:
        """The bots whose webhook this process is sending to now."""
        return set(self._running)

    async def start(self) -> None:
        self._http = httpx.AsyncClient(timeout=self._settings.bot_webhook_timeout_s,
                                       follow_redirects=False)

    async def stop(self) -> None:
        """After the job runner stopped (its jobs are put back for another process)."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def deliver_job(self, payload: dict[str, Any]) -> None:
        """The `webhook.deliver` job of one bot: until it has no subscription."""
        bot_id = int(payload["bot_id"])
        self._running.add(bot_id)
        try:
            while subscriptions := await self._svc.bots.subscriptions(bot_id):
                sub = subscriptions[-1]  # one per bot; a new URL replaced the old
                types = frozenset(orjson.loads(sub["update_types"])) or None
                await self._run(bot_id, sub["url"], types)
        finally:
            self._running.discard(bot_id)

    async def _run(self, bot_id: int, url: str, types: frozenset[str] | None) -> None:
        """Deliver to `url` until the bot's subscription there is gone."""
        feed = UpdateFeed(self._svc)
        marker = int((await self._svc.bots.get(bot_id))["marker"])
        while True:
            try:
                updates, next_marker = await feed.wait(bot_id, marker, device_id=None,
                                                       limit=100, wait_s=30,
                                                       types=types)
                for update in updates:
                    if not await self._deliver(bot_id, url, update):
                        return  # unsubscribed, or the bot revoked, perhaps by another process
                if next_marker != marker:
                    await self._svc.bots.do_commit_marker(bot_id, next_marker)
                    marker = next_marker
                if not updates and not await self._svc.bots.is_subscribed(bot_id, url):
                    return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook sender of bot %s failed; starting again", bot_id)
                await asyncio.sleep(5)

    async def _deliver(self, bot_id: int, url: str, update: dict[str, Any]) -> bool:
        """Post one update until it is taken or too old; False once the subscription is
        gone (asked before every attempt: nothing goes out after a revocation)."""
        settings = self._settings
        backoff = Backoff(base=settings.bot_webhook_retry_base_s,
                          cap=settings.bot_webhook_retry_max_s)
        while True:
            if not await self._svc.bots.is_subscribed(bot_id, url):
                return False
            if await self._post(url, update):
                self.delivered += 1
                return True
            self.failed += 1
            age_s = time.time() - update["timestamp"] / 1000
            if age_s > settings.bot_webhook_max_age_s:
                self.dropped += 1
                log.warning("bot %s: dropping an update its webhook did not take for %.0f s",
                            bot_id, age_s)
                return True
            await asyncio.sleep(backoff.next_delay())

    async def _post(self, url: str, update: dict[str, Any]) -> bool:
        assert self._http is not None  # noqa: S101 - started before any task runs
        try:
            target = await self._svc.bots.webhook_target(url)
            # To the address that was checked, never resolved again; only the status
            # matters, the body is never read (it could be any size).
            async with self._http.stream("POST", target.connect_url,
                                         content=orjson.dumps(update),
                                         headers={**target.headers,
                                                  "content-type": "application/json"},
                                         extensions=target.extensions) as r:
                return r.status_code == 200
        except (httpx.HTTPError, ApiError) as exc:
            log.info("webhook %s failed: %r", url, exc)
            return False
