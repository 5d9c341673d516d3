"""The composition root's third part: a process's background work — the job kinds it runs
and the periodic sweeps — which `darbuka serve` (unless `--no-jobs`) and `darbuka worker`
both run, from the same `Runtime`.

Every kind is a job in the database (`services/jobs.py`), so it survives restarts and runs
in one process at a time however many run jobs: media processing, webhook delivery (a
long-lived job per bot), and the periodic sweeps — order clocks and their alerts, the
preservation purge, expired uploads, idle devices, unreferenced blobs.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from darbuka.botapi import WebhookSender
from darbuka.container import Runtime, build_runtime, open_storage, sweep_stored_files
from darbuka.safety.alerts import ALERT_JOB
from darbuka.safety.banks import SCAN_JOB
from darbuka.services.bots import WEBHOOK_JOB
from darbuka.services.exports import EXPORT_JOB
from darbuka.services.jobs import JobKind, JobRunner, Periodic
from darbuka.services.polls import POLL_CLOSE_JOB
from darbuka.services.push import PUSH_JOB
from darbuka.services.uploads import MEDIA_JOB
from darbuka.settings import Settings

__all__ = ["build_jobs", "run_worker", "start_jobs", "stop_jobs"]

log = logging.getLogger("darbuka")


def build_jobs(runtime: Runtime, webhooks: WebhookSender | None) -> JobRunner:
    """The job runner of one process; `webhooks`: None when this process delivers none."""
    services, settings = runtime.services, runtime.settings
    media = services.media
    kinds = [JobKind(MEDIA_JOB, media.process_job, concurrency=max(1, settings.media_workers),
                     max_attempts=3, give_up=media.give_up_job),
             # Stored media against what a bank gained: one scan at a time, it is CPU-bound.
             JobKind(SCAN_JOB, services.scans.run_job, concurrency=1)]
    # Pushes wait on push services on the network: many at once, retried for a while
    # (a push older than a few minutes is news nobody needs any more).
    kinds.append(JobKind(PUSH_JOB, services.push.deliver_job, concurrency=64,
                         max_attempts=6, retry_base_s=2.0, retry_max_s=60.0,
                         give_up=services.push.give_up_job,
                         still_needed=services.push.still_needed))
    if webhooks is not None:
        # Mostly waiting for updates: as many at once as there are subscribed bots.
        kinds.append(JobKind(WEBHOOK_JOB, webhooks.deliver_job, concurrency=100_000,
                             max_attempts=None, still_needed=services.bots.still_subscribed))
    # A poll closing at its time: the chat hears it.
    kinds.append(JobKind(POLL_CLOSE_JOB, services.polls.close_job, concurrency=4))
    # People's exports of their data: one at a time, they read much and write a zip.
    kinds.append(JobKind(EXPORT_JOB, services.exports.run_job, concurrency=1,
                         max_attempts=3, give_up=services.exports.give_up_job))
    # Paging the on-call list: retried for about an hour (the order's own clock).
    kinds.append(JobKind(ALERT_JOB, services.alerts.deliver_job, concurrency=8,
                         max_attempts=12, retry_base_s=2.0, retry_max_s=300.0))
    sweep = settings.safety_sweep_interval_s
    periodic = [
        # The legal clocks: orders whose hour runs low alert staff.
        Periodic("order-clocks", sweep, services.orders.do_check_clocks),
        Periodic("preservation-purge", sweep, services.preservation.do_purge),
        # Scheduled messages go out within this long of their time.
        Periodic("scheduled-posts", settings.scheduled_check_s,
                 services.scheduled.do_send_due, first_after_s=0),
        Periodic("expired-uploads", 60.0, services.uploads.do_expire, first_after_s=0),
        Periodic("idle-devices", 3600.0, services.auth.do_sweep, first_after_s=0),
    ]
    if settings.blob_sweep_interval_s > 0:
        periodic.append(Periodic("blob-sweep", settings.blob_sweep_interval_s,
                                 lambda: sweep_stored_files(runtime)))
    runner = JobRunner(runtime.db, runtime.stores, runtime.writer, kinds=kinds,
                       periodic=periodic, lease_s=settings.jobs_lease_s,
                       poll_s=settings.jobs_poll_s)
    runtime.writer.on_jobs = runner.wake
    return runner


async def start_jobs(runtime: Runtime, runner: JobRunner,
                     webhooks: WebhookSender | None) -> None:
    await runtime.services.alerts.start()
    if webhooks is not None:
        await webhooks.start()
        # Subscriptions from before deliveries were jobs get theirs.
        await runtime.services.bots.do_queue_deliveries()
    await runner.start()


async def stop_jobs(runtime: Runtime, runner: JobRunner,
                    webhooks: WebhookSender | None) -> None:
    """The runner first: it puts back what runs, while the writer still takes it."""
    await runner.stop()
    await runtime.services.alerts.stop()
    if webhooks is not None:
        await webhooks.stop()
    runtime.services.media.stop()
    await runtime.services.push.stop()


@asynccontextmanager
async def _worker_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    runtime = build_runtime(settings)
    await open_storage(runtime)
    await runtime.bus.start()
    runtime.writer.start()
    await runtime.services.banks.start()  # uploads are screened against the banks
    try:
        yield runtime
    finally:
        await runtime.services.banks.stop()
        await runtime.writer.stop()
        await runtime.bus.stop()
        await runtime.db.dispose()


async def run_worker(settings: Settings) -> None:
    """`darbuka worker`: run jobs, serve nothing, until SIGTERM or SIGINT."""
    async with _worker_runtime(settings) as runtime:
        webhooks = WebhookSender(runtime.services) if settings.bot_webhooks else None
        runner = build_jobs(runtime, webhooks)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stopping.set)
        await start_jobs(runtime, runner, webhooks)
        log.info("darbuka worker %s running jobs: %s", runner.taker,
                 ", ".join(sorted(runner.kinds)))
        try:
            await stopping.wait()
        finally:
            await stop_jobs(runtime, runner, webhooks)
