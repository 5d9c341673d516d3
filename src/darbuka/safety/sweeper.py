"""A background task that watches the legal clocks and the preservation period."""

from __future__ import annotations

import asyncio
import logging

from darbuka.safety.orders import OrderService
from darbuka.safety.preservation import PreservationService

__all__ = ["SafetySweeper"]

log = logging.getLogger(__name__)


class SafetySweeper:
    """Every `interval_s`: alert staff about orders whose hour runs low, purge expired copies.

    With several server processes each one sweeps; that is harmless, because an order is
    alerted once (its `alerted_at` is set in the same transaction) and a purge is idempotent.
    """

    def __init__(self, orders: OrderService, preservation: PreservationService, *,
                 interval_s: float) -> None:
        self._orders = orders
        self._preservation = preservation
        self._interval = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="safety-sweeper")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def sweep(self) -> None:
        await self._orders.do_check_clocks()
        await self._preservation.do_purge()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep()
            except Exception:  # a failed sweep is retried next time; never stop watching
                log.exception("the safety sweep failed")
